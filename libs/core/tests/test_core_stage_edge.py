"""A stage at its Kafka edge: the same tests on faststream's in-memory broker (unit) and the real Kafka.

The routing slip, the DLQ path, the dedupe drop and a fault flag, through the subscriber and publishers the
services run on: in memory with no server, and through the real consumer group, acks and commits.
"""

import json
import uuid

from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core import topics
from supportmesh_core.chaos import parse_spec
from supportmesh_core.kafka import StageRunner
from supportmesh_core.settings import ServiceSettings
from supportmesh_core.stage import Forward
from supportmesh_core.testing import stage_harness


def runner(real: str, handler) -> StageRunner:
    # On the real broker each test is a stage of its own (topic and group), so no other test's messages reach it.
    unique = uuid.uuid4().hex[:10]
    name = f"test-edge-{unique}" if real else "retriever"
    source = f"test.edge.{unique}" if real else topics.stage_topic(name)
    settings = ServiceSettings(OTEL_SERVICE_NAME=name, STAGE_HANDLER_ATTEMPTS=2, KAFKA_COMMIT_INTERVAL_MS=100,
                               **({"KAFKA_BOOTSTRAP_SERVERS": real} if real else {}))
    return StageRunner(settings, handler, input_topic=source)


def envelope(ticket_id: str, slip=("technical-analyst", "response-generator")) -> bytes:
    env = Envelope(ticket=Ticket(ticket_id=ticket_id, conversation_id=f"C-{ticket_id}", body="where is my order"),
                   received_unix_ms=1)
    env.routing_slip.extend(slip)
    return env.SerializeToString()


def hops_of(stage, ticket: str) -> list[HopRecord]:
    """The stage's own hops of `ticket`: on the real broker, a running mesh's analyst also handles the forward."""
    hops = [HopRecord.FromString(r.value) for r in stage.on(topics.HOPS, ticket)]
    return [h for h in hops if h.service == stage.runner.service]


async def forward(env, hop):
    return Forward(env)


async def test_the_routing_slip_sends_the_ticket_to_its_next_stage(real):
    ticket = f"T-slip-{uuid.uuid4().hex[:6]}"
    async with stage_harness(runner(real, forward), real=bool(real)) as stage:
        await stage.send(envelope(ticket), key=f"C-{ticket}".encode())
        await stage.settle(1)
        (out,) = await stage.received("stage.technical-analyst", 1, ticket)
        await stage.received(topics.HOPS, 1, ticket)
    passed = Envelope.FromString(out.value)
    assert list(passed.routing_slip) == ["response-generator"] and list(passed.visited) == [stage.runner.service]
    assert out.key == f"C-{ticket}".encode()
    (hop,) = hops_of(stage, ticket)
    assert hop.destination == "stage.technical-analyst" and hop.outcome == "success"


async def test_an_unreadable_message_goes_to_the_dlq_and_nowhere_else(real):
    async with stage_harness(runner(real, forward), real=bool(real)) as stage:
        await stage.send(b"\xff\x00 not an envelope", key=b"C-poison")
        await stage.settle(1)
        dead = [json.loads(r.value) for r in await stage.received(topics.DLQ, 1)]
    mine = [d for d in dead if d["source"]["topic"] == stage.runner.input_topic]
    assert len(mine) == 1 and "not an Envelope" in mine[0]["error"] and mine[0]["original_base64"]
    assert not stage.on("stage.technical-analyst")


async def test_a_ticket_seen_before_is_dropped_not_passed_on_twice(real):
    ticket = f"T-dup-{uuid.uuid4().hex[:6]}"
    async with stage_harness(runner(real, forward), real=bool(real)) as stage:
        await stage.send(envelope(ticket), key=f"C-{ticket}".encode())
        await stage.send(envelope(ticket), key=f"C-{ticket}".encode())   # a redelivery after a crash upstream
        await stage.settle(2)
        await stage.received(topics.HOPS, 2, ticket)
    assert len(stage.on("stage.technical-analyst", ticket)) == 1
    assert [h.labels.get("duplicate_suppressed") for h in hops_of(stage, ticket)] == [None, "true"]


async def test_an_error_flag_fails_each_attempt_and_the_ticket_is_handed_over(real):
    calls = []

    async def handler(env, hop):
        calls.append(env.ticket.ticket_id)
        return Forward(env)

    ticket = f"T-fault-{uuid.uuid4().hex[:6]}"
    stage_runner = runner(real, handler)
    stage_runner.faults.set(parse_spec(["error=100"]))   # what `supportmesh-cli chaos set retriever error=100` sends
    async with stage_harness(stage_runner, real=bool(real)) as stage:
        await stage.send(envelope(ticket), key=f"C-{ticket}".encode())
        await stage.settle(1)
        (escalation,) = await stage.received(topics.ESCALATIONS, 1, ticket)
        await stage.received(topics.HOPS, 1, ticket)
    mine = json.loads(escalation.value)
    assert mine["reason"] == "stage_failed" and calls == []   # the injected error came before the handler
    (hop,) = hops_of(stage, ticket)
    assert hop.fault["error"] == "injected" and hop.retries == 1
