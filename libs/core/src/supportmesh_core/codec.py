"""Wire formats: canonical snake_case JSON for the user-facing topics, and strict inbound ticket decoding."""

import base64
import json
import uuid
from datetime import UTC, datetime

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from supportmesh.v1.ticket_pb2 import Ticket

MAX_BODY_BYTES = 64 * 1024
JSON_TYPE = "application/json"
PROTOBUF_TYPE = "application/x-protobuf"
_INT64 = {FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT64,
          FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED64}


class BadMessage(ValueError):
    """A message that can never be handled; its text becomes the DLQ record's error."""


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_dict(msg: Message) -> dict:
    """The canonical JSON form with proto field names and every field present.

    Proto3 JSON writes 64-bit integers as strings; ours (offsets, timestamps) stay far below 2**53,
    so they are written as plain numbers, which is what JSON consumers expect.
    """
    data = json_format.MessageToDict(msg, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)
    _int64_as_numbers(msg, data)
    return data


def _int64_as_numbers(msg: Message, data: dict) -> None:
    for field in msg.DESCRIPTOR.fields:
        name = field.name
        if name not in data:
            continue
        if field.type in _INT64:
            data[name] = [int(v) for v in data[name]] if field.is_repeated else int(data[name])
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not field.message_type.GetOptions().map_entry:
            values = getattr(msg, name)
            if field.is_repeated:
                for sub_msg, sub_data in zip(values, data[name], strict=True):
                    _int64_as_numbers(sub_msg, sub_data)
            elif msg.HasField(name):
                _int64_as_numbers(values, data[name])


def to_json_bytes(msg: Message) -> bytes:
    return json.dumps(to_dict(msg), ensure_ascii=False, separators=(",", ":")).encode()


def encode_output(msg: Message, fmt: str) -> tuple[bytes, str]:
    """Serialise an outcome record in the configured format; returns (bytes, content-type)."""
    if fmt == "protobuf":
        return msg.SerializeToString(), PROTOBUF_TYPE
    return to_json_bytes(msg), JSON_TYPE


def decode_ticket(raw: bytes | None, content_type: str | None = None) -> Ticket:
    """Decode and validate an inbound ticket (JSON or protobuf), filling ids and time when absent.

    Raises BadMessage with a reason a producer can act on.
    """
    if not raw:
        raise BadMessage("empty message")
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in (JSON_TYPE, "text/json") or (not ctype and raw.lstrip()[:1] in (b"{", b"[", b"\"")):
        ticket = _ticket_from_json(raw)
    elif ctype in (PROTOBUF_TYPE, "application/protobuf", "application/x-protobuf; messagetype=ticket") or not ctype:
        ticket = _ticket_from_protobuf(raw, sniffed=not ctype)
    else:
        raise BadMessage(f"unsupported content-type {content_type!r}; use {JSON_TYPE} or {PROTOBUF_TYPE}")
    return _validated(ticket)


def _ticket_from_json(raw: bytes) -> Ticket:
    return message_from_json(raw, Ticket(), "a ticket")


def message_from_json(raw: bytes, message: Message, what: str) -> Message:
    """Strictly parse a user-facing JSON record into `message` (unknown fields ignored); BadMessage says why not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadMessage(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadMessage("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BadMessage(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise BadMessage(f"{what} must be a JSON object, got {type(data).__name__}")
    _check_objects(message.DESCRIPTOR, data)
    try:
        return json_format.ParseDict(data, message, ignore_unknown_fields=True)
    except RecursionError:
        raise BadMessage("JSON nested too deeply") from None
    except json_format.ParseError as exc:
        raise BadMessage(f"wrong type: {exc}"[:500]) from None


def _check_objects(descriptor, data: dict) -> None:
    # json_format quietly reads a string given for a message field as an empty message when unknown
    # fields are ignored, so "customer": "bob" would pass: message fields must be JSON objects.
    for field in descriptor.fields:
        value = data.get(field.name, data.get(field.json_name))
        if value is None or field.type != FieldDescriptor.TYPE_MESSAGE or field.is_repeated:
            continue
        if not isinstance(value, dict):
            raise BadMessage(f"wrong type: {field.name} must be a JSON object, got {type(value).__name__}")
        _check_objects(field.message_type, value)


def _ticket_from_protobuf(raw: bytes, sniffed: bool) -> Ticket:
    ticket = Ticket()
    try:
        ticket.ParseFromString(raw)
    except (DecodeError, RecursionError, UnicodeDecodeError) as exc:
        reason = "neither JSON nor a protobuf Ticket" if sniffed else f"not a protobuf Ticket: {exc}"
        raise BadMessage(reason) from None
    return ticket


def _validated(ticket: Ticket) -> Ticket:
    body = ticket.body.encode("utf-8", "surrogatepass")
    if not ticket.body.strip():
        raise BadMessage("body is empty")
    if len(body) > MAX_BODY_BYTES:
        raise BadMessage(f"body is {len(body)} bytes, over the {MAX_BODY_BYTES} byte limit")
    if "\x00" in ticket.body:
        raise BadMessage("body contains NUL characters")
    if not ticket.ticket_id:
        ticket.ticket_id = "T-" + uuid.uuid4().hex[:16]
    if not ticket.conversation_id:
        ticket.conversation_id = ticket.ticket_id
    if not ticket.received_at:
        ticket.received_at = now_rfc3339()
    return ticket


def b64(raw: bytes | None) -> str:
    return base64.b64encode(raw or b"").decode()
