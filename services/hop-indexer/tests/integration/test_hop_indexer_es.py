"""hop-indexer against the real Kafka and Elasticsearch: every hop arrives, and an outage commits nothing."""

import asyncio
import json
import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from elasticsearch import ApiError, AsyncElasticsearch
from hop_indexer.adapters.elastic import ElasticDocStore
from hop_indexer.config import TEMPLATE_PATTERN, Settings
from hop_indexer.indexer import HopIndexer
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics
from supportmesh_core.kafka import ensure_topics, new_producer

pytestmark = pytest.mark.integration

N = 200


async def start_group_at_end(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    """Commit the current end of telemetry.hops for a new group, so the test indexes only its own hops."""
    await ensure_topics(bootstrap, [topics.HOPS])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = [TopicPartition(topics.HOPS, p) for p in consumer.partitions_for_topic(topics.HOPS)]
        ends = await consumer.end_offsets(parts)
        consumer.assign(parts)
        await consumer.commit(ends)
        return ends
    finally:
        await consumer.stop()


async def committed(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return {tp: meta.offset for tp, meta in offsets.items() if tp.topic == topics.HOPS}
    finally:
        await admin.close()


async def produce_hops(bootstrap: str, prefix: str, count: int) -> list[str]:
    producer = new_producer(bootstrap)
    await producer.start()
    trace_ids = []
    try:
        futures = []
        for i in range(count):
            trace_id = f"{prefix}{i:08x}".ljust(32, "0")
            trace_ids.append(trace_id)
            # Span ids unique per run: a running hop-indexer also indexes these, and the span id is the _id.
            hop = HopRecord(start_unix_nanos=time.time_ns(), trace_id=trace_id, span_id=span_id(prefix, i),
                            service="it-hop-indexer", action="test", duration_ns=1000 + i, outcome="success",
                            ticket_id=f"T-{prefix}-{i}", labels={"test.run": prefix})
            futures.append(await producer.send(topics.HOPS, hop.SerializeToString(), key=trace_id.encode()))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return trace_ids


def span_id(prefix: str, i: int) -> str:
    return f"{prefix[:10]}{i:06x}"


async def count_found(es: AsyncElasticsearch, index_prefix: str, trace_ids: list[str]) -> int:
    """How many of the hops are searchable; 0 while a just-created index has no active shard yet (503)."""
    try:
        await es.indices.refresh(index=f"{index_prefix}-*", ignore_unavailable=True, allow_no_indices=True)
        found = 0
        for start in range(0, len(trace_ids), 500):
            response = await es.count(index=f"{index_prefix}-*", ignore_unavailable=True,
                                      allow_no_indices=True,
                                      query={"terms": {"trace.id": trace_ids[start:start + 500]}})
            found += response["count"]
        return found
    except ApiError as exc:
        if exc.meta.status != 503:
            raise
        return 0


def indexer_for(bootstrap: str, es_url: str, group: str, index_prefix: str) -> HopIndexer:
    settings = Settings(KAFKA_BOOTSTRAP_SERVERS=bootstrap, ELASTICSEARCH_URL=es_url,
                        HOP_INDEX_PREFIX=index_prefix, HOP_BACKOFF_CAP_S=0.5)
    return HopIndexer(settings, ElasticDocStore(es_url, TEMPLATE_PATTERN, 5), group_id=group)


async def run_until(indexer: HopIndexer, done, limit_s: float) -> None:
    await indexer.start()
    task = asyncio.create_task(indexer.run())
    try:
        async with asyncio.timeout(limit_s):
            while not await done():
                assert not task.done(), task.exception()
                await asyncio.sleep(0.2)
    finally:
        indexer.stop()
        await task
        await indexer.close()


@pytest.fixture
async def es(es_url):
    client = AsyncElasticsearch(es_url)
    yield client
    await client.close()


@pytest.fixture
async def index_prefix(es, unique):
    prefix = f"supportmesh-hops-it-{unique}"
    yield prefix
    await es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)


async def test_every_hop_is_indexed_with_the_template_mapping(
        kafka_bootstrap, es_url, es, index_prefix, unique):
    group = f"hop-indexer-it-{unique}"
    start = await start_group_at_end(kafka_bootstrap, group)
    trace_ids = await produce_hops(kafka_bootstrap, unique, N)
    indexer = indexer_for(kafka_bootstrap, es_url, group, index_prefix)

    async def all_found() -> bool:
        return await count_found(es, index_prefix, trace_ids) >= N

    await run_until(indexer, all_found, limit_s=25)
    assert await count_found(es, index_prefix, trace_ids) == N  # ids are span ids: no duplicates

    found = await es.search(index=f"{index_prefix}-*", query={"term": {"trace.id": trace_ids[7]}})
    hit = found["hits"]["hits"][0]
    assert hit["_id"] == span_id(unique, 7)
    assert hit["_index"].startswith(f"{index_prefix}-20")
    assert hit["_source"]["event"]["duration"] == 1007
    assert hit["_source"]["labels"] == {"test_run": unique}
    mapping = (await es.indices.get_mapping(index=hit["_index"]))[hit["_index"]]["mappings"]["properties"]
    assert mapping["trace"]["properties"]["id"]["type"] == "keyword"
    assert mapping["event"]["properties"]["duration"]["type"] == "long"
    assert mapping["labels"]["properties"]["test_run"]["type"] == "keyword"
    assert mapping["error"]["properties"]["message"]["fields"]["keyword"]["type"] == "keyword"
    after = await committed(kafka_bootstrap, group)
    assert sum(after.values()) - sum(start.values()) >= N


async def test_an_outage_commits_nothing_and_loses_nothing(kafka_bootstrap, es_url, es, index_prefix, unique):
    group = f"hop-indexer-outage-{unique}"
    start = await start_group_at_end(kafka_bootstrap, group)
    trace_ids = await produce_hops(kafka_bootstrap, unique, N)

    down = indexer_for(kafka_bootstrap, "http://127.0.0.1:1", group, index_prefix)

    async def retried_a_while() -> bool:
        return down.writer is not None and down.writer.failed_attempts >= 4

    await run_until(down, retried_a_while, limit_s=15)
    assert down.indexed == 0
    assert await committed(kafka_bootstrap, group) == start

    up = indexer_for(kafka_bootstrap, es_url, group, index_prefix)

    async def all_found() -> bool:
        return await count_found(es, index_prefix, trace_ids) >= N

    await run_until(up, all_found, limit_s=20)
    assert await count_found(es, index_prefix, trace_ids) == N
    assert sum((await committed(kafka_bootstrap, group)).values()) - sum(start.values()) >= N


async def test_a_hop_elasticsearch_refuses_goes_to_the_dead_letter_topic(
        kafka_bootstrap, es_url, es, index_prefix, unique, topic_reader):
    group = f"hop-indexer-dlq-{unique}"
    settings = Settings()
    await ensure_topics(kafka_bootstrap, [settings.dlq_topic])
    marks = await topic_reader.mark(settings.dlq_topic)
    await start_group_at_end(kafka_bootstrap, group)
    good = await produce_hops(kafka_bootstrap, unique, 1)
    # Its end lies past what date_nanos can hold (year 2262): a mapping error, not an outage.
    poison = HopRecord(start_unix_nanos=time.time_ns(), duration_ns=2**63 - 1,
                       trace_id=f"{unique}dead".ljust(32, "0"), span_id=f"{unique}dead"[:16],
                       service="it-hop-indexer")
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.HOPS, poison.SerializeToString(), key=poison.trace_id.encode())
    finally:
        await producer.stop()
    indexer = indexer_for(kafka_bootstrap, es_url, group, index_prefix)

    async def settled() -> bool:
        return indexer.dead_lettered >= 1 and await count_found(es, index_prefix, good) == 1

    await run_until(indexer, settled, limit_s=20)

    records = await topic_reader.collect(marks, lambda rs: any(poison.trace_id.encode() == r.key for r in rs),
                                         timeout=10)
    # A hop-indexer of a running mesh reads the same shared topic and may dead-letter the poison hop too;
    # ours are the letters for our throwaway index.
    letters = [json.loads(r.value) for r in records if r.key == poison.trace_id.encode()]
    letters = [x for x in letters if x.get("index", "").startswith(index_prefix)]
    assert len(letters) == 1
    assert letters[0]["hop"]["span_id"] == poison.span_id
    assert "date_nanos" in letters[0]["error"] and "HTTP 400" in letters[0]["error"]
    assert letters[0]["source"]["topic"] == topics.HOPS


async def test_personal_data_sent_in_hops_never_reaches_the_index(kafka_bootstrap, es_url, es, index_prefix, unique):
    group = f"hop-indexer-privacy-{unique}"
    await start_group_at_end(kafka_bootstrap, group)
    digits = str(int(unique, 16))[-8:].rjust(8, "7")
    secrets = [f"pii.{unique}@example.com", f"+1 415 {digits[:3]} {digits[3:7]}",
               f"4000 {digits[:4]} {digits[4:8]} 0002", f"DE89 3704 {digits[:4]} {digits[4:8]} 0130 00",
               f"{digits[:3]} Sunset Drive"]
    text = "customer wrote: mail {} call {} card {} iban {} address {}".format(*secrets)
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    trace_id = f"{unique}".ljust(32, "e")
    try:
        hop = HopRecord(start_unix_nanos=time.time_ns(), trace_id=trace_id, span_id=span_id(unique, 1),
                        service="it-hop-indexer", action="privacy", outcome="failure", ticket_id=f"T-{unique}",
                        message=text, error_message=text, escalation_reason=text,
                        labels={"note": text}, fault={"error": text})
        await producer.send_and_wait(topics.HOPS, hop.SerializeToString(), key=trace_id.encode())
    finally:
        await producer.stop()
    indexer = indexer_for(kafka_bootstrap, es_url, group, index_prefix)

    async def found() -> bool:
        return await count_found(es, index_prefix, [trace_id]) == 1

    await run_until(indexer, found, limit_s=25)
    (hit,) = (await es.search(index=f"{index_prefix}-*", query={"term": {"trace.id": trace_id}}))["hits"]["hits"]
    stored = json.dumps(hit["_source"], ensure_ascii=False)
    for secret in secrets:
        assert secret not in stored
        # Nor findable by a search on any field, analysed text included.
        response = await es.count(index=f"{index_prefix}-*",
                                  query={"multi_match": {"query": secret, "type": "phrase", "fields": ["*"],
                                                         "lenient": True}})
        assert response["count"] == 0, secret
    assert hit["_source"]["message"].count("[") == 5 and hit["_source"]["fault"]["injected"] is True


async def test_janitor_deletes_back_dated_indices_only(es_url, es, index_prefix):
    from datetime import UTC, datetime, timedelta

    from hop_indexer.janitor import Janitor

    today = datetime.now(UTC).date()
    days = {age: f"{index_prefix}-{today - timedelta(days=age):%Y.%m.%d}" for age in (0, 13, 14, 30)}
    for name in days.values():
        await es.index(index=name, document={"@timestamp": "2026-01-01T00:00:00Z", "service": {"name": "it"}},
                       refresh=True)
    other = f"{index_prefix}-keep-2000.01.01"  # another prefix under ours: never the janitor's business
    await es.index(index=other, document={"service": {"name": "it"}}, refresh=True)
    store = ElasticDocStore(es_url, TEMPLATE_PATTERN, 5)
    try:
        janitor = Janitor(store, prefix=index_prefix, retention_days=14, interval_s=3600)
        assert await janitor.sweep() == sorted([days[14], days[30]])
    finally:
        await store.close()
    left = set((await es.indices.get(index=f"{index_prefix}-*")).keys())
    assert left == {days[0], days[13], other}
    # The back-dated indices got the real template, like any daily index.
    mapping = await es.indices.get_mapping(index=days[13])
    assert mapping[days[13]]["mappings"]["properties"]["event"]["properties"]["duration"]["type"] == "long"
