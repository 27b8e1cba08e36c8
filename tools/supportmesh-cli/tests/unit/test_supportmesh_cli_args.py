"""CLI parsing, ticket building and record rendering, without a broker."""

import base64
import io
import json
import re

import pytest
from aiokafka import ConsumerRecord
from supportmesh.v1.outcomes_pb2 import Reply, Response
from supportmesh_cli.main import build_parser, run_async
from supportmesh_cli.tail import Unreadable, decode_record, render, ticket_of
from supportmesh_cli.tickets import build_ticket, parse_metadata
from supportmesh_core.codec import BadMessage, decode_ticket, to_json_bytes

pytestmark = pytest.mark.unit


def rec(topic: str, value: bytes, headers=()) -> ConsumerRecord:
    return ConsumerRecord(topic=topic, partition=1, offset=812, timestamp=1_700_000_000_000, timestamp_type=0,
                          key=b"C-1", value=value, checksum=None, serialized_key_size=3,
                          serialized_value_size=len(value), headers=tuple(headers))


def test_publish_options_parse_with_defaults(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092")
    args = build_parser().parse_args(["publish", "--body", "where is it?", "--zip", "19122", "--meta", "a=b"])
    assert (args.command, args.body, args.zip_code, args.channel) == (
        "publish", "where is it?", "19122", "cli")
    assert args.bootstrap == "kafka-1:9092"
    assert args.ticket_id == "" and args.meta == ["a=b"]


def test_tail_options_parse():
    args = build_parser().parse_args(["tail", "--json", "--from-beginning", "--ticket", "T-1",
                                      "--timeout", "2.5", "--bootstrap", "h:1"])
    assert (args.json, args.from_beginning, args.ticket, args.timeout, args.bootstrap) == (
        True, True, "T-1", 2.5, "h:1")
    assert build_parser().parse_args(["tail"]).timeout is None


@pytest.mark.parametrize("argv", [["publish"], ["tail", "--timeout", "0"], ["tail", "--timeout", "soon"], []])
def test_bad_arguments_exit_with_code_2(argv):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2


def test_ticket_gets_ids_and_survives_the_mesh_decoder():
    ticket = build_ticket("Where is order #W2378156?", subject="late", email="a@example.com", name="Ann",
                          zip_code="19122", metadata={"run": "7"})
    assert re.fullmatch(r"T-[0-9a-f]{12}", ticket.ticket_id)
    assert ticket.conversation_id == ticket.ticket_id
    assert ticket.channel == "cli" and ticket.received_at.endswith("Z")
    wire = json.loads(to_json_bytes(ticket))
    assert wire["customer"] == {"email": "a@example.com", "name": "Ann", "zip": "19122", "customer_id": ""}
    assert wire["metadata"] == {"source": "supportmesh-cli", "run": "7"}
    assert decode_ticket(to_json_bytes(ticket), "application/json") == ticket


def test_given_ids_are_kept():
    ticket = build_ticket("hi", ticket_id="T-given", conversation_id="C-9", channel="email")
    assert (ticket.ticket_id, ticket.conversation_id, ticket.channel) == ("T-given", "C-9", "email")


def test_a_ticket_the_mesh_would_dead_letter_is_refused():
    with pytest.raises(BadMessage, match="body is empty"):
        build_ticket("   ")
    with pytest.raises(BadMessage, match="key=value"):
        parse_metadata(["novalue"])


async def test_empty_body_and_unreachable_kafka_exit_2(capsys):
    assert await run_async(["publish", "--body", " "]) == 2
    assert "body is empty" in capsys.readouterr().err
    out = io.StringIO()
    assert await run_async(["publish", "--body", "hi", "--bootstrap", "127.0.0.1:1"], out=out) == 2
    assert "cannot reach Kafka at 127.0.0.1:1" in capsys.readouterr().err
    assert out.getvalue() == ""


def test_response_renders_headline_then_reply():
    data = {"ticket_id": "T-1", "intent": "track_order", "confidence": 0.93, "latency_ms": 84,
            "engine": "local",
            "reply": {"text": "Your order #W1 was delivered.\nTracking 84305.", "citations": ["order:#W1"]},
            "actions": [{"name": "get_order", "status": "done"}]}
    lines = render(rec("tickets.responses", b"{}"), data).splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d RESPONSE T-1 track_order \(0\.93\) 84 ms engine=local", lines[0])
    assert lines[1:] == ["  Your order #W1 was delivered.", "  Tracking 84305.", "  cites: order:#W1",
                         "  actions: get_order=done"]


def test_escalation_and_dead_letter_render_their_reason():
    esc = render(rec("tickets.escalations", b"{}"), {"ticket_id": "T-2", "reason": "refund_above_limit",
                                                     "intent": "get_refund", "priority": "high",
                                                     "summary": "Refund of $900 asked", "case_id": "CASE-1"})
    assert "ESCALATION T-2 reason=refund_above_limit intent=get_refund priority=high case=CASE-1" in esc
    assert esc.splitlines()[1] == "  Refund of $900 asked"
    source = {"topic": "tickets.inbound", "partition": 0, "offset": 5}
    dlq = render(rec("tickets.dlq", b"{}"), {"error": "body is empty", "service": "intent-classifier",
                                             "source": source})
    assert dlq.endswith("DLQ error=body is empty source=tickets.inbound/0/5 by=intent-classifier")


def test_records_decode_from_json_or_protobuf_and_name_their_ticket():
    proto = Response(ticket_id="T-3", reply=Reply(text="hi")).SerializeToString()
    data = decode_record(rec("tickets.responses", proto, [("content-type", b"application/x-protobuf")]))
    assert data["ticket_id"] == "T-3" and data["reply"]["text"] == "hi"
    original = base64.b64encode(b'{"ticket_id": "T-4", "body": ""}').decode()
    dead = rec("tickets.dlq", json.dumps({"error": "body is empty", "original_base64": original}).encode())
    assert ticket_of(dead, decode_record(dead)) == "T-4"
    with pytest.raises(Unreadable):
        decode_record(rec("tickets.responses", b"\xff not json"))
