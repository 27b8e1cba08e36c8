"""A stage under test, on faststream's in-memory broker or on a real Kafka: publish to its input, read its output.

The same handler test runs both ways (`stage_harness(runner, real=...)`): in memory it needs no server and
shows the routing, the DLQ path, dedupe and fault flags; on the real broker it shows the same through
the real consumer group, producer acks and commits.
"""

import asyncio
import importlib.util
import pathlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from aiokafka import ConsumerRecord
from faststream.kafka import TestKafkaBroker, TopicPartition
from supportmesh.v1.hop_pb2 import HopRecord

from . import topics
from .kafka import StageRunner, ensure_topics, raw_message


class StageHarness:
    """What a test does with a running stage: send records to its input and read what it published."""

    def __init__(self, runner: StageRunner) -> None:
        self.runner = runner
        self.published: list[ConsumerRecord] = []   # what the stage published, by topic in arrival order

    async def send(self, value: bytes, *, key: bytes = b"C-1", headers: dict[str, str] | None = None) -> None:
        await self.runner.broker.publish(value, self.runner.input_topic, key=key, headers=headers or {})

    def on(self, topic: str, ticket: str | None = None) -> list[ConsumerRecord]:
        """What the stage published on `topic`, only `ticket`'s when given (a real topic is shared)."""
        return [r for r in self.published if r.topic == topic and (ticket is None or _ticket_of(r) == ticket)]

    async def received(self, topic: str, count: int, ticket: str | None = None,
                       timeout: float = 30.0) -> list[ConsumerRecord]:
        """`on(topic, ticket)` once at least `count` arrived (on a real broker they arrive after the acks)."""
        async with asyncio.timeout(timeout):
            while len(self.on(topic, ticket)) < count:
                await asyncio.sleep(0.05)
        return self.on(topic, ticket)

    async def settle(self, handled: int, timeout: float = 30.0) -> None:
        """Wait until the stage has handled and published `handled` messages in all."""
        async with asyncio.timeout(timeout):
            while self.runner.handled < handled:
                await asyncio.sleep(0.02)
            await self.runner.drain()



def _add_collectors(harness: StageHarness, real: bool) -> None:
    """A subscriber on every topic the stage publishes to, recording the raw records it sees.

    On the real broker each reads every partition from its end, assigned at once (no group to join), so
    it is in place before the stage, which first reads its ledger and joins its group, publishes anything.
    """
    runner = harness.runner

    async def collect(record: ConsumerRecord) -> None:
        harness.published.append(record)

    for topic in runner.publishers:
        if real:
            subscriber = runner.broker.subscriber(
                partitions=[TopicPartition(topic, p) for p in range(runner.partitions)],
                auto_offset_reset="latest", include_in_schema=False)
        else:
            subscriber = runner.broker.subscriber(topic, group_id="harness", include_in_schema=False)
        subscriber(collect, decoder=raw_message)


def _ticket_of(record: ConsumerRecord) -> str:
    """The ticket a record is about: its `ticket-id` header, or inside a hop record (hops carry no header)."""
    if record.topic == topics.HOPS:
        return HopRecord.FromString(record.value).ticket_id
    return dict(record.headers or ()).get("ticket-id", b"").decode()


@asynccontextmanager
async def stage_harness(runner: StageRunner, *, real: bool = False) -> AsyncIterator[StageHarness]:
    """The runner started on the in-memory broker (`real=False`) or on the Kafka of its settings."""
    if not real:
        harness = StageHarness(runner)
        _add_collectors(harness, real=False)
        async with TestKafkaBroker(runner.broker):
            runner.ledger.caught_up.set()   # the in-memory broker has no outcome history to read back
            yield harness
            await runner.drain()
        return
    bootstrap = runner.settings.kafka_bootstrap_servers
    await ensure_topics(bootstrap, [runner.input_topic])
    harness = StageHarness(runner)
    _add_collectors(harness, real=True)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        yield harness
    finally:
        runner.stop()
        await asyncio.gather(task, return_exceptions=True)
        await runner.close()


def unit_test_module(edge_test_file: str, name: str) -> ModuleType:
    """The unit test module `name` beside an edge test, loaded from its file to reuse its fakes and builders.

    Test folders are no packages, so it cannot be imported by name.
    """
    path = pathlib.Path(edge_test_file).parent / "unit" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{path.parent.parent.parent.name}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
