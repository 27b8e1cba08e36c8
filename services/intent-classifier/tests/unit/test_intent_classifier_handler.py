"""The stage handler and the inbound decoder: slips, escalations and dead letters."""

import json

import pytest
import yaml
from aiokafka import ConsumerRecord
from intent_classifier.domain.workflows import parse_workflows
from intent_classifier.handlers import ClassifierHandler, TicketDecoder, ticket_text
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.ticket_pb2 import Customer, Ticket
from supportmesh_core.codec import BadMessage
from supportmesh_core.kafka import StageRunner
from supportmesh_core.stage import Escalate, Forward
from supportmesh_core.topics import STAGES
from supportmesh_intent.classifier import Classifier

pytestmark = pytest.mark.unit


def _record(value: bytes | None, content_type: str | None = "application/json") -> ConsumerRecord:
    headers = [("content-type", content_type.encode())] if content_type else []
    return ConsumerRecord(
        topic="tickets.inbound",
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"C-1",
        value=value,
        checksum=None,
        serialized_key_size=3,
        serialized_value_size=len(value or b""),
        headers=headers,
    )


@pytest.fixture(scope="module")
def handler(model, settings):
    workflows = parse_workflows(yaml.safe_load(settings.workflows_path.read_text()), STAGES)
    workflows.check_intents(model.labels)
    return ClassifierHandler(Classifier(model), workflows, settings.min_confidence)


def _envelope(
    subject: str, body: str, name: str = "Yusuf Rossi", email: str = "yusuf@example.com"
) -> Envelope:
    return Envelope(
        ticket=Ticket(
            ticket_id="T-1",
            conversation_id="C-1",
            subject=subject,
            body=body,
            customer=Customer(name=name, email=email),
        )
    )


async def test_order_ticket_is_forwarded_with_the_full_slip(handler):
    env = _envelope(
        "Where is my order?", "Hi, order #W2378156 was due yesterday and hasn't arrived. Where is it?"
    )
    hop = HopRecord()
    result = await handler(env, hop)
    assert isinstance(result, Forward)
    assert list(result.envelope.routing_slip) == [
        "context-compressor",
        "retriever",
        "technical-analyst",
        "response-generator",
    ]
    c = result.envelope.classification
    assert (c.intent, c.category, c.workflow, c.engine) == ("track_order", "ORDER", "resolve", "local")
    assert [(e.type, e.value) for e in c.entities] == [("order_id", "#W2378156")]
    text = ticket_text(env.ticket)
    assert text[c.entities[0].start : c.entities[0].end] == "#W2378156"
    assert (hop.intent, hop.engine) == ("track_order", "local") and hop.confidence == pytest.approx(
        c.confidence
    )
    assert "Yusuf" not in hop.message


async def test_out_of_scope_is_declined_after_the_context_and_lookup_stages(handler):
    result = await handler(_envelope("", "what's the weather forecast for Chicago tomorrow?"), HopRecord())
    assert isinstance(result, Forward)
    assert list(result.envelope.routing_slip) == ["context-compressor", "retriever", "response-generator"]


async def test_legal_threat_goes_to_the_analyst_for_a_case(handler):
    env = _envelope(
        "Refund", "I returned the jacket a month ago. Refund me now or I will sue you. Order #W1234567."
    )
    result = await handler(env, HopRecord())
    assert isinstance(result, Forward)
    c = result.envelope.classification
    assert c.workflow == "dispute" and "legal" in c.flags and c.priority == "urgent"
    assert list(result.envelope.routing_slip) == ["context-compressor", "retriever", "technical-analyst",
                                                  "response-generator"]


async def test_a_violent_threat_escalates_at_once_with_a_handoff(handler):
    env = _envelope("Refund", "Refund me now or I will come to your office and make you regret it. Order #W1234567.")
    result = await handler(env, HopRecord())
    assert isinstance(result, Escalate)
    esc = result.escalation
    assert esc.reason == "threat" and list(result.envelope.routing_slip) == []
    assert result.envelope.classification.priority == "urgent"
    assert "Yusuf Rossi <yusuf@example.com>" in esc.summary and "order_id #W1234567" in esc.summary
    assert "threatening language" in esc.summary
    assert esc.customer_message.startswith("Hi Yusuf,")
    assert "refund" not in esc.customer_message.lower()


async def test_human_request_escalates(handler):
    result = await handler(
        _envelope("", "I want to speak to a human agent please", name="", email=""), HopRecord()
    )
    assert isinstance(result, Escalate)
    assert result.escalation.reason == "human_requested"
    assert "unknown name no e-mail" in result.escalation.summary


def test_decoder_builds_a_new_envelope_with_a_deadline():
    decode = TicketDecoder(5000, clock=lambda: 1_700_000_000.0)
    env = decode(_record(json.dumps({"ticket_id": "T-9", "body": "where is my order?"}).encode()))
    assert env.ticket.ticket_id == "T-9" and env.ticket.conversation_id == "T-9"
    assert env.received_unix_ms == 1_700_000_000_000
    assert env.deadline_unix_ms == 1_700_000_005_000
    assert list(env.routing_slip) == []


def test_decoder_reads_protobuf_by_header():
    raw = Ticket(ticket_id="T-2", body="cancel my order").SerializeToString()
    assert TicketDecoder(5000)(_record(raw, "application/x-protobuf")).ticket.body == "cancel my order"


@pytest.mark.parametrize(
    ("value", "ctype", "error"),
    [
        (b"", "application/json", "empty message"),
        (None, None, "empty message"),
        (b"{not json", "application/json", "not JSON"),
        (json.dumps({"ticket_id": "T-3", "body": "   "}).encode(), "application/json", "body is empty"),
        (json.dumps({"ticket_id": "T-4"}).encode(), None, "body is empty"),
        (b"<ticket/>", "text/xml", "unsupported content-type"),
    ],
)
def test_undecodable_records_raise_bad_message(value, ctype, error):
    with pytest.raises(BadMessage, match=error):
        TicketDecoder(5000)(_record(value, ctype))


async def test_stage_runner_dead_letters_what_the_decoder_rejects(handler, settings):
    runner = StageRunner(settings, handler, input_topic="tickets.inbound", decoder=TicketDecoder(5000))
    out = await runner.handle_record(_record(b"{not json"))
    assert [o.topic for o in out] == ["tickets.dlq", "telemetry.hops"]
    assert json.loads(out[0].value)["error"].startswith("not JSON")
    good = json.dumps({"ticket_id": "T-5", "conversation_id": "C-5", "body": "please cancel order #W1234567"})
    out = await runner.handle_record(_record(good.encode()))
    assert [o.topic for o in out] == ["stage.context-compressor", "stage.forwarded", "telemetry.hops"]
    env = Envelope.FromString(out[0].value)
    assert list(env.routing_slip) == ["retriever", "technical-analyst", "response-generator"]
    assert env.classification.intent == "cancel_order"
    assert env.deadline_unix_ms - env.received_unix_ms == 5000
