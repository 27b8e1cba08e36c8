"""Fixtures shared by every test folder: where the real Kafka and Elasticsearch are, and unique names."""

import os
import socket
import uuid

import pytest


def _reachable(hostport: str) -> bool:
    host, _, port = hostport.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The real Kafka that `make test` started; integration tests fail (never skip) without it."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    if not _reachable(bootstrap):
        pytest.fail(f"Kafka is not reachable at {bootstrap}: run `make up` or `deploy/infra.sh start kafka`")
    return bootstrap


@pytest.fixture(scope="session")
def es_url() -> str:
    """The real Elasticsearch that `make test` started."""
    url = os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    if not _reachable(url.split("://", 1)[-1].rstrip("/")):
        pytest.fail(f"Elasticsearch is not reachable at {url}: run `make up` or `deploy/infra.sh start es`")
    return url


@pytest.fixture
def scripted_openai():
    """The model layer's scripted OpenAI-compatible double (not a model), for model-path contract tests."""
    from supportmesh_llm.testing import ScriptedOpenAIServer

    server = ScriptedOpenAIServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=[pytest.param(False, marks=pytest.mark.unit, id="memory"),
                        pytest.param(True, marks=pytest.mark.integration, id="kafka")])
def real(request) -> str:
    """A stage's edge tests run twice: '' is faststream's in-memory broker, else the suite's Kafka (never skipped)."""
    return request.getfixturevalue("kafka_bootstrap") if request.param else ""


@pytest.fixture
def unique() -> str:
    """A short random suffix for topic, group and index names, so tests never share state."""
    return uuid.uuid4().hex[:10]


class TopicReader:
    """Reads what tests produced on real topics: mark the ends first, then collect what arrives after."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    async def mark(self, *topics: str) -> dict:
        import asyncio

        from aiokafka import TopicPartition
        from aiokafka.errors import KafkaError
        from supportmesh_core.kafka import ensure_topics
        from supportmesh_core.kafka_security import new_consumer

        # On a fresh broker the topic may not exist yet; a mark on a missing topic would see nothing.
        await ensure_topics(self.bootstrap, list(topics))
        consumer = new_consumer(self.bootstrap)
        await consumer.start()
        try:
            # A just-created topic can be missing from the metadata or leaderless for a moment: marking without
            # it would silently watch nothing (a fresh-clone run once missed an answer that way), so wait.
            for _ in range(50):
                await consumer._client.force_metadata_update()
                known = {t: consumer.partitions_for_topic(t) for t in topics}
                if all(known.values()):
                    parts = [TopicPartition(t, p) for t, ps in known.items() for p in ps]
                    try:
                        return await consumer.end_offsets(parts)
                    except KafkaError:
                        pass
                await asyncio.sleep(0.2)
            raise AssertionError(f"topics {topics} have no readable partitions after 10 s")
        finally:
            await consumer.stop()

    @staticmethod
    def header(record, name: str) -> str:
        """A Kafka record header as text ('' when absent)."""
        return dict(record.headers or ()).get(name, b"").decode()

    async def collect(self, marks: dict, until, timeout: float = 60.0) -> list:
        """Records after `marks` until `until(records)` is true or `timeout` passes; returns them all."""
        import asyncio
        import time

        from supportmesh_core.kafka_security import new_consumer

        consumer = new_consumer(self.bootstrap, isolation_level="read_committed")
        await consumer.start()
        records: list = []
        try:
            consumer.assign(list(marks))
            for tp, offset in marks.items():
                consumer.seek(tp, offset)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not until(records):
                batch = await consumer.getmany(timeout_ms=300)
                for recs in batch.values():
                    records.extend(recs)
                await asyncio.sleep(0)
            return records
        finally:
            await consumer.stop()


@pytest.fixture
def topic_reader(kafka_bootstrap) -> TopicReader:
    return TopicReader(kafka_bootstrap)
