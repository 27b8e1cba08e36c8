"""Elasticsearch with security on (a secured node of its own): API keys, the read-only trace user, 401, 403, TLS."""

import asyncio
import io
import os
import pathlib
import shutil
import socket
import subprocess
import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from elastic_transport import TlsError
from elasticsearch import ApiError, AsyncElasticsearch
from hop_indexer.adapters.elastic import ElasticDocStore, StoreUnavailable
from hop_indexer.config import TEMPLATE_PATTERN
from hop_indexer.config import Settings as IndexerSettings
from hop_indexer.indexer import HopIndexer
from hop_indexer.janitor import Janitor
from retriever.adapters.kb_store import KbStore
from retriever.config import Settings as RetrieverSettings
from retriever.domain.articles import KbDoc
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_cli import es_security
from supportmesh_cli.main import run_async
from supportmesh_core import topics
from supportmesh_core.elastic import client_options
from supportmesh_core.kafka import ensure_topics, new_producer
from supportmesh_core.settings import REPO_ROOT

pytestmark = pytest.mark.integration

INFRA = REPO_ROOT / "deploy" / "infra.sh"
HOPS = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SecuredNode:
    """Where the fixture's node listens, its CA and the credentials es-provision made on it."""

    def __init__(self, url: str, ca_file: pathlib.Path, admin_password: str, creds: es_security.Credentials):
        self.url, self.ca_file, self.admin_password, self.creds = url, ca_file, admin_password, creds

    def client(self, **auth) -> AsyncElasticsearch:
        return AsyncElasticsearch(self.url, request_timeout=30, max_retries=0,
                                  **client_options(self.url, ca_file=self.ca_file, **auth))

    def admin(self) -> AsyncElasticsearch:
        return self.client(username=es_security.ADMIN_USER, password=self.admin_password)


@pytest.fixture(scope="session")
def secured_es(tmp_path_factory):
    """A secured node (ES_SECURITY=1 deploy/infra.sh) in a tmp SUPPORTMESH_HOME on free ports, stopped after."""
    home = tmp_path_factory.mktemp("es-security")
    env = {**os.environ, "ES_SECURITY": "1", "SUPPORTMESH_HOME": str(home / "state"),
           "SUPPORTMESH_CERTS_DIR": str(home / "certs"), "SUPPORTMESH_CERT_CLIENTS": "supportmesh-cli",
           "ES_PORT": str(_free_port()), "ES_TRANSPORT_PORT": str(_free_port())}
    env.pop("ES_ADMIN_PASSWORD", None)
    started = time.monotonic()
    run = subprocess.run([str(INFRA), "start", "es"], env=env, capture_output=True, text=True, timeout=600)
    try:
        assert run.returncode == 0, f"secured Elasticsearch did not start:\n{run.stderr[-3000:]}"
        print(f"secured Elasticsearch up in {time.monotonic() - started:.1f}s")
        url = f"https://127.0.0.1:{env['ES_PORT']}"
        ca_file = home / "certs" / "ca.crt"
        admin_password = (home / "state" / "secrets" / "elasticsearch-admin").read_text().strip()

        async def provision() -> es_security.Credentials:
            es = AsyncElasticsearch(url, request_timeout=30, **client_options(
                url, username=es_security.ADMIN_USER, password=admin_password, ca_file=ca_file))
            try:
                return await es_security.provision(es)
            finally:
                await es.close()

        creds = asyncio.run(provision())
        yield SecuredNode(url, ca_file, admin_password, creds)
    finally:
        subprocess.run([str(INFRA), "stop", "es"], env=env, capture_output=True, text=True, timeout=300)
        # The node's data may live under /var/tmp (when the ES user cannot reach the tmp dir): remove it too.
        link = home / "state" / "elasticsearch"
        if link.is_symlink():
            shutil.rmtree(link.resolve(), ignore_errors=True)


async def start_group_at_end(bootstrap: str, group: str) -> None:
    """Commit the end of telemetry.hops for a new group: the indexer then reads only this test's hops."""
    await ensure_topics(bootstrap, [topics.HOPS])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = [TopicPartition(topics.HOPS, p) for p in consumer.partitions_for_topic(topics.HOPS)]
        consumer.assign(parts)
        await consumer.commit(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def produce_hops(bootstrap: str, run: str) -> list[str]:
    producer = new_producer(bootstrap)
    await producer.start()
    tickets = []
    try:
        sends = []
        for i in range(HOPS):
            trace_id = f"5ec{run}{i:04x}".ljust(32, "0")
            tickets.append(f"T-sec-{run}-{i}")
            hop = HopRecord(start_unix_nanos=time.time_ns(), trace_id=trace_id, span_id=f"{run[:10]}{i:06x}",
                            service="it-es-security", action="test", duration_ns=1000, outcome="success",
                            ticket_id=tickets[-1])
            sends.append(await producer.send(topics.HOPS, hop.SerializeToString(), key=trace_id.encode()))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    return tickets


async def count_hops(es: AsyncElasticsearch, prefix: str, tickets: list[str]) -> int:
    """How many of the tickets' hops are searchable; 0 while a just-created index has no active shard (503)."""
    try:
        await es.indices.refresh(index=f"{prefix}-*", allow_no_indices=True)
        return (await es.count(index=f"{prefix}-*", allow_no_indices=True,
                               query={"terms": {"ticket.id": tickets}}))["count"]
    except ApiError as exc:
        if exc.meta.status != 503:
            raise
        return 0


async def test_indexer_with_its_api_key_indexes_hops_and_the_trace_user_finds_them(
        secured_es, kafka_bootstrap, unique, monkeypatch, capsys):
    prefix = f"supportmesh-hops-sec-{unique}"
    settings = IndexerSettings(KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, ELASTICSEARCH_URL=secured_es.url,
                               ELASTICSEARCH_API_KEY=secured_es.creds.indexer_api_key,
                               ELASTICSEARCH_CA_FILE=str(secured_es.ca_file), HOP_INDEX_PREFIX=prefix,
                               HOP_BACKOFF_CAP_S=0.5, CHAOS_ENABLED=False)
    # As app.serve builds it: the store gets the settings' credentials and trust.
    store = ElasticDocStore(settings.elasticsearch_url, TEMPLATE_PATTERN, 5, **settings.elasticsearch_options())
    group = f"it-es-security-{unique}"
    indexer = HopIndexer(settings, store, group_id=group)
    admin = secured_es.admin()
    try:
        await start_group_at_end(kafka_bootstrap, group)
        tickets = await produce_hops(kafka_bootstrap, unique)
        await indexer.start()
        task = asyncio.create_task(indexer.run())
        found = 0
        try:
            async with asyncio.timeout(90):
                while found < HOPS:
                    assert not task.done(), task.exception()
                    await asyncio.sleep(0.5)
                    found = await count_hops(admin, prefix, tickets)
            # The janitor's listing (view_index_metadata) works with the key too: nothing expired today.
            assert await Janitor(store, prefix=prefix, retention_days=14, interval_s=60).sweep() == []
        finally:
            indexer.stop()
            await task
            await indexer.close()
        assert found == HOPS and indexer.dead_lettered == 0

        monkeypatch.setenv("ELASTICSEARCH_USERNAME", secured_es.creds.trace_username)
        monkeypatch.setenv("ELASTICSEARCH_PASSWORD", secured_es.creds.trace_password)
        out = io.StringIO()
        code = await run_async(["trace", tickets[3], "--json", "--es", secured_es.url, "--ca-file",
                                str(secured_es.ca_file), "--index", f"{prefix}-*"], out=out)
        assert code == 0, capsys.readouterr().err
        assert f'"ticket_ids": ["{tickets[3]}"]' in out.getvalue() and '"hop_count": 1' in out.getvalue()
    finally:
        await admin.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
        await admin.close()


async def test_read_only_user_cannot_write_and_the_indexer_key_cannot_read(secured_es, unique):
    reader = secured_es.client(username=secured_es.creds.trace_username, password=secured_es.creds.trace_password)
    writer = secured_es.client(api_key=secured_es.creds.indexer_api_key)
    index = f"supportmesh-hops-sec-{unique}-2026.01.01"
    try:
        with pytest.raises(ApiError) as refused:
            await reader.index(index=index, id="x", document={"message": "not allowed"})
        assert refused.value.meta.status == 403
        with pytest.raises(ApiError) as refused:
            await reader.indices.delete(index="supportmesh-hops-*")
        assert refused.value.meta.status == 403
        # The reader may search the hops (an empty pattern is fine), and nothing outside them.
        assert (await reader.search(index="supportmesh-hops-*", allow_no_indices=True))["hits"]["total"]["value"] >= 0
        with pytest.raises(ApiError) as refused:
            await reader.search(index="supportmesh-kb")
        assert refused.value.meta.status == 403

        await writer.index(index=index, id="x", document={"message": "indexed with the key"})
        with pytest.raises(ApiError) as refused:
            await writer.search(index=index)
        assert refused.value.meta.status == 403
    finally:
        await reader.close()
        await writer.close()
        admin = secured_es.admin()
        await admin.indices.delete(index=index, ignore_unavailable=True)
        await admin.close()


async def test_no_credentials_get_401(secured_es, monkeypatch, capsys):
    anonymous = secured_es.client()
    try:
        with pytest.raises(ApiError) as refused:
            await anonymous.search(index="supportmesh-hops-*")
        assert refused.value.meta.status == 401
    finally:
        await anonymous.close()
    with pytest.raises(ApiError) as refused:
        wrong = secured_es.client(api_key="bm90OmFrZXk=")  # base64 "not:akey"
        try:
            await wrong.search(index="supportmesh-hops-*")
        finally:
            await wrong.close()
    assert refused.value.meta.status == 401

    for name in ("ELASTICSEARCH_API_KEY", "ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    code = await run_async(["trace", "T-anyone", "--es", secured_es.url, "--ca-file", str(secured_es.ca_file)],
                           out=io.StringIO())
    assert code == 2 and "HTTP 401" in capsys.readouterr().err


async def test_a_client_not_trusting_the_ca_fails_with_a_tls_error(secured_es, monkeypatch, capsys):
    # No CA file: the system trust store, which does not hold the local CA.
    untrusting = AsyncElasticsearch(secured_es.url, max_retries=0, **client_options(
        secured_es.url, username=secured_es.creds.trace_username, password=secured_es.creds.trace_password))
    try:
        with pytest.raises(TlsError) as failed:
            await untrusting.search(index="supportmesh-hops-*")
        assert "certificate verify failed" in failed.value.message
    finally:
        await untrusting.close()

    monkeypatch.setenv("ELASTICSEARCH_USERNAME", secured_es.creds.trace_username)
    monkeypatch.setenv("ELASTICSEARCH_PASSWORD", secured_es.creds.trace_password)
    monkeypatch.delenv("ELASTICSEARCH_CA_FILE", raising=False)
    code = await run_async(["trace", "T-anyone", "--es", secured_es.url, "--ca-file", ""], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and "TLS with Elasticsearch failed" in err and "ELASTICSEARCH_CA_FILE" in err
    assert "certificate verify failed" in err

    # hop-indexer's store reports the same as an outage (its hops wait in Kafka), with the reason.
    store = ElasticDocStore(secured_es.url, TEMPLATE_PATTERN, 5,
                            **client_options(secured_es.url, api_key=secured_es.creds.indexer_api_key))
    try:
        with pytest.raises(StoreUnavailable, match="TlsError: .*certificate verify failed"):
            await store.install_template()
    finally:
        await store.close()


async def test_retriever_loads_and_searches_the_kb_with_its_api_key(secured_es, unique):
    settings = RetrieverSettings(ELASTICSEARCH_URL=secured_es.url,
                                 ELASTICSEARCH_API_KEY=secured_es.creds.retriever_api_key,
                                 ELASTICSEARCH_CA_FILE=str(secured_es.ca_file), KB_INDEX=f"supportmesh-kb-sec-{unique}")
    es = AsyncElasticsearch(settings.elasticsearch_url, request_timeout=60, **settings.elasticsearch_options())
    kb = KbStore(es, settings.kb_index)
    docs = [KbDoc(id=f"sec-{i}", title=f"Reset the printer {i}", description="", product_area="office",
                  applies_to=[], body="Turn the printer off and on again.", url="", resolution="") for i in range(3)]
    try:
        report = await kb.ensure_loaded(docs)
        assert report.loaded and await kb.count() == 3
        hits = await kb.search({"query": {"match": {"title": "printer"}}, "size": 5}, 5.0)
        assert {h["id"] for h in hits} == {"sec-0", "sec-1", "sec-2"}
        with pytest.raises(ApiError) as refused:  # its key reaches the KB, not the hops (a wildcard would just
            await es.search(index="supportmesh-hops-2026.01.01")  # match none of them: name one)
        assert refused.value.meta.status == 403
    finally:
        await es.indices.delete(index=settings.kb_index, ignore_unavailable=True)
        await es.close()
