"""`python -m commerce` as a real process: readiness, health, a lookup, hops to Kafka, graceful SIGTERM."""

import asyncio
import os
import signal
import socket
import sys
import time
import urllib.request

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from supportmesh.commerce.v1 import commerce_pb2 as pb
from supportmesh.commerce.v1 import commerce_pb2_grpc
from supportmesh.v1.hop_pb2 import HopRecord
from supportmesh_core import local_tokens, topics
from supportmesh_core.grpcutil import tracing_channel
from supportmesh_core.kafka import ensure_topics

pytestmark = pytest.mark.integration
TOKENS = local_tokens.generate()   # given to the servers this module starts
OPS_TOKEN = TOKENS["ops"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """A `python -m commerce` child process on free ports with its own database."""

    def __init__(self, tmp_path, kafka: str) -> None:
        self.grpc_port, self.http_port = _free_port(), _free_port()
        env = {**os.environ, "COMMERCE_GRPC_PORT": str(self.grpc_port), "HTTP_PORT": str(self.http_port),
               "COMMERCE_DB_PATH": str(tmp_path / "commerce.sqlite3"), "KAFKA_BOOTSTRAP_SERVERS": kafka,
               "COMMERCE_KAFKA_CONNECT_TIMEOUT_S": "5"}
        env["COMMERCE_TOKENS"] = local_tokens.tokens_spec(TOKENS)   # whatever the caller's shell says
        self.log_path = tmp_path / "commerce.log"
        self.proc: asyncio.subprocess.Process | None = None
        self._env = env

    async def start(self) -> None:
        log = await asyncio.to_thread(open, self.log_path, "wb")
        with log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "commerce", env=self._env, stdout=log, stderr=log)

    async def wait_ready(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.returncode is None, "commerce exited during start-up"
            if await asyncio.to_thread(self.readyz) == 200:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("commerce did not become ready")

    def readyz(self) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/readyz", timeout=1) as reply:
                return reply.status
        except OSError as exc:
            return getattr(exc, "code", 0)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def stop(self) -> int:
        if self.running:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 20)


@pytest.fixture
async def no_kafka_service(tmp_path):
    # A port nobody listens on once the probe socket is closed: Kafka is "down".
    service = Service(tmp_path, f"127.0.0.1:{_free_port()}")
    await service.start()
    yield service
    if service.running:
        await service.stop()


async def test_serves_without_kafka_and_stops_cleanly_on_sigterm(no_kafka_service):
    service = no_kafka_service
    await service.wait_ready()
    async with tracing_channel(f"127.0.0.1:{service.grpc_port}", "commerce-test", token=OPS_TOKEN) as channel:
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="supportmesh.commerce.v1.CommerceService"), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        tracking = await commerce_pb2_grpc.CommerceServiceStub(channel).GetTracking(
            pb.GetTrackingRequest(order_id="#W2378156", customer_id="yusuf_rossi_9620"), timeout=5)
        assert list(tracking.tracking_ids) == ["843053632392"]
    assert await service.stop() == 0
    log = service.log_path.read_text()
    assert "kafka unreachable" in log and "commerce stopped" in log


async def test_hop_records_reach_kafka(tmp_path, kafka_bootstrap):
    await ensure_topics(kafka_bootstrap, [topics.HOPS])
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    service = Service(tmp_path, kafka_bootstrap)
    try:
        parts = [TopicPartition(topics.HOPS, p) for p in await _partitions(consumer, topics.HOPS)]
        consumer.assign(parts)
        await consumer.seek_to_end(*parts)
        for tp in parts:
            await consumer.position(tp)  # pin the current end before the call is made
        await service.start()
        await service.wait_ready()
        if not isinstance(trace.get_tracer_provider(), TracerProvider):
            trace.set_tracer_provider(TracerProvider())
        async with tracing_channel(f"127.0.0.1:{service.grpc_port}", "commerce-test", token=OPS_TOKEN) as channel:
            with trace.get_tracer("commerce-test").start_as_current_span("ticket") as root:
                await commerce_pb2_grpc.CommerceServiceStub(channel).GetOrder(
                    pb.GetOrderRequest(order_id="#W2378156", customer_id="yusuf_rossi_9620"), timeout=5)
        trace_id = format(root.get_span_context().trace_id, "032x")
        hop = await _find_hop(consumer, trace_id, timeout_s=30)
        assert (hop.service, hop.action, hop.outcome, hop.span_kind) == ("commerce", "GetOrder", "success",
                                                                         "server")
        assert await service.stop() == 0
    finally:
        if service.running:
            await service.stop()
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        await consumer._client.force_metadata_update()  # the public API has no metadata refresh
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return parts
        await asyncio.sleep(0.1)
    raise AssertionError(f"topic {topic} has no partitions")


async def _find_hop(consumer: AIOKafkaConsumer, trace_id: str, timeout_s: float) -> HopRecord:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        for records in batches.values():
            for record in records:
                hop = HopRecord.FromString(record.value)
                if hop.trace_id == trace_id and hop.service == "commerce":
                    return hop
    raise AssertionError(f"no commerce hop with trace {trace_id} on {topics.HOPS}")
