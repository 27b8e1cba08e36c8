"""/metrics: the stage runner and the gRPC interceptors feed the Prometheus series the alert rules use."""

import asyncio

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import REGISTRY
from supportmesh.v1.envelope_pb2 import Envelope
from supportmesh.v1.outcomes_pb2 import Escalation
from supportmesh.v1.ticket_pb2 import Ticket
from supportmesh_core import metrics
from supportmesh_core.http import HealthServer
from supportmesh_core.kafka import StageRunner
from supportmesh_core.settings import ServiceSettings
from supportmesh_core.stage import Escalate, Forward
from supportmesh_core.testing import stage_harness

pytestmark = pytest.mark.unit


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def record(env: Envelope, offset: int = 0) -> ConsumerRecord:
    data = env.SerializeToString()
    return ConsumerRecord(topic="stage.metrics-test", partition=0, offset=offset, timestamp=0, timestamp_type=0,
                          key=b"C-1", value=data, checksum=None, serialized_key_size=3,
                          serialized_value_size=len(data), headers=[])


def envelope(ticket_id: str, sentiment: float = 0.0) -> Envelope:
    env = Envelope(ticket=Ticket(ticket_id=ticket_id, conversation_id="C-1", body="hi"), received_unix_ms=1)
    env.classification.sentiment = sentiment
    env.routing_slip.append("response-generator")
    return env


async def test_handled_messages_feed_handling_confidence_escalation_and_outcome_metrics():
    service = "metrics-test"

    async def handler(env: Envelope, hop):
        hop.intent, hop.confidence = "get_refund", 0.42
        if env.ticket.ticket_id == "T-esc":
            return Escalate(env, Escalation(reason="low_confidence", summary="s"))
        return Forward(env)

    runner = StageRunner(ServiceSettings(OTEL_SERVICE_NAME=service), handler, input_topic="stage.metrics-test")
    before = {
        "ok": value("supportmesh_handling_seconds_count", service=service, outcome="success"),
        "conf": value("supportmesh_confidence_bucket", service=service, le="0.5"),
        "esc": value("supportmesh_escalations_total", service=service, reason="low_confidence"),
        "neg": value("supportmesh_ticket_sentiment_bucket", service=service, le="-0.6"),
    }
    async with stage_harness(runner) as stage:
        await stage.send(envelope("T-fwd").SerializeToString())
        await stage.send(envelope("T-esc", sentiment=-0.9).SerializeToString())
        await stage.settle(2)
    assert value("supportmesh_handling_seconds_count", service=service, outcome="success") == before["ok"] + 2
    assert value("supportmesh_confidence_bucket", service=service, le="0.5") == before["conf"] + 2
    assert value("supportmesh_escalations_total", service=service, reason="low_confidence") == before["esc"] + 1
    # Only the finished ticket (the escalation) counts for sentiment; the forwarded one is not done yet.
    assert value("supportmesh_ticket_sentiment_bucket", service=service, le="-0.6") == before["neg"] + 1
    assert value("supportmesh_in_flight", service=service) == 0


async def test_metrics_endpoint_serves_the_exposition_format():
    metrics.MESSAGES_IN.labels("metrics-http-test", "stage.x").inc(3)
    server = HealthServer(0, lambda: True)
    await server.start()
    port = server._server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        response = (await reader.read()).decode()
        writer.close()
    finally:
        await server.stop()
    head, _, body = response.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200") and "text/plain; version=" in head
    assert 'supportmesh_messages_in_total{service="metrics-http-test",topic="stage.x"} 3.0' in body
    assert "# TYPE supportmesh_handling_seconds histogram" in body
