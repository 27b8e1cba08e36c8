"""Turns a HopRecord into its ECS document, its daily index and its document id."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core.privacy import redact

_NS = 1_000_000_000


@dataclass(frozen=True)
class IndexDoc:
    """One document to index: where it goes, under which id, and its body."""

    index: str
    doc_id: str
    body: dict


def iso_millis(unix_nanos: int) -> str:
    """RFC 3339 UTC time with milliseconds, the form @timestamp takes."""
    secs, frac = divmod(unix_nanos, _NS)
    return f"{datetime.fromtimestamp(secs, UTC):%Y-%m-%dT%H:%M:%S}.{frac // 1_000_000:03d}Z"


def iso_nanos(unix_nanos: int) -> str:
    """RFC 3339 UTC time with nanoseconds, for the date_nanos fields event.start and event.end."""
    secs, frac = divmod(unix_nanos, _NS)
    return f"{datetime.fromtimestamp(secs, UTC):%Y-%m-%dT%H:%M:%S}.{frac:09d}Z"


def index_name(prefix: str, unix_nanos: int) -> str:
    """The daily index of a hop: <prefix>-YYYY.MM.DD by the UTC date of its start."""
    return f"{prefix}-{datetime.fromtimestamp(unix_nanos // _NS, UTC):%Y.%m.%d}"


def document_id(hop: HopRecord, topic: str, partition: int, offset: int) -> str:
    """The span id, so a redelivered hop overwrites itself; its Kafka position when it has none."""
    return hop.span_id or f"{topic}-{partition}-{offset}"


def _flat_keys(values: dict[str, str]) -> dict[str, str]:
    # A dot in a key would make ES build an object under it, and then clash with a plain value of the
    # same name from another hop; an empty key is refused outright. Both would cost the whole document.
    return {(key.replace(".", "_") or "_"): redact(value) for key, value in values.items()}


def hop_to_document(hop: HopRecord, *, index_prefix: str, ingested_unix_nanos: int,
                    topic: str, partition: int, offset: int) -> IndexDoc:
    """The ECS document of one hop. Fields the hop did not set are left out rather than indexed empty.

    Every free-text field (message, error.message, escalation.reason, labels.*, fault.*) is redacted of
    personal data here, whatever the emitting service did: this is the last stop before the index.
    A hop without a start time is placed at the time it was indexed, so it can still be found.
    """
    start = hop.start_unix_nanos if hop.start_unix_nanos > 0 else ingested_unix_nanos
    event: dict = {
        "kind": "event", "dataset": "supportmesh.hops",
        "start": iso_nanos(start), "end": iso_nanos(start + max(0, hop.duration_ns)),
        "duration": max(0, hop.duration_ns), "outcome": hop.outcome or "unknown",
        "ingested": iso_millis(ingested_unix_nanos),
    }
    if hop.action:
        event["action"] = hop.action
    doc: dict = {"@timestamp": iso_millis(start), "event": event, "retries": hop.retries}
    ids = {"trace": hop.trace_id, "span": hop.span_id, "parent": hop.parent_id,
           "ticket": hop.ticket_id, "conversation": hop.conversation_id}
    for name, value in ids.items():
        if value:
            doc[name] = {"id": value}
    if hop.span_kind:
        doc.setdefault("span", {})["kind"] = hop.span_kind
    if hop.service:
        doc["service"] = {"name": hop.service}
    if hop.error_message:
        doc["error"] = {"message": redact(hop.error_message)}
    if hop.kafka_topic:
        doc["kafka"] = {"topic": hop.kafka_topic, "partition": hop.kafka_partition,
                        "offset": hop.kafka_offset}
    for name in ("destination", "intent", "engine", "model"):
        value = getattr(hop, name)
        if value:
            doc[name] = value
    if hop.message:
        doc["message"] = redact(hop.message)
    # NaN or infinity is not JSON: one such value would make Elasticsearch refuse the whole bulk request.
    if (hop.intent or hop.confidence) and math.isfinite(hop.confidence):
        doc["confidence"] = hop.confidence
    if hop.tokens_in or hop.tokens_out:
        doc["tokens"] = {"in": hop.tokens_in, "out": hop.tokens_out}
    if hop.cost_usd and math.isfinite(hop.cost_usd):
        doc["cost"] = {"usd": hop.cost_usd}
    if hop.escalation_reason:
        doc["escalation"] = {"reason": redact(hop.escalation_reason)}
    if hop.fault:
        # `fault.injected` lets one query find every hop a fault touched, whatever the fault's own keys.
        doc["fault"] = {**_flat_keys(dict(hop.fault)), "injected": True}
    if hop.labels:
        doc["labels"] = _flat_keys(dict(hop.labels))
    return IndexDoc(index_name(index_prefix, start), document_id(hop, topic, partition, offset), doc)
