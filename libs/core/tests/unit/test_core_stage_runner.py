"""The stage runner's routing, dead-lettering, retries and duplicate suppression, without Kafka."""

import asyncio
import json
import time

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import Escalation, Reply, Response
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core import topics
from supportmesh_core.kafka import StageRunner, Watermarks
from supportmesh_core.ledger import TicketLedger
from supportmesh_core.settings import ServiceSettings
from supportmesh_core.stage import Escalate, Forward, Respond, StageHopSink
from supportmesh_core.testing import stage_harness

pytestmark = pytest.mark.unit


def settings(name="retriever", **kw):
    return ServiceSettings(OTEL_SERVICE_NAME=name, STAGE_HANDLER_ATTEMPTS=kw.get("attempts", 2))


def record(value: bytes, key=b"C-1", offset=0, headers=()):
    return ConsumerRecord(topic="stage.retriever", partition=0, offset=offset, timestamp=0, timestamp_type=0,
                          key=key, value=value, checksum=None, serialized_key_size=len(key or b""),
                          serialized_value_size=len(value), headers=list(headers))


def envelope(ticket_id="T-1", slip=("technical-analyst", "response-generator")) -> Envelope:
    env = Envelope(ticket=Ticket(ticket_id=ticket_id, conversation_id="C-1", body="hi"), received_unix_ms=1)
    env.routing_slip.extend(slip)
    return env


def hops(out):
    return [HopRecord.FromString(o.value) for o in out if o.topic == topics.HOPS]


async def test_forward_pops_the_slip_and_emits_one_hop():
    async def handler(env: Envelope, hop: HopRecord):
        hop.intent = "track_order"
        return Forward(env)

    runner = StageRunner(settings(), handler, input_topic="stage.retriever")
    out = await runner.handle_record(record(envelope().SerializeToString()))
    assert [o.topic for o in out] == ["stage.technical-analyst", topics.FORWARDED, topics.HOPS]
    forwarded = Envelope.FromString(out[0].value)
    assert list(forwarded.routing_slip) == ["response-generator"]
    assert list(forwarded.visited) == ["retriever"]
    assert out[0].key == b"C-1"
    (hop,) = hops(out)
    assert (hop.service, hop.ticket_id, hop.outcome, hop.intent) == ("retriever", "T-1", "success", "track_order")
    assert len(hop.trace_id) == 32 and hop.destination == "stage.technical-analyst"


async def test_undecodable_input_goes_to_the_dlq_with_its_source():
    async def handler(env, hop):
        raise AssertionError("never called")

    runner = StageRunner(settings(), handler, input_topic="stage.retriever")
    out = await runner.handle_record(record(b"\xff\x00 not protobuf", offset=41))
    assert [o.topic for o in out] == [topics.DLQ, topics.HOPS]
    dlq = json.loads(out[0].value)
    assert dlq["source"]["offset"] == 41 and dlq["source"]["topic"] == "stage.retriever"
    assert dlq["error"] and dlq["original_base64"]
    assert hops(out)[0].outcome == "failure"


async def test_a_failing_handler_is_retried_then_escalated():
    calls = []

    async def handler(env, hop):
        calls.append(1)
        raise RuntimeError("elasticsearch said no")

    runner = StageRunner(settings(attempts=2), handler, input_topic="stage.retriever")
    out = await runner.handle_record(record(envelope().SerializeToString()))
    assert len(calls) == 2
    assert [o.topic for o in out] == [topics.ESCALATIONS, topics.HOPS]
    esc = json.loads(out[0].value)
    assert esc["reason"] == "stage_failed" and "elasticsearch said no" in esc["summary"]
    assert esc["ticket_id"] == "T-1" and esc["escalated_by"] == "retriever"
    hop = hops(out)[0]
    assert hop.outcome == "failure" and hop.retries == 1


async def test_an_outcome_is_published_once_per_ticket():
    async def handler(env, hop):
        return Respond(env, Response(reply=Reply(text="Your order shipped.")))

    runner = StageRunner(settings("response-generator"), handler, input_topic="stage.response-generator")
    first = await runner.handle_record(record(envelope(slip=()).SerializeToString()))
    again = await runner.handle_record(record(envelope(slip=()).SerializeToString(), offset=1))
    assert [o.topic for o in first] == [topics.RESPONSES, topics.HOPS]
    assert [o.topic for o in again] == [topics.HOPS]
    assert hops(again)[0].labels["duplicate_suppressed"] == "true"
    resp = json.loads(first[0].value)
    assert resp["reply"]["text"] == "Your order shipped." and resp["conversation_id"] == "C-1"


async def test_a_ticket_passed_on_once_is_dropped_when_redelivered_even_if_it_would_now_escalate():
    # The first copy goes on (and is answered downstream); a late redelivered copy would take another path.
    paths = iter([Forward, lambda env: Escalate(env, Escalation(reason="no_grounding"))])

    async def handler(env, hop):
        return next(paths)(env)

    runner = StageRunner(settings("technical-analyst"), handler, input_topic="stage.technical-analyst")
    first = await runner.handle_record(record(envelope(slip=("response-generator",)).SerializeToString()))
    again = await runner.handle_record(record(envelope(slip=("response-generator",)).SerializeToString(), offset=1))
    assert [o.topic for o in first] == ["stage.response-generator", topics.FORWARDED, topics.HOPS]
    assert [o.topic for o in again] == [topics.HOPS]
    assert hops(again)[0].labels["duplicate_suppressed"] == "true"


async def test_a_ticket_answered_by_a_later_stage_is_not_handled_again_here():
    async def handler(env, hop):
        raise AssertionError("a ticket with an outcome must not be handled again")

    runner = StageRunner(settings(), handler, input_topic="stage.retriever")
    runner.ledger.add("T-1")   # what following tickets.responses records when the response-generator answers
    out = await runner.handle_record(record(envelope().SerializeToString()))
    assert [o.topic for o in out] == [topics.HOPS]


def test_the_ledger_forgets_tickets_older_than_its_window():
    ledger = TicketLedger(window_hours=1)
    ledger.add("T-old", at=time.time() - 2 * 3600)
    ledger.add("T-new")
    assert "T-new" in ledger and "T-old" not in ledger and len(ledger) == 1
    ledger.add("T-new", at=0)   # a second sighting keeps the first time
    assert "T-new" in ledger


async def test_forward_with_an_empty_slip_escalates_instead_of_dropping():
    async def handler(env, hop):
        return Forward(env)

    runner = StageRunner(settings(), handler, input_topic="stage.retriever")
    out = await runner.handle_record(record(envelope(slip=()).SerializeToString()))
    assert json.loads(out[0].value)["reason"] == "routing_error"


async def test_each_conversation_stays_in_order_while_others_overlap():
    finished = []

    async def handler(env, hop):
        await asyncio.sleep(0.05 if env.ticket.ticket_id == "T-0" else 0.001)
        finished.append(env.ticket.ticket_id)
        return Escalate(env, Escalation(reason="test"))

    runner = StageRunner(settings(), handler, input_topic="stage.retriever")
    async with stage_harness(runner) as stage:
        for i in range(6):
            await stage.send(envelope(f"T-{i}").SerializeToString(), key=f"C-{i % 2}".encode())
        await stage.settle(6)
    assert [t for t in finished if t in ("T-0", "T-2", "T-4")] == ["T-0", "T-2", "T-4"]
    assert [t for t in finished if t in ("T-1", "T-3", "T-5")] == ["T-1", "T-3", "T-5"]
    assert finished.index("T-5") < finished.index("T-0")  # the slow conversation held up no other
    assert runner.handled == 6 and not runner._in_flight
    assert len(stage.on(topics.ESCALATIONS)) == 6


def test_commit_point_is_the_oldest_message_not_yet_published():
    marks, tp = Watermarks(), TopicPartition("t", 0)
    for offset in (10, 11, 12):
        marks.started(tp, offset)
    assert marks.finished(tp, 11) == 10  # 10 is still in flight: a crash must read it again
    assert marks.finished(tp, 10) == 12
    assert marks.finished(tp, 12) == 13
    marks.started(tp, 13)
    marks.abandoned(tp)  # revoked: a late finish must not move another owner's commit point
    assert marks.finished(tp, 13) is None


async def test_hops_of_calls_made_while_handling_join_the_message_output():
    async def handler(env, hop):
        call = HopRecord(span_id="c" * 16, action="call GetOrder", span_kind="client")
        await StageHopSink().emit(call)
        return Forward(env)

    runner = StageRunner(settings(), handler, input_topic="stage.retriever")
    out = await runner.handle_record(record(envelope().SerializeToString()))
    call, own = hops(out)
    assert call.action == "call GetOrder" and call.ticket_id == "T-1"
    assert own.service == "retriever"
