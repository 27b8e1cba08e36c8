"""With OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach an OTLP collector with the same trace id as the hop record."""

import asyncio
import os
import socket
import sys
import textwrap

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

pytestmark = pytest.mark.integration

# A separate process: the global tracer provider can be set once per process, and the test suite's own may
# already be in place.
EMITTER = textwrap.dedent("""
    from opentelemetry import trace
    from supportmesh_core.hops import finish_hop, start_hop
    from supportmesh_core.telemetry import setup_tracing

    tracer = setup_tracing("otlp-test-service")
    with tracer.start_as_current_span("otlp-test process", kind=trace.SpanKind.CONSUMER) as span:
        hop = finish_hop(start_hop("otlp-test-service", "otlp-test", span, "", "consumer"))
    trace.get_tracer_provider().shutdown()  # flushes the batch processor
    print(hop.trace_id, hop.span_id)
""")


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """A minimal OTLP/gRPC trace receiver that keeps what it is sent."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str, str]] = []

    async def Export(self, request, context):  # noqa: N802 - the OTLP service's method name
        for resource_spans in request.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append((attrs.get("service.name", ""), span.name, span.trace_id.hex(),
                                       span.span_id.hex()))
        return trace_service_pb2.ExportTraceServiceResponse()


async def test_spans_are_exported_by_otlp_with_the_hops_trace_id():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    collector = Collector()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
               "OTEL_EXPORTER_OTLP_INSECURE": "true"}
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", EMITTER, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        trace_id, span_id = out.decode().split()
    finally:
        await server.stop(0)
    assert ("otlp-test-service", "otlp-test process", trace_id, span_id) in collector.spans
