"""docs/asyncapi.yaml: generated from the services' declarations, committed up to date, with real payloads."""

import pathlib
import sys

import pytest
import yaml
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.outcomes_pb2 import DlqRecord, DlqSource, Escalation, Response
from supportmesh_core import topics
from supportmesh_core.codec import to_dict

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "scripts"))

import asyncapi  # noqa: E402

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def generated() -> str:
    return asyncapi.render()


@pytest.fixture(scope="module")
def doc(generated) -> dict:
    return yaml.safe_load(generated)


def _resolve(doc: dict, ref: dict) -> dict:
    node = doc
    for part in ref["$ref"].removeprefix("#/").split("/"):
        node = node[part]
    return node


def _messages(doc: dict, topic: str) -> dict:
    return {name: _resolve(doc, ref) for name, ref in doc["channels"][topic]["messages"].items()}


def test_the_committed_document_is_what_the_declarations_generate(generated):
    assert asyncapi.OUTPUT.read_text() == generated, "docs/asyncapi.yaml is out of date: run `make asyncapi`"


def test_generating_twice_gives_the_same_text(generated):
    assert asyncapi.render() == generated


def test_every_topic_is_a_channel_with_who_sends_and_who_receives(doc):
    assert doc["asyncapi"] == "3.0.0"
    assert {c["address"] for c in doc["channels"].values()} == set(topics.all_topics())
    for topic in topics.all_topics():
        assert doc["channels"][topic]["address"] == topic
        actions = {op["action"] for op in doc["operations"].values() if op["channel"]["$ref"] == f"#/channels/{topic}"}
        # Clients outside the mesh write tickets.inbound (and the agent desk tickets.agent-replies) and read the
        # outcome topics; the stages' ledgers read the outcome topics and stage.forwarded with a plain consumer (no
        # group), not a declared subscriber.
        outside = {topics.INBOUND: {"receive"}, topics.AGENT_REPLIES: {"receive"}, topics.RESPONSES: {"send"},
                   topics.ESCALATIONS: {"send"},
                   topics.DLQ: {"send"}, topics.FORWARDED: {"send"}}
        assert actions == outside.get(topic, {"send", "receive"}), topic


def test_stage_topics_carry_the_envelope_as_protobuf(doc):
    proto = (asyncapi.PROTOS / Envelope.DESCRIPTOR.file.name).read_text()
    for stage in topics.STAGES[1:]:
        (message,) = _messages(doc, topics.stage_topic(stage)).values()
        assert message["contentType"] == "application/x-protobuf"
        assert message["payload"]["schemaFormat"] == "application/vnd.google.protobuf;version=3"
        assert message["payload"]["schema"] == proto and "message Envelope {" in proto
        assert "supportmesh.v1.Envelope" in message["title"]
        assert set(message["headers"]["required"]) >= {"traceparent", "ticket-id", "content-type"}


def test_responses_are_a_json_schema_with_every_response_field(doc):
    message = _messages(doc, topics.RESPONSES)["Response"]
    assert message["contentType"] == "application/json"
    schema = _resolve(doc, message["payload"])
    fields = [f.name for f in Response.DESCRIPTOR.fields]
    assert schema["type"] == "object" and set(schema["properties"]) == set(fields)
    assert {"ticket_id", "conversation_id", "reply", "latency_ms"} <= set(schema["properties"])
    # codec.to_dict prints every field without presence: all but the (unset-able) reply message.
    assert set(schema["required"]) == set(fields) - {"reply"}
    assert schema["properties"]["latency_ms"]["type"] == "integer"
    assert _resolve(doc, schema["properties"]["reply"])["properties"]["text"] == {"type": "string"}
    assert _resolve(doc, schema["properties"]["actions"]["items"])["title"] == "supportmesh.v1.Action"


def test_the_json_schemas_match_what_the_codec_writes(doc):
    escalation = to_dict(Escalation(ticket_id="T-1", reason="stage_failed", latency_ms=12))
    schema = _resolve(doc, _messages(doc, topics.ESCALATIONS)["Escalation"]["payload"])
    assert set(escalation) == set(schema["required"]) == set(schema["properties"])
    dead = to_dict(DlqRecord(error="not JSON", source=DlqSource(topic=topics.INBOUND, offset=7)))
    schema = _resolve(doc, _messages(doc, topics.DLQ)["DlqRecord"]["payload"])
    assert set(schema["required"]) <= set(dead) == set(schema["properties"])
    assert isinstance(dead["source"]["offset"], int)  # 64-bit offsets are JSON numbers, as the schema says
    assert _resolve(doc, schema["properties"]["source"])["properties"]["offset"] == {"type": "integer"}
