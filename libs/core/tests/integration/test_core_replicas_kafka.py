"""Replicas of one stage on the real Kafka: a member joining mid-stream, and what another replica passed on."""

import asyncio

import pytest
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.outcomes_pb2 import Escalation
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner, ensure_topics, new_producer
from supportmesh_core.ledger import forwarded_partition
from supportmesh_core.settings import ServiceSettings
from supportmesh_core.stage import Escalate

pytestmark = pytest.mark.integration


def envelope(ticket_id: str) -> bytes:
    return Envelope(ticket=Ticket(ticket_id=ticket_id, conversation_id=f"C-{ticket_id}", body="hi"),
                    received_unix_ms=1).SerializeToString()


async def started(runner: StageRunner) -> asyncio.Task:
    await runner.start()
    return asyncio.create_task(runner.run())


async def stopped(runner: StageRunner, task: asyncio.Task) -> None:
    runner.stop()
    await task
    await runner.close()


async def test_a_replica_joining_mid_stream_answers_nothing_twice(kafka_bootstrap, unique, topic_reader):
    source = f"test.replicas.{unique}"
    await ensure_topics(kafka_bootstrap, [source], partitions=3)
    # Slow tickets, many in flight at once: when the second replica joins (the first hears of it at its next
    # heartbeat, within 3 s), the first holds dozens unanswered.
    settings = ServiceSettings(OTEL_SERVICE_NAME=f"test-replicas-{unique}", KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap)
    handled: list[str] = []

    async def slow(env, hop):
        handled.append(env.ticket.ticket_id)
        await asyncio.sleep(4)   # within the 5 s budget the handler may use
        return Escalate(env, Escalation(reason="test", summary="slow"))

    ids = [f"T-rep-{unique}-{i:03d}" for i in range(90)]
    marks = await topic_reader.mark(topics.ESCALATIONS)
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    first = StageRunner(settings, slow, input_topic=source)
    second = StageRunner(settings, slow, input_topic=source)
    tasks = {}
    try:
        for tid in ids[:60]:
            await producer.send(source, envelope(tid), key=f"C-{tid}".encode())
        await producer.flush()
        tasks[first] = await started(first)
        async with asyncio.timeout(30):
            while len(handled) < 20:
                await asyncio.sleep(0.02)
        tasks[second] = await started(second)   # joins the group while the first has tickets in flight
        for tid in ids[60:]:
            await producer.send(source, envelope(tid), key=f"C-{tid}".encode())
        await producer.flush()

        def answered(records) -> set[str]:
            return {topic_reader.header(r, "ticket-id") for r in records}

        records = await topic_reader.collect(marks, lambda rs: set(ids) <= answered(rs), timeout=60)
        records += await topic_reader.collect(
            {tp: max([r.offset + 1 for r in records if (r.topic, r.partition) == (tp.topic, tp.partition)] or [o])
             for tp, o in marks.items()}, lambda rs: False, timeout=3)
    finally:
        await producer.stop()
        for runner, task in tasks.items():
            await stopped(runner, task)
    counts: dict[str, int] = {}
    for r in records:
        tid = topic_reader.header(r, "ticket-id")
        if tid in ids:
            counts[tid] = counts.get(tid, 0) + 1
    assert not [t for t in ids if t not in counts], "tickets lost in the rebalance"
    assert {t: n for t, n in counts.items() if n > 1} == {}, "tickets answered by both replicas"
    # Neither replica started a ticket the other had in hand: the first settled its partitions before letting go.
    twice = sorted({t for t in handled if handled.count(t) > 1})
    assert not twice, f"{len(twice)} tickets handled by both replicas: {twice[:3]}"
    assert second.handled > 0, "the second replica never got a partition: nothing was tested"


async def test_a_ticket_another_replica_passed_on_is_dropped(kafka_bootstrap, unique):
    source = f"test.replicas.fwd.{unique}"
    await ensure_topics(kafka_bootstrap, [source], partitions=1)
    stage = f"test-forwarder-{unique}"
    settings = ServiceSettings(OTEL_SERVICE_NAME=stage, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap)
    handled = []

    async def handler(env, hop):
        handled.append(env.ticket.ticket_id)
        return Escalate(env, Escalation(reason="test"))

    passed, fresh, elsewhere = f"T-passed-{unique}", f"T-fresh-{unique}", f"T-other-stage-{unique}"
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    runner = StageRunner(settings, handler, input_topic=source)
    task = await started(runner)
    try:
        # What another replica of this stage writes when it passes a ticket on, and a marker of another stage
        # that shares the partition (the key tells them apart).
        part = forwarded_partition(stage, len(await producer.partitions_for(topics.FORWARDED)))
        await producer.send_and_wait(topics.FORWARDED, b"", key=stage.encode(), partition=part,
                                     headers=[("ticket-id", passed.encode())])
        await producer.send_and_wait(topics.FORWARDED, b"", key=f"{stage}-x".encode(), partition=part,
                                     headers=[("ticket-id", elsewhere.encode())])
        await asyncio.wait_for(runner.ledger.sync(), timeout=15)
        for tid in (passed, elsewhere, fresh):
            await producer.send_and_wait(source, envelope(tid), key=b"k")
        async with asyncio.timeout(30):
            while runner.handled < 3:
                await asyncio.sleep(0.05)
    finally:
        await producer.stop()
        await stopped(runner, task)
    assert handled == [elsewhere, fresh]
