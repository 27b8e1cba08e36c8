"""The context-compressor at its Kafka edge, in memory (unit) and on the real Kafka (integration)."""

import time
import uuid

import pytest
from context_compressor.adapters.store import SqliteConversationStore
from context_compressor.adapters.tokenizer import BpeTokenizer
from context_compressor.config import Settings
from context_compressor.handlers import CompressorHandler
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner
from supportmesh_core.testing import stage_harness, unit_test_module

unit = unit_test_module(__file__, "test_compressor_handler")  # its fakes and envelope builders

@pytest.fixture
def store(tmp_path):
    store = SqliteConversationStore(tmp_path / "c.db")
    yield store
    store.close()


def runner(real: str, store) -> StageRunner:
    # The consumer group is the service name and cannot be set apart from it, so on the real broker each test is
    # a stage of its own (name, group, topic): joining "context-compressor" would rebalance a running compressor.
    # Being the optional stage also goes by name (OPTIONAL_STAGES), so there the unique name is made the optional
    # stage: the skip under a short budget is the compressor's own on both brokers.
    unique = uuid.uuid4().hex[:10]
    name = f"test-compressor-{unique}" if real else "context-compressor"
    settings = Settings(OTEL_SERVICE_NAME=name,
                        **({"KAFKA_BOOTSTRAP_SERVERS": real, "OPTIONAL_STAGES": name} if real else {}))
    assert settings.is_optional_stage()
    return StageRunner(settings, CompressorHandler(store, BpeTokenizer(), budget=512),
                       input_topic=f"test.edge.{unique}" if real else None)


def envelope(conversation: str, ticket: str, body: str, budget_ms: int = 30_000, **kw) -> bytes:
    # A roomy budget: a new consumer group on the real broker can take seconds to get its partitions, and a
    # ticket that waited that long would rightly be skipped.
    env: Envelope = unit.envelope(ticket, body, **kw)
    env.ticket.conversation_id = conversation   # C-77 would meet other tests' tickets on the real broker
    env.deadline_unix_ms = int(time.time() * 1000) + budget_ms
    env.routing_slip.extend(["retriever", "technical-analyst", "response-generator"])
    return env.SerializeToString()


def hops_of(stage, ticket: str) -> list[HopRecord]:
    return [HopRecord.FromString(r.value) for r in stage.on(topics.HOPS, ticket)]


async def test_a_follow_up_goes_to_the_retriever_with_the_conversation_so_far(real, store):
    run = uuid.uuid4().hex[:6]
    conversation, first, second = f"C-{run}", f"T-first-{run}", f"T-second-{run}"
    async with stage_harness(runner(real, store), real=bool(real)) as stage:
        # One conversation's tickets share a key, so the second is compressed after the first was recorded.
        await stage.send(envelope(conversation, first, "Order #W2378156 has not arrived.", subject="Late order"),
                         key=conversation.encode())
        await stage.send(envelope(conversation, second, "Thanks, any update? Zip code 19122."),
                         key=conversation.encode())
        await stage.settle(2)
        (out,) = await stage.received("stage.retriever", 1, second)
    passed = Envelope.FromString(out.value)
    assert list(passed.routing_slip) == ["technical-analyst", "response-generator"]
    ctx = passed.context
    assert ctx.turn_count == 2 and [t.ticket_id for t in ctx.recent_turns] == [first, second]
    assert ctx.facts["order_ids"] == "#W2378156" and ctx.facts["zip"] == "19122"
    assert 0 < ctx.token_count <= 512


async def test_a_ticket_short_of_budget_skips_the_compressor_and_says_so(real, store):
    ticket = f"T-late-{uuid.uuid4().hex[:6]}"
    async with stage_harness(runner(real, store), real=bool(real)) as stage:
        # Under DEGRADE_BELOW_MS left: the answer matters more than the context, so the optional stage steps aside.
        await stage.send(envelope(f"C-{ticket}", ticket, "Where is order #W2378156?", budget_ms=300),
                         key=f"C-{ticket}".encode())
        await stage.settle(1)
        await stage.received("stage.retriever", 1, ticket)
        await stage.received(topics.HOPS, 1, ticket)
    (out,), (hop,) = stage.on("stage.retriever", ticket), hops_of(stage, ticket)
    passed = Envelope.FromString(out.value)
    assert list(passed.degradations) == [f"{stage.runner.service}: skipped (low_budget)"]
    assert not passed.HasField("context") and store.turns_until(f"C-{ticket}", ticket) == []
    assert hop.labels["degraded"] == "low_budget"


async def test_a_redelivered_ticket_is_dropped_not_passed_on_twice(real, store):
    ticket = f"T-again-{uuid.uuid4().hex[:6]}"
    async with stage_harness(runner(real, store), real=bool(real)) as stage:
        for _ in range(2):   # the classifier's output read twice after a crash before its commit
            await stage.send(envelope(f"C-{ticket}", ticket, "Where is order #W2378156?"),
                             key=f"C-{ticket}".encode())
        await stage.settle(2)
        await stage.received("stage.retriever", 1, ticket)
        await stage.received(topics.HOPS, 2, ticket)
    assert len(stage.on("stage.retriever", ticket)) == 1
    assert [h.labels.get("duplicate_suppressed") for h in hops_of(stage, ticket)] == [None, "true"]
