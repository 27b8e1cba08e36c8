"""The response-generator at its Kafka edge, in memory (unit) and on the real Kafka (integration)."""

import asyncio
import json
import uuid

import pytest
from response_generator.config import Settings
from response_generator.handlers import GeneratorHandler
from supportmesh.v1.envelope_pb2 import Action, Envelope, OrderFacts
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner
from supportmesh_core.testing import stage_harness

OUTPUTS = (topics.RESPONSES, topics.ESCALATIONS, topics.HOPS)
BROKERS = [pytest.param(False, marks=pytest.mark.unit, id="memory"),
           pytest.param(True, marks=pytest.mark.integration, id="kafka")]


@pytest.fixture(params=BROKERS)
def real(request):
    """None for the in-memory broker, else a reader of the suite's Kafka (fails, never skips, without it)."""
    return request.getfixturevalue("topic_reader") if request.param else None


def runner(real) -> StageRunner:
    # The consumer group is the service name and cannot be set apart from it, so on the real broker each test is
    # a stage of its own (name, group, topic): joining "response-generator" would rebalance a running generator.
    # Nothing the generator does depends on its name (it is no optional stage); only escalated_by shows it.
    unique = uuid.uuid4().hex[:10]
    name = f"test-generator-{unique}" if real else "response-generator"
    settings = Settings(OTEL_SERVICE_NAME=name, **({"KAFKA_BOOTSTRAP_SERVERS": real.bootstrap} if real else {}))
    return StageRunner(settings, GeneratorHandler(0.6, 10), input_topic=f"test.edge.{unique}" if real else None)


def envelope(ticket_id: str, confidence: float = 0.9) -> Envelope:
    # What reaches the generator for a cancel the analyst proposed: the customer's order and the proposal.
    env = Envelope()
    env.ticket.ticket_id, env.ticket.conversation_id, env.ticket.body = ticket_id, f"C-{ticket_id}", "cancel #W9"
    env.classification.intent, env.classification.confidence = "cancel_order", confidence
    env.retrieval.customer_id, env.retrieval.customer_name = "u_1", "Ada Lovelace"
    env.retrieval.orders.append(OrderFacts(order_id="#W9", status="pending", total=10.0, user_id="u_1"))
    a = env.analysis
    a.policy_decision, a.policy_code = "allowed", "cancel_pending"
    a.policy_reason = "Order #W9 is pending, so it can be cancelled (policy: Cancel pending order)."
    a.actions.append(Action(name="cancel_pending_order", status="proposed", detail="cancel order #W9",
                            idempotency_key="a" * 32))
    return env


def ours(records, topic: str, ticket: str) -> list:
    # On the real broker the topics also carry every other test's and benchmark's tickets.
    mine = [r for r in records if r.topic == topic]
    if topic == topics.HOPS:
        return [h for h in map(HopRecord.FromString, (r.value for r in mine)) if h.ticket_id == ticket]
    return [r for r in mine if dict(r.headers or ()).get("ticket-id") == ticket.encode()]


async def published(real, stage, marks, topic: str, ticket: str, count: int = 1, timeout: float = 60.0) -> list:
    """What was published since the test began, once `count` of the ticket's records reached `topic`.

    In memory the harness collected it. On the real broker it is read from where the topics ended before the
    test: the harness's own readers start at each topic's beginning and, after a benchmark, need minutes to
    reach this test's records.
    """
    if real is None:
        async with asyncio.timeout(timeout):
            while len(ours(stage.published, topic, ticket)) < count:
                await asyncio.sleep(0.05)
        return stage.published
    return await real.collect(marks, lambda rs: len(ours(rs, topic, ticket)) >= count, timeout)


async def test_a_grounded_answer_reaches_tickets_responses(real):
    ticket = f"T-answer-{uuid.uuid4().hex[:6]}"
    marks = await real.mark(*OUTPUTS) if real else None
    async with stage_harness(runner(real), real=real is not None) as stage:
        await stage.send(envelope(ticket).SerializeToString(), key=f"C-{ticket}".encode())
        await stage.settle(1)
        seen = await published(real, stage, marks, topics.RESPONSES, ticket)
    (out,) = ours(seen, topics.RESPONSES, ticket)
    assert out.key == f"C-{ticket}".encode()   # the conversation's key, so its answers stay in order
    answer = json.loads(out.value)
    assert answer["ticket_id"] == ticket and answer["conversation_id"] == f"C-{ticket}"
    assert answer["reply"]["text"].startswith("Hi Ada,") and answer["reply"]["citations"] == ["order:#W9"]
    assert answer["intent"] == "cancel_order" and answer["engine"] == "local"
    assert [(a["name"], a["status"]) for a in answer["actions"]] == [("cancel_pending_order", "proposed")]
    assert not ours(seen, topics.ESCALATIONS, ticket)


async def test_an_unsure_reading_is_handed_to_a_person_with_its_reason(real):
    ticket = f"T-unsure-{uuid.uuid4().hex[:6]}"
    marks = await real.mark(*OUTPUTS) if real else None
    async with stage_harness(runner(real), real=real is not None) as stage:
        await stage.send(envelope(ticket, confidence=0.2).SerializeToString(), key=f"C-{ticket}".encode())
        await stage.settle(1)
        seen = await published(real, stage, marks, topics.ESCALATIONS, ticket)
    (out,) = ours(seen, topics.ESCALATIONS, ticket)
    handoff = json.loads(out.value)
    assert handoff["reason"] == "low_confidence" and handoff["escalated_by"] == stage.runner.service
    assert "Ada Lovelace" in handoff["summary"] and handoff["customer_message"]
    assert [a["name"] for a in handoff["actions"]] == ["cancel_pending_order"]   # the person sees the proposal
    assert not ours(seen, topics.RESPONSES, ticket)


async def test_a_redelivered_ticket_is_answered_once(real):
    ticket = f"T-again-{uuid.uuid4().hex[:6]}"
    marks = await real.mark(*OUTPUTS) if real else None
    async with stage_harness(runner(real), real=real is not None) as stage:
        for _ in range(2):   # the analyst's output read twice after a crash before its commit
            await stage.send(envelope(ticket).SerializeToString(), key=f"C-{ticket}".encode())
        await stage.settle(2)
        await published(real, stage, marks, topics.RESPONSES, ticket)
        seen = await published(real, stage, marks, topics.HOPS, ticket, count=2)
    assert len(ours(seen, topics.RESPONSES, ticket)) == 1
    assert [h.labels.get("duplicate_suppressed") for h in ours(seen, topics.HOPS, ticket)] == [None, "true"]
