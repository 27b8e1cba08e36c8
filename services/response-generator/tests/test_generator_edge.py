"""The response-generator at its Kafka edge, in memory (unit) and on the real Kafka (integration)."""

import json
import uuid

from response_generator.config import Settings
from response_generator.handlers import GeneratorHandler
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner
from supportmesh_core.testing import stage_harness, unit_test_module

unit = unit_test_module(__file__, "test_generator_handler")  # its envelope builder


def runner(real: str) -> StageRunner:
    # The consumer group is the service name and cannot be set apart from it, so on the real broker each test is
    # a stage of its own (name, group, topic): joining "response-generator" would rebalance a running generator.
    # Nothing the generator does depends on its name (it is no optional stage); only escalated_by shows it.
    unique = uuid.uuid4().hex[:10]
    name = f"test-generator-{unique}" if real else "response-generator"
    settings = Settings(OTEL_SERVICE_NAME=name, **({"KAFKA_BOOTSTRAP_SERVERS": real} if real else {}))
    return StageRunner(settings, GeneratorHandler(0.6, 10), input_topic=f"test.edge.{unique}" if real else None)


def envelope(ticket_id: str, confidence: float = 0.9) -> Envelope:
    # What reaches the generator for a cancel the analyst proposed, as the unit tests build it, under its own ids.
    env = unit.envelope(confidence)
    env.ticket.ticket_id, env.ticket.conversation_id = ticket_id, f"C-{ticket_id}"
    return env


def hops_of(stage, ticket: str) -> list[HopRecord]:
    return [HopRecord.FromString(r.value) for r in stage.on(topics.HOPS, ticket)]


async def test_a_grounded_answer_reaches_tickets_responses(real):
    ticket = f"T-answer-{uuid.uuid4().hex[:6]}"
    async with stage_harness(runner(real), real=bool(real)) as stage:
        await stage.send(envelope(ticket).SerializeToString(), key=f"C-{ticket}".encode())
        await stage.settle(1)
        (out,) = await stage.received(topics.RESPONSES, 1, ticket)
    assert out.key == f"C-{ticket}".encode()   # the conversation's key, so its answers stay in order
    answer = json.loads(out.value)
    assert answer["ticket_id"] == ticket and answer["conversation_id"] == f"C-{ticket}"
    assert answer["reply"]["text"].startswith("Hi Ada,") and answer["reply"]["citations"] == ["order:#W9"]
    assert answer["intent"] == "cancel_order" and answer["engine"] == "local"
    assert [(a["name"], a["status"]) for a in answer["actions"]] == [("cancel_pending_order", "proposed")]
    assert not stage.on(topics.ESCALATIONS, ticket)


async def test_an_unsure_reading_is_handed_to_a_person_with_its_reason(real):
    ticket = f"T-unsure-{uuid.uuid4().hex[:6]}"
    async with stage_harness(runner(real), real=bool(real)) as stage:
        await stage.send(envelope(ticket, confidence=0.2).SerializeToString(), key=f"C-{ticket}".encode())
        await stage.settle(1)
        (out,) = await stage.received(topics.ESCALATIONS, 1, ticket)
    handoff = json.loads(out.value)
    assert handoff["reason"] == "low_confidence" and handoff["escalated_by"] == stage.runner.service
    assert "Ada Lovelace" in handoff["summary"] and handoff["customer_message"]
    assert [a["name"] for a in handoff["actions"]] == ["cancel_pending_order"]   # the person sees the proposal
    assert not stage.on(topics.RESPONSES, ticket)


async def test_a_redelivered_ticket_is_answered_once(real):
    ticket = f"T-again-{uuid.uuid4().hex[:6]}"
    async with stage_harness(runner(real), real=bool(real)) as stage:
        for _ in range(2):   # the analyst's output read twice after a crash before its commit
            await stage.send(envelope(ticket).SerializeToString(), key=f"C-{ticket}".encode())
        await stage.settle(2)
        await stage.received(topics.RESPONSES, 1, ticket)
        await stage.received(topics.HOPS, 2, ticket)
    assert len(stage.on(topics.RESPONSES, ticket)) == 1
    assert [h.labels.get("duplicate_suppressed") for h in hops_of(stage, ticket)] == [None, "true"]
