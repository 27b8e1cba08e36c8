"""Prometheus metrics every service exposes on /metrics: messages, handling time, outcomes, calls, lag.

Names follow Prometheus conventions (base units, `_total` counters). Every series carries `service`, so
dashboards and alert rules work the same whether one process or a whole compose project is scraped.
The stage runner and the gRPC interceptors feed them; services add nothing for the common metrics.
"""

import time

from aiokafka import AIOKafkaConsumer
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from supportmesh.v1.hop_pb2 import HopRecord

from . import topics

# Stages take milliseconds to a few seconds; the top buckets catch injected latency and budget overruns.
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

MESSAGES_IN = Counter("supportmesh_messages_in_total", "Kafka messages consumed", ["service", "topic"])
MESSAGES_OUT = Counter("supportmesh_messages_out_total", "Kafka messages published and acknowledged",
                       ["service", "topic"])
HANDLING = Histogram("supportmesh_handling_seconds", "Time to handle one consumed message",
                     ["service", "outcome"], buckets=_SECONDS)
IN_FLIGHT = Gauge("supportmesh_in_flight", "Messages being handled right now", ["service"])
CONSUMER_LAG = Gauge("supportmesh_consumer_lag", "Messages on the input topic not yet consumed",
                     ["service", "topic", "partition"])
ESCALATIONS = Counter("supportmesh_escalations_total", "Tickets handed to a human, by reason",
                      ["service", "reason"])
HELD_BACK = Counter("supportmesh_held_back_total", "Messages held back at a stage's intake, by the limit that held "
                    "them", ["service", "limit"])
INTAKE_WAIT = Counter("supportmesh_intake_wait_seconds_total", "Time a stage's intake waited for its intake-wide limit",
                      ["service"])
CONFIDENCE = Histogram("supportmesh_confidence", "Classification confidence of handled tickets",
                       ["service"], buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0))
SENTIMENT = Histogram("supportmesh_ticket_sentiment", "Customer sentiment of finished tickets (-1 to 1)",
                      ["service"], buckets=(-0.8, -0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0))
TICKET_LATENCY = Histogram("supportmesh_ticket_latency_seconds", "Receipt to outcome, per finished ticket",
                           ["service", "kind"], buckets=_SECONDS)
TICKET_BUDGET = Gauge("supportmesh_ticket_budget_seconds", "The latency budget each ticket gets", ["service"])
GRPC_SERVER_CALLS = Counter("supportmesh_grpc_server_calls_total", "gRPC calls served, by status code",
                            ["service", "method", "code"])
GRPC_SERVER_SECONDS = Histogram("supportmesh_grpc_server_seconds", "Time to serve one gRPC call",
                                ["service", "method"], buckets=_SECONDS)
TOOL_CALLS = Counter("supportmesh_tool_calls_total", "Tool calls made (gRPC client calls), by status code",
                     ["service", "tool", "code"])
TOOL_SECONDS = Histogram("supportmesh_tool_call_seconds", "Time of one tool call, as the caller saw it",
                         ["service", "tool"], buckets=_SECONDS)

_OUTCOME_TOPICS = {topics.RESPONSES: "response", topics.ESCALATIONS: "escalation"}


def render() -> tuple[bytes, str]:
    """The exposition text of every metric in this process, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def observe_hop(hop: HopRecord) -> None:
    """Record a finished consumer hop: handling time by outcome, confidence, escalation reason."""
    HANDLING.labels(hop.service, hop.outcome or "unknown").observe(hop.duration_ns / 1e9)
    if hop.intent:
        CONFIDENCE.labels(hop.service).observe(hop.confidence)
    if hop.destination == topics.ESCALATIONS:
        ESCALATIONS.labels(hop.service, hop.escalation_reason or "unspecified").inc()


def observe_outcome(service: str, topic: str, latency_ms: int, sentiment: float) -> None:
    """Record a ticket's end: its latency from receipt and the customer's sentiment."""
    kind = _OUTCOME_TOPICS.get(topic)
    if kind is None:
        return
    TICKET_LATENCY.labels(service, kind).observe(latency_ms / 1000)
    SENTIMENT.labels(service).observe(sentiment)


def observe_rpc(counter: Counter, histogram: Histogram, service: str, method: str, code: str,
                started: float) -> None:
    """Count one gRPC call (server side or tool call) and its duration since `started` (perf_counter)."""
    name = method.rsplit("/", 1)[-1]
    counter.labels(service, name, code).inc()
    histogram.labels(service, name).observe(time.perf_counter() - started)


async def observe_lag(service: str, consumer: AIOKafkaConsumer) -> None:
    """Set the lag of every assigned partition: the broker's high watermark minus our position."""
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        if high is None:
            continue  # no fetch answered for it yet
        position = await consumer.position(tp)
        CONSUMER_LAG.labels(service, tp.topic, str(tp.partition)).set(max(0, high - position))
