"""The intake's admission in the stage runner: held-back messages get their outcome in a lane of their own."""

import asyncio
import json

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import REGISTRY
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import Escalation, Reply, Response
from supportmesh.v1.ticket_pb2 import Customer, Ticket
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner
from supportmesh_core.settings import ServiceSettings
from supportmesh_core.stage import Escalate, Respond, Verdict
from supportmesh_core.testing import stage_harness

pytestmark = pytest.mark.unit

FLOOD = "flood@example.com"


class HoldTheFlood:
    """A fake admission: every ticket from FLOOD is held back."""

    def __init__(self, lane_size: int = 1000, lane_concurrency: int = 2) -> None:
        self.lane_size, self.lane_concurrency, self.lane_rate_per_s = lane_size, lane_concurrency, 0.0
        self.asked: list[str] = []
        self.held_at_once: list[int] = []
        self.runner: StageRunner | None = None

    def admit(self, env: Envelope) -> Verdict:
        self.asked.append(env.ticket.ticket_id)
        return Verdict(held="customer") if env.ticket.customer.email == FLOOD else Verdict()

    def held_back(self, env: Envelope, verdict: Verdict, hop: HopRecord):
        if self.runner is not None:
            self.held_at_once.append(len(self.runner._held))
        return Respond(env, Response(reply=Reply(text="We have your messages and are on it.")))


def envelope(ticket_id: str, email: str, conversation: str | None = None) -> Envelope:
    return Envelope(ticket=Ticket(ticket_id=ticket_id, conversation_id=conversation or f"C-{ticket_id}", body="hi",
                                  customer=Customer(email=email)), received_unix_ms=1)


def record(env: Envelope, offset: int):
    value = env.SerializeToString()
    key = env.ticket.conversation_id.encode()
    return ConsumerRecord(topic="stage.response-generator", partition=0, offset=offset, timestamp=0,
                          timestamp_type=0, key=key, value=value, checksum=None, serialized_key_size=len(key),
                          serialized_value_size=len(value), headers=[])


def runner_with(admission: HoldTheFlood, max_batch: int = 200, handled: list | None = None) -> StageRunner:
    async def handler(env, hop):
        if handled is not None:
            handled.append(env.ticket.ticket_id)
        return Escalate(env, Escalation(reason="test"))

    settings = ServiceSettings(OTEL_SERVICE_NAME="response-generator", KAFKA_MAX_BATCH=max_batch)
    runner = StageRunner(settings, handler, input_topic="stage.response-generator", admission=admission)
    admission.runner = runner
    return runner


def outcome_order(stage) -> list[str]:
    return [dict(r.headers)["ticket-id"].decode() for r in stage.published
            if r.topic in (topics.RESPONSES, topics.ESCALATIONS)]


async def test_a_held_back_ticket_gets_its_outcome_without_the_handler_and_says_why():
    handled: list[str] = []
    admission = HoldTheFlood()
    runner = runner_with(admission, handled=handled)
    before = REGISTRY.get_sample_value("supportmesh_held_back_total",
                                       {"service": "response-generator", "limit": "customer"}) or 0
    env, verdict = runner.triage(record(envelope("T-1", FLOOD), 0))
    assert verdict == Verdict(held="customer") and env.ticket.ticket_id == "T-1"
    out = await runner.handle_record(record(envelope("T-1", FLOOD), 0), env, verdict)
    assert handled == []
    assert [o.topic for o in out] == [topics.RESPONSES, topics.HOPS]
    assert json.loads(out[0].value)["reply"]["text"].startswith("We have your messages")
    hop = HopRecord.FromString(out[1].value)
    assert hop.labels["held_back"] == "customer" and hop.destination == topics.RESPONSES
    assert REGISTRY.get_sample_value("supportmesh_held_back_total",
                                     {"service": "response-generator", "limit": "customer"}) == before + 1


async def test_triage_skips_the_admission_for_undecodable_and_already_handled_tickets():
    admission = HoldTheFlood()
    runner = runner_with(admission)
    bad = record(envelope("T-1", FLOOD), 0)
    bad.value = b"\xff not protobuf"
    assert runner.triage(bad) == (None, None)
    runner.ledger.add("T-2")
    env, verdict = runner.triage(record(envelope("T-2", FLOOD), 1))
    assert verdict is None and env.ticket.ticket_id == "T-2"   # its repeat must not use up the customer's limit
    assert admission.asked == []
    out = await runner.handle_record(record(envelope("T-2", FLOOD), 1), env, verdict)
    assert [o.topic for o in out] == [topics.HOPS]


async def test_a_flood_of_held_back_tickets_takes_no_handling_slot_from_the_others():
    # Two handling slots: if the held-back tickets took them, the others would wait behind all 60.
    handled: list[str] = []
    admission = HoldTheFlood(lane_concurrency=2)
    runner = runner_with(admission, max_batch=2, handled=handled)
    flood = [record(envelope(f"F-{i}", FLOOD), i) for i in range(60)]
    others = [record(envelope(f"O-{i}", f"o{i}@example.com"), 60 + i) for i in range(3)]
    async with stage_harness(runner) as stage:
        await runner._receive(tuple(flood + others))
        await stage.settle(63)
    order = outcome_order(stage)
    assert sorted(order) == sorted([f"F-{i}" for i in range(60)] + ["O-0", "O-1", "O-2"])   # each once
    assert max(order.index(f"O-{i}") for i in range(3)) < order.index("F-59")
    assert sorted(handled) == ["O-0", "O-1", "O-2"]
    assert not runner._in_flight and not runner._held


async def test_the_held_lane_is_bounded_and_a_conversation_keeps_its_order_across_lanes():
    admission = HoldTheFlood(lane_size=3, lane_concurrency=1)
    runner = runner_with(admission)
    flood = [record(envelope(f"F-{i}", FLOOD), i) for i in range(10)]
    # The flooding customer's conversation C-F-9 goes on with a ticket the admission lets through.
    after = record(envelope("O-9", "other@example.com", conversation="C-F-9"), 10)
    async with stage_harness(runner) as stage:
        await runner._receive(tuple([*flood, after]))
        await stage.settle(11)
    order = outcome_order(stage)
    assert len(order) == 11 and order.index("F-9") < order.index("O-9")
    assert max(admission.held_at_once) <= 3


def test_the_held_lane_keeps_its_pace():
    admission = HoldTheFlood()
    admission.lane_rate_per_s = 10
    runner = runner_with(admission)
    waits = [runner._held_turn() for _ in range(4)]
    assert waits[0] == 0.0
    assert waits[1:] == pytest.approx([0.1, 0.2, 0.3], abs=0.01)
    runner._held.update(range(501))   # more than half the lane of 1000 waiting: the pace gives way
    assert runner._held_turn() == 0.0
    runner._held.clear()
    admission.lane_rate_per_s = 0
    assert runner._held_turn() == 0.0


async def test_held_back_messages_not_yet_answered_are_given_up_on_a_drain_and_read_again():
    # A stop or a rebalance must not wait for a flood's paced replies: the ones not begun are let go, unpublished
    # and uncommitted, and so is a later message of their conversation, which must not overtake them.
    admission = HoldTheFlood()
    admission.lane_rate_per_s = 1
    runner = runner_with(admission)
    flood = [record(envelope(f"F-{i}", FLOOD), i) for i in range(5)]
    after = record(envelope("O-4", "other@example.com", conversation="C-F-4"), 5)
    other = record(envelope("O-9", "other@example.com"), 6)
    async with stage_harness(runner) as stage:
        await runner._receive(tuple([*flood, after, other]))
        while runner.handled < 2:   # F-0 (its turn is now) and O-9
            await asyncio.sleep(0.01)
        runner._let_held_go()
        await runner.drain()
    assert sorted(outcome_order(stage)) == ["F-0", "O-9"]
    assert not runner._in_flight and not runner._held and not runner._held_waiting
    tp = next(iter(runner._marks._open))
    assert min(runner._marks._open[tp]) == 1   # the commit point stays before F-1: all five are read again
