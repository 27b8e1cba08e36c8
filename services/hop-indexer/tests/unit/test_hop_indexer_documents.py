"""hop → ECS document: field names, omitted empties, daily index by UTC date, idempotent ids; the template."""

from datetime import UTC, datetime

import pytest
from hop_indexer.config import Settings
from hop_indexer.domain.documents import document_id, hop_to_document, index_name, iso_millis, iso_nanos
from hop_indexer.domain.template import index_template
from pydantic import ValidationError
from supportmesh.v1.hop_pb2 import HopRecord

pytestmark = pytest.mark.unit

START = int(datetime(2026, 11, 21, 23, 59, 59, tzinfo=UTC).timestamp()) * 10**9 + 987_654_321
INGESTED = START + 5 * 10**9


def full_hop() -> HopRecord:
    return HopRecord(
        start_unix_nanos=START, trace_id="a" * 32, span_id="b" * 16, parent_id="c" * 16,
        service="retriever", action="retriever", duration_ns=12_345_679, outcome="failure",
        error_message="TimeoutError: commerce", ticket_id="T-1", conversation_id="C-1",
        kafka_topic="stage.retriever", kafka_partition=2, kafka_offset=812, intent="track_order",
        confidence=0.93, engine="local", model="gpt-x", tokens_in=120, tokens_out=40, cost_usd=0.0021,
        retries=1, escalation_reason="stage_failed", fault={"latency_ms": "800"},
        destination="tickets.escalations", span_kind="consumer",
        labels={"duplicate_suppressed": "true", "kb.hits": "3", "": "empty"},
        message="where is my order [EMAIL]",
    )


def doc_of(hop: HopRecord):
    return hop_to_document(hop, index_prefix="supportmesh-hops", ingested_unix_nanos=INGESTED,
                           topic="telemetry.hops", partition=1, offset=44)


def test_every_hop_field_has_its_ecs_name():
    doc = doc_of(full_hop())
    body = doc.body
    assert body["@timestamp"] == "2026-11-21T23:59:59.987Z"
    assert body["event"]["start"] == "2026-11-21T23:59:59.987654321Z"
    assert body["event"]["end"] == "2026-11-22T00:00:00.000000000Z"
    assert body["event"]["duration"] == 12_345_679
    assert (body["event"]["action"], body["event"]["outcome"]) == ("retriever", "failure")
    assert body["trace"] == {"id": "a" * 32}
    assert body["span"] == {"id": "b" * 16, "kind": "consumer"}
    assert body["parent"] == {"id": "c" * 16}
    assert body["service"] == {"name": "retriever"}
    assert body["error"] == {"message": "TimeoutError: commerce"}
    assert body["ticket"] == {"id": "T-1"} and body["conversation"] == {"id": "C-1"}
    assert body["kafka"] == {"topic": "stage.retriever", "partition": 2, "offset": 812}
    assert body["destination"] == "tickets.escalations"
    assert (body["intent"], body["confidence"], body["engine"], body["model"]) == (
        "track_order", 0.93, "local", "gpt-x")
    assert body["tokens"] == {"in": 120, "out": 40}
    assert body["cost"] == {"usd": 0.0021}
    assert body["retries"] == 1
    assert body["escalation"] == {"reason": "stage_failed"}
    assert body["fault"] == {"latency_ms": "800", "injected": True}
    # Dotted keys would become objects in ES and clash with plain labels; empty keys are refused.
    assert body["labels"] == {"duplicate_suppressed": "true", "kb_hits": "3", "_": "empty"}
    assert body["message"] == "where is my order [EMAIL]"


def test_index_is_the_utc_day_of_the_start_and_id_is_the_span():
    doc = doc_of(full_hop())
    assert doc.index == "supportmesh-hops-2026.11.21"
    assert doc.doc_id == "b" * 16
    assert index_name("supportmesh-hops", START + 10**9) == "supportmesh-hops-2026.11.22"


def test_unset_fields_are_left_out():
    body = doc_of(HopRecord(start_unix_nanos=START, trace_id="a" * 32, span_id="b" * 16,
                            service="commerce", action="GetOrder", outcome="success")).body
    for absent in ("error", "parent", "ticket", "kafka", "intent", "confidence", "tokens", "cost",
                   "escalation", "fault", "labels", "message", "destination", "model"):
        assert absent not in body, absent
    assert body["retries"] == 0
    assert body["event"]["duration"] == 0


def test_non_finite_numbers_are_left_out_because_json_cannot_carry_them():
    body = doc_of(HopRecord(start_unix_nanos=START, span_id="b" * 16, intent="x",
                            confidence=float("nan"), cost_usd=float("inf"))).body
    assert "confidence" not in body and "cost" not in body
    assert body["intent"] == "x"


def test_hop_without_start_or_span_is_still_indexed_deterministically():
    hop = HopRecord(trace_id="a" * 32, service="x")
    doc = doc_of(hop)
    assert doc.body["@timestamp"] == iso_millis(INGESTED)
    assert doc.body["event"]["outcome"] == "unknown"
    assert doc.index == index_name("supportmesh-hops", INGESTED)
    # Its Kafka position is stable across redeliveries, so the id still overwrites rather than duplicates.
    assert doc.doc_id == document_id(hop, "telemetry.hops", 1, 44) == "telemetry.hops-1-44"


def test_time_formats_keep_their_precision():
    assert iso_millis(5) == "1970-01-01T00:00:00.000Z"
    assert iso_nanos(1_000_000_001) == "1970-01-01T00:00:01.000000001Z"


def test_template_maps_ids_as_keywords_and_durations_as_longs():
    body = index_template("supportmesh-hops-*")
    assert body["index_patterns"] == ["supportmesh-hops-*"]
    assert body["template"]["settings"] == {"number_of_shards": 1, "number_of_replicas": 0}
    props = body["template"]["mappings"]["properties"]
    assert props["@timestamp"]["type"] == "date"
    assert props["trace"]["properties"]["id"]["type"] == "keyword"
    assert props["event"]["properties"]["duration"]["type"] == "long"
    assert props["event"]["properties"]["outcome"]["type"] == "keyword"
    assert props["confidence"]["type"] == "float"
    assert props["error"]["properties"]["message"]["fields"]["keyword"]["type"] == "keyword"
    dynamic = body["template"]["mappings"]["dynamic_templates"]
    paths = [next(iter(t.values())).get("path_match") for t in dynamic]
    assert "labels.*" in paths and "fault.*" in paths


def test_settings_refuse_a_prefix_outside_the_template_pattern():
    assert Settings().index_prefix == "supportmesh-hops"
    with pytest.raises(ValidationError):
        Settings(HOP_INDEX_PREFIX="hops")
    with pytest.raises(ValidationError):
        Settings(HOP_BATCH_MAX=0)
