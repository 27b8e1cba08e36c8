"""OpenTelemetry set-up and W3C trace-context propagation through Kafka headers and gRPC metadata."""

import os
from collections.abc import Iterable

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def setup_tracing(service: str) -> trace.Tracer:
    """Install a tracer provider for this process; spans leave by OTLP only when an endpoint is configured."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return trace.get_tracer(service)


def inject_headers() -> list[tuple[str, bytes]]:
    """The current trace context as Kafka headers (traceparent, tracestate, baggage)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(k, v.encode()) for k, v in carrier.items()]


def extract_headers(headers: Iterable[tuple[str, bytes]] | None) -> otel_context.Context:
    """The trace context carried by Kafka headers; an empty context when there is none or it is unreadable."""
    carrier = {}
    for key, value in headers or ():
        try:
            carrier[key.lower()] = value.decode() if isinstance(value, bytes) else str(value)
        except UnicodeDecodeError:
            continue
    return propagate.extract(carrier)


def span_ids(span: trace.Span) -> tuple[str, str]:
    """The span's trace id (32 hex) and span id (16 hex)."""
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def parent_span_id(ctx: otel_context.Context) -> str:
    """The span id of the remote parent in an extracted context, or '' at the root of a trace."""
    parent = trace.get_current_span(ctx).get_span_context()
    return format(parent.span_id, "016x") if parent.is_valid else ""
