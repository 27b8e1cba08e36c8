"""Generate docs/asyncapi.yaml (AsyncAPI 3.0) from the services' faststream declarations; --check fails on drift."""

import argparse
import difflib
import pathlib
import sys
import tomllib

import yaml
from faststream.kafka import KafkaBroker, Topic
from faststream.specification import AsyncAPI
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from supportmesh.v1.agent_reply_pb2 import AgentReply
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh.v1.outcomes_pb2 import DlqRecord, Escalation, Response
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core import codec, handback, topics
from supportmesh_core.kafka import TOPIC_DESCRIPTIONS, declare_stage, new_broker

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "asyncapi.yaml"
PROTOS = ROOT / "protos"
HOP_INDEXER = "hop-indexer"
PROTOBUF_FORMAT = "application/vnd.google.protobuf;version=3"
# faststream writes a correlation_id header on everything it publishes (the stages publish through it).
CORRELATION_ID = {"location": "$message.header#/correlation_id"}

# What each topic carries and in which encodings, JSON first. The outcome topics are JSON unless a service runs
# with SUPPORTMESH_OUTPUT_FORMAT=protobuf; tickets.inbound takes either (content-type, or sniffed without one).
CONTRACTS: dict[str, tuple[type | None, tuple[str, ...]]] = {
    topics.INBOUND: (Ticket, ("json", "protobuf")),
    topics.AGENT_REPLIES: (AgentReply, ("json", "protobuf")),
    topics.RESPONSES: (Response, ("json", "protobuf")),
    topics.ESCALATIONS: (Escalation, ("json", "protobuf")),
    topics.DLQ: (DlqRecord, ("json", "protobuf")),
    topics.HOPS: (HopRecord, ("protobuf",)),
    topics.FORWARDED: (None, ("empty",)),   # a marker: the key and a header say it all
    **{topics.stage_topic(s): (Envelope, ("protobuf",)) for s in topics.STAGES[1:]},
}

_TRACE = {
    "traceparent": {"type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                    "description": "W3C trace context of the span that produced the message."},
    "tracestate": {"type": "string", "description": "W3C vendor trace state, when the trace has one."},
    "baggage": {"type": "string", "description": "W3C baggage, when the trace has any."},
}
_TICKET_ID = {"type": "string",
              "description": "The ticket's id; the stages' ticket ledgers read it back from the outcome topics."}
_CORRELATION = {"type": "string", "description": "Set by faststream on every message it publishes."}
# The content types codec.decode_ticket reads as each format.
_INBOUND_TYPES = {codec.JSON_TYPE: (codec.JSON_TYPE, "text/json"),
                  codec.PROTOBUF_TYPE: (codec.PROTOBUF_TYPE, "application/protobuf")}


def _headers(topic: str, content_type: str) -> dict:
    """The Kafka headers a message on `topic` carries, as the code writes them (supportmesh_core.stage, the CLI)."""
    props: dict[str, dict] = {"content-type": {"type": "string", "enum": [content_type]}, **_TRACE}
    required: list[str] = []
    if topic in (topics.INBOUND, topics.AGENT_REPLIES):
        # Written by whoever publishes a ticket (`supportmesh publish` sets content-type and ticket-id); nothing
        # is required: without content-type the classifier sniffs the format, without traceparent a trace starts.
        props["content-type"] = {"type": "string", "enum": list(_INBOUND_TYPES[content_type]),
                                 "description": "Case and parameters are ignored; when absent the format is sniffed."}
        props["ticket-id"] = {"type": "string", "description": "Informational; the record's own ticket_id counts."}
    elif topic == topics.HOPS:
        # Hop records carry no headers of ours: faststream's empty content-type and its correlation id from the
        # stages, nothing at all from commerce's producer. The format is fixed: HopRecord protobuf.
        props = {"content-type": {"type": "string", "enum": [""]}, "correlation_id": _CORRELATION}
    elif topic == topics.FORWARDED:
        props = {"content-type": {"type": "string", "enum": [""]}, "correlation_id": _CORRELATION,
                 "ticket-id": {"type": "string", "description": "The ticket the stage named by the key passed on."}}
        required = ["ticket-id"]
    else:
        props["correlation_id"] = _CORRELATION
        required = ["content-type", "correlation_id", "traceparent"]
        if topic != topics.DLQ:  # a dead letter is a message no stage could read: there is no ticket id
            props["ticket-id"] = _TICKET_ID
            required.append("ticket-id")
    headers = {"type": "object", "properties": props}
    if required:
        headers["required"] = sorted(required)
    return headers


# --- protobuf message → JSON Schema of what codec.to_dict writes (snake_case names, every field present) ---

_INT32 = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32 = {"type": "integer", "minimum": 0, "maximum": 2**32 - 1}
_SCALARS = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"}, FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_INT32: _INT32, FieldDescriptor.TYPE_SINT32: _INT32, FieldDescriptor.TYPE_SFIXED32: _INT32,
    FieldDescriptor.TYPE_UINT32: _UINT32, FieldDescriptor.TYPE_FIXED32: _UINT32,
    # proto3 JSON writes 64-bit integers as strings; codec.to_dict writes them as numbers.
    **{t: {"type": "integer"} for t in codec._INT64},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"}, FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_schema(descriptor: Descriptor, schemas: dict, *, inbound: bool = False) -> dict:
    """Add the JSON Schema of `descriptor` and the messages it uses to `schemas`; returns a $ref to it.

    Outgoing records list every field as required (codec.to_dict prints fields without presence, so all but
    unset message fields); an inbound ticket requires only what decode_ticket refuses to do without.
    """
    name = descriptor.full_name
    properties = {}
    for field in descriptor.fields:
        properties[field.name] = _field_schema(field, schemas, inbound)
    required = [] if inbound else [f.name for f in descriptor.fields if not f.has_presence]
    if inbound and descriptor is Ticket.DESCRIPTOR:
        required = ["body"]
        properties["body"] = {**properties["body"], "minLength": 1,
                              "description": f"Required; at most {codec.MAX_BODY_BYTES} bytes of UTF-8, no NUL."}
    if inbound and descriptor is AgentReply.DESCRIPTOR:
        required = ["ticket_id", "conversation_id", "agent_id", "text"]   # what decode_agent_reply requires
    schema = {"type": "object", "title": name, "properties": properties}
    if required:
        schema["required"] = required
    if schemas.setdefault(name, schema) != schema:
        raise SystemExit(f"{name} is used both inbound and outbound; give the two schemas different names")
    return _ref(name)


def _field_schema(field: FieldDescriptor, schemas: dict, inbound: bool) -> dict:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        message = field.message_type
        if message.GetOptions().map_entry:
            # A map is a JSON object; proto3 JSON writes its keys as strings.
            return {"type": "object", "additionalProperties": _field_schema(message.fields_by_name["value"],
                                                                              schemas, inbound)}
        if message.file.package == "google.protobuf":
            raise SystemExit(f"{field.full_name}: well-known types have their own JSON mapping; add it here")
        item = json_schema(message, schemas, inbound=inbound)
    elif field.type == FieldDescriptor.TYPE_ENUM:
        item = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
    elif field.type in _SCALARS:
        item = dict(_SCALARS[field.type])
    else:
        raise SystemExit(f"{field.full_name}: protobuf type {field.type} has no JSON mapping here")
    return {"type": "array", "items": item} if field.is_repeated else item


def _protobuf_payload(descriptor: Descriptor) -> dict:
    """AsyncAPI's multi-format schema: the text of the .proto file that defines the message."""
    return {"schemaFormat": PROTOBUF_FORMAT, "schema": (PROTOS / descriptor.file.name).read_text()}


def _message(topic: str, cls: type | None, fmt: str, schemas: dict) -> tuple[str, dict]:
    if cls is None:
        return "ForwardedMarker", {
            "name": "ForwardedMarker", "title": "Forwarded marker (empty value)", "contentType": "",
            "description": "No value: the key is the stage that passed the ticket on (all of a stage's markers "
                           "share one partition), the ticket-id header names the ticket.",
            "payload": {"type": "null"}, "headers": _headers(topic, ""), "correlationId": CORRELATION_ID}
    descriptor = cls.DESCRIPTOR
    source = f"protos/{descriptor.file.name}"
    if fmt == "json":
        name, content_type = descriptor.name, codec.JSON_TYPE
        payload = json_schema(descriptor, schemas, inbound=topic in (topics.INBOUND, topics.AGENT_REPLIES))
        about = f"{descriptor.full_name} as canonical snake_case JSON (defined in {source})."
    else:
        imports = ", ".join(d.name for d in descriptor.file.dependencies)
        name = descriptor.name if len(CONTRACTS[topic][1]) == 1 else f"{descriptor.name}Protobuf"
        content_type, payload = codec.PROTOBUF_TYPE, _protobuf_payload(descriptor)
        about = (f"{descriptor.full_name}, protobuf-encoded; the schema is {source}"
                 + (f" (it imports {imports})." if imports else "."))
    message = {"name": name, "title": f"{descriptor.full_name} ({fmt})", "contentType": content_type,
               "description": about, "payload": payload, "headers": _headers(topic, content_type)}
    if topic not in (topics.INBOUND, topics.AGENT_REPLIES):
        message["correlationId"] = CORRELATION_ID
    return name, message


# --- the document ---

def declarations() -> tuple[KafkaBroker, list[tuple[str, str, str, str | None]]]:
    """One broker (never connected) carrying every stage's declarations and the hop indexer's subscription.

    Also returns who does what: (service, action, topic, consumer group) for each subscriber and publisher.
    """
    broker = new_broker("127.0.0.1:9092", "supportmesh")
    endpoints = []
    for stage in topics.STAGES:
        subscriber, publishers = declare_stage(broker, stage)  # exactly what each service's StageRunner declares
        endpoints.append((stage, "receive", _address(subscriber), subscriber.group_id))
        endpoints += [(stage, "send", _address(p), None) for p in publishers.values()]
    # The compressor's second input, the agent desk's replies (its publishers are the stage's, declared above).
    replies, _ = declare_stage(broker, handback.CONSUMER, source=topics.AGENT_REPLIES,
                               group_id=handback.consumer_group())
    endpoints.append((handback.CONSUMER, "receive", _address(replies), replies.group_id))
    # The hop indexer is not a stage: its batch subscriber lives in services/hop-indexer; this is its topic and group.
    indexer = broker.subscriber(Topic(topics.HOPS, declare=False), group_id=HOP_INDEXER,
                                title=f"{topics.HOPS}:{HOP_INDEXER}", description=TOPIC_DESCRIPTIONS[topics.HOPS])
    endpoints.append((HOP_INDEXER, "receive", _address(indexer), indexer.group_id))
    return broker, endpoints


def _address(endpoint) -> str:
    (address,) = {channel.address for channel in endpoint.schema().values()}
    return address


def document() -> dict:
    """The AsyncAPI document: faststream's description of the declarations, one channel per topic, our payloads."""
    broker, endpoints = declarations()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    spec = AsyncAPI(broker, title="supportmesh", version=version, schema_version="3.0.0", description=(
        "The Kafka topics of the supportmesh services and who sends and receives on each. Generated by "
        "scripts/asyncapi.py (`make asyncapi`) from the same faststream declarations the services run on."
    )).to_specification().to_jsonable()

    # faststream writes a channel per declaration (a topic five stages publish to is five channels) and an opaque
    # payload (the handlers take bytes): here each topic becomes one channel, with the messages of our contracts.
    schemas: dict[str, dict] = {}
    messages: dict[str, dict] = {}
    channels: dict[str, dict] = {}
    for channel in spec["channels"].values():
        topic = channel["address"]
        if topic not in CONTRACTS:
            raise SystemExit(f"{topic} is declared but has no contract in scripts/asyncapi.py CONTRACTS")
        if topic in channels:
            continue
        cls, formats = CONTRACTS[topic]
        refs = {}
        for fmt in formats:
            name, message = _message(topic, cls, fmt, schemas)
            messages[name] = message
            refs[name] = {"$ref": f"#/components/messages/{name}"}
        channels[topic] = {"address": topic, "description": TOPIC_DESCRIPTIONS[topic], "messages": refs,
                           "servers": channel["servers"], "bindings": channel["bindings"]}

    operations = {}
    for service, action, topic, group in endpoints:
        operation = {"action": action, "channel": {"$ref": f"#/channels/{topic}"},
                     "messages": [{"$ref": f"#/channels/{topic}/messages/{m}"} for m in channels[topic]["messages"]],
                     "summary": f"{service} consumes {topic} as consumer group {group}" if group
                     else f"{service} publishes to {topic}"}
        if group:
            operation["bindings"] = {"kafka": {"groupId": {"type": "string", "enum": [group]},
                                               "bindingVersion": "0.4.0"}}
        key = f"{service}.{action}.{topic}"
        if key in operations:
            raise SystemExit(f"{service} declares {action} on {topic} twice")
        operations[key] = operation

    spec["channels"], spec["operations"] = channels, operations
    spec["components"] = {"messages": messages, "schemas": schemas}
    return spec


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the .proto texts) as literal blocks, so the file reads like the protos; no anchors."""

    def ignore_aliases(self, data) -> bool:
        return True


_Dumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s
                                                             else None))


def render() -> str:
    body = yaml.dump(document(), Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=120)
    return "# Generated by scripts/asyncapi.py (make asyncapi) from the services' declarations: do not edit.\n" + body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if {OUTPUT.relative_to(ROOT)} is out of date")
    args = parser.parse_args()
    text = render()
    if not args.check:
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
        return 0
    current = OUTPUT.read_text() if OUTPUT.exists() else ""
    if current == text:
        print(f"{OUTPUT.relative_to(ROOT)} up to date")
        return 0
    diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(), "committed", "generated", lineterm=""))
    print("\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else ""), file=sys.stderr)
    print(f"{OUTPUT.relative_to(ROOT)} differs from the services' declarations: run 'make asyncapi'", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
