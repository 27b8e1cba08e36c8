"""Inbound ticket decoding and the JSON form of outcome records."""

import json

import pytest
from supportmesh.v1.outcomes_pb2 import DlqRecord, DlqSource
from supportmesh.v1.ticket_pb2 import Customer, Ticket
from supportmesh_core.codec import MAX_BODY_BYTES, BadMessage, decode_ticket, to_dict, to_json_bytes

pytestmark = pytest.mark.unit


def test_json_ticket_keeps_fields_ignores_unknown_and_fills_ids():
    raw = json.dumps({"ticket_id": "T-1", "body": "where is my order", "customer": {"email": "a@b.co"},
                      "not_a_field": {"x": 1}}).encode()
    t = decode_ticket(raw, "application/json")
    assert (t.ticket_id, t.conversation_id, t.customer.email) == ("T-1", "T-1", "a@b.co")
    assert t.received_at.endswith("Z")


def test_generated_ids_when_absent():
    t = decode_ticket(b'{"body": "hello"}')
    assert t.ticket_id.startswith("T-") and t.conversation_id == t.ticket_id


def test_protobuf_ticket_by_header_and_by_sniffing():
    raw = Ticket(ticket_id="T-9", body="refund please", customer=Customer(zip="19122")).SerializeToString()
    assert decode_ticket(raw, "application/x-protobuf").customer.zip == "19122"
    assert decode_ticket(raw).ticket_id == "T-9"


@pytest.mark.parametrize(
    ("raw", "ctype", "reason"),
    [
        (b"", None, "empty message"),
        (b'{"body": ""}', None, "body is empty"),
        (b'{"subject": "no body"}', None, "body is empty"),
        (b'{"body": 42}', None, "wrong type"),
        (b'{"body": "x", "customer": "bob"}', None, "wrong type"),
        (b'["body"]', None, "must be a JSON object"),
        (b'{"body": "caf\xe9"}', "application/json", "invalid UTF-8"),
        (b"{not json", None, "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, None, "nested too deeply"),
        (b"\xff\xfe\x00garbage", None, "neither JSON nor a protobuf Ticket"),
        (b"{}", "text/plain", "unsupported content-type"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(raw, ctype, reason):
    with pytest.raises(BadMessage, match=reason):
        decode_ticket(raw, ctype)


def test_body_size_limit_is_64_kib():
    ok = json.dumps({"body": "a" * MAX_BODY_BYTES}).encode()
    assert len(decode_ticket(ok).body) == MAX_BODY_BYTES
    with pytest.raises(BadMessage, match="over the 65536 byte limit"):
        decode_ticket(json.dumps({"body": "a" * (MAX_BODY_BYTES + 1)}).encode())


def test_outcome_json_is_snake_case_with_numeric_offsets():
    rec = DlqRecord(error="body is empty", source=DlqSource(topic="tickets.inbound", partition=2, offset=812))
    data = json.loads(to_json_bytes(rec))
    assert data["source"] == {"topic": "tickets.inbound", "partition": 2, "offset": 812, "key": ""}
    assert "original_base64" in data and to_dict(rec)["error"] == "body is empty"
