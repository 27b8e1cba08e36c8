"""The stage runner against the real Kafka: commit after forward, no second answer after a restart, DLQ."""

import asyncio
import json

import pytest
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.outcomes_pb2 import Reply, Response
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner, ensure_topics, new_producer
from supportmesh_core.settings import ServiceSettings
from supportmesh_core.stage import Respond

pytestmark = pytest.mark.integration


async def run_until_handled(runner: StageRunner, count: int, timeout: float = 30) -> None:
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        async with asyncio.timeout(timeout):
            while runner.handled < count:
                await asyncio.sleep(0.1)
    finally:
        runner.stop()
        await task
        await runner.close()


def envelope(ticket_id: str) -> bytes:
    return Envelope(ticket=Ticket(ticket_id=ticket_id, conversation_id=f"C-{ticket_id}", body="hi"),
                    received_unix_ms=1).SerializeToString()


async def test_answers_once_across_restart_and_survives_poison(kafka_bootstrap, unique, topic_reader):
    source = f"test.runner.{unique}"
    await ensure_topics(kafka_bootstrap, [source], partitions=1)
    settings = ServiceSettings(OTEL_SERVICE_NAME=f"test-runner-{unique}", KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap)

    async def handler(env, hop):
        return Respond(env, Response(reply=Reply(text=f"answer for {env.ticket.ticket_id}")))

    marks = await topic_reader.mark(topics.RESPONSES, topics.DLQ)
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    try:
        ticket = f"T-{unique}"
        await producer.send_and_wait(source, envelope(ticket), key=b"k")
        await producer.send_and_wait(source, b"\x00\x01poison", key=b"k")
        await run_until_handled(StageRunner(settings, handler, input_topic=source), 2)

        # The same ticket again (an upstream redelivery) after a restart: the ledger must refuse it.
        await producer.send_and_wait(source, envelope(ticket), key=b"k")
        second = StageRunner(settings, handler, input_topic=source)
        await run_until_handled(second, 1)
    finally:
        await producer.stop()

    records = await topic_reader.collect(marks, lambda rs: False, timeout=4)
    answers = [r for r in records if r.topic == topics.RESPONSES and topic_reader.header(r, "ticket-id") == ticket]
    dead = [json.loads(r.value) for r in records if r.topic == topics.DLQ]
    assert len(answers) == 1
    assert json.loads(answers[0].value)["reply"]["text"] == f"answer for {ticket}"
    assert any(d["source"]["topic"] == source and d["service"] == settings.service_name for d in dead)
    # Offsets were committed: the restarted runner handled only the new message, not the first two.
    assert second.handled == 1


async def test_a_stage_drops_a_ticket_another_stage_answered_while_it_ran(kafka_bootstrap, unique):
    source = f"test.runner.follow.{unique}"
    await ensure_topics(kafka_bootstrap, [source], partitions=1)
    settings = ServiceSettings(OTEL_SERVICE_NAME=f"test-follow-{unique}", KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap)
    handled = []

    async def handler(env, hop):
        handled.append(env.ticket.ticket_id)
        return Respond(env, Response(reply=Reply(text="answer")))

    runner = StageRunner(settings, handler, input_topic=source)
    await runner.start()
    task = asyncio.create_task(runner.run())
    producer = new_producer(kafka_bootstrap)
    await producer.start()
    try:
        answered, fresh = f"T-answered-{unique}", f"T-fresh-{unique}"
        # Another stage answers a ticket after this runner started (its start-up read-back cannot know it).
        outcome = json.dumps({"ticket_id": answered, "reply": {"text": "answered by another stage"}}).encode()
        await producer.send_and_wait(topics.RESPONSES, outcome, key=b"k",
                                     headers=[("ticket-id", answered.encode()), ("content-type", b"application/json")])
        async with asyncio.timeout(15):
            while answered not in runner.ledger:
                await asyncio.sleep(0.05)
        await producer.send_and_wait(source, envelope(answered), key=b"k")
        await producer.send_and_wait(source, envelope(fresh), key=b"k")
        async with asyncio.timeout(30):
            while runner.handled < 2:
                await asyncio.sleep(0.05)
    finally:
        await producer.stop()
        runner.stop()
        await task
        await runner.close()
    assert handled == [fresh]
