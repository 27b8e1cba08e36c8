"""Hop records: one per message or RPC a service handles, sent to telemetry.hops for indexing."""

import time
from typing import Protocol

from opentelemetry import trace
from supportmesh.v1.hop_pb2 import HopRecord

from .telemetry import span_ids


class HopSink(Protocol):
    """Where finished hop records go (Kafka in services, a list in unit tests)."""

    async def emit(self, hop: HopRecord) -> None: ...


class ListHopSink:
    """Keeps hop records in memory; for tests and tools."""

    def __init__(self) -> None:
        self.hops: list[HopRecord] = []

    async def emit(self, hop: HopRecord) -> None:
        self.hops.append(hop)


def start_hop(service: str, action: str, span: trace.Span, parent_id: str, kind: str) -> HopRecord:
    """A hop record for work that starts now inside `span`; finish it with `finish_hop`."""
    trace_id, span_id = span_ids(span)
    return HopRecord(
        start_unix_nanos=time.time_ns(), trace_id=trace_id, span_id=span_id, parent_id=parent_id,
        service=service, action=action, span_kind=kind, outcome="success",
    )


def finish_hop(hop: HopRecord, error: str = "") -> HopRecord:
    """Set the duration (and the failure, if any) of a hop started with `start_hop`."""
    hop.duration_ns = max(0, time.time_ns() - hop.start_unix_nanos)
    if error:
        hop.outcome = "failure"
        hop.error_message = error[:2000]
    return hop
