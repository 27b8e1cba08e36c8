"""gRPC helpers: an aio server with health, reflection and tracing, and a tracing client channel (TLS optional)."""

import asyncio
import signal
import time
from collections.abc import Callable

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import propagate, trace

from . import metrics
from .chaos import FaultFlags, mark_fault
from .hops import HopSink, finish_hop, start_hop
from .telemetry import parent_span_id

log = structlog.get_logger()


class _ServerTracing(grpc.aio.ServerInterceptor):
    """Continues the caller's trace from metadata and emits a hop record per unary call.

    It is also the gRPC handler edge for chaos: an active fault flag delays, hangs or fails the call
    (UNAVAILABLE for `unavailablePct`, INTERNAL for `errorPct`) before the servicer sees it.
    """

    def __init__(self, service: str, hop_sink: HopSink | None, faults: FaultFlags | None = None) -> None:
        self._service = service
        self._sink = hop_sink
        self._faults = faults
        self._tracer = trace.get_tracer(service)

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None or details.method.startswith("/grpc."):
            return handler
        inner = handler.unary_unary
        method = details.method

        async def traced(request, context: grpc.aio.ServicerContext):
            ctx = propagate.extract({k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)})
            started = time.perf_counter()
            with self._tracer.start_as_current_span(method, context=ctx, kind=trace.SpanKind.SERVER) as span:
                hop = start_hop(self._service, method.rsplit("/", 1)[-1], span, parent_span_id(ctx), "server")
                error = ""
                try:
                    await self._inject(span, hop, context)
                    return await inner(request, context)
                except Exception as exc:  # noqa: BLE001 - recorded, then re-raised to grpc
                    code = context.code() or grpc.StatusCode.UNKNOWN
                    error = f"{getattr(code, 'name', code)}: {context.details() or exc}"
                    raise
                finally:
                    code = context.code()
                    if not error and code not in (None, grpc.StatusCode.OK):
                        error = f"{code.name}: {context.details() or ''}"
                    hop.labels["rpc.grpc.status_code"] = getattr(code, "name", "OK") if code else "OK"
                    metrics.observe_rpc(metrics.GRPC_SERVER_CALLS, metrics.GRPC_SERVER_SECONDS, self._service,
                                        method, hop.labels["rpc.grpc.status_code"], started)
                    if self._sink is not None:
                        await self._sink.emit(finish_hop(hop, error))

        return grpc.unary_unary_rpc_method_handler(
            traced, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


    async def _inject(self, span, hop, context: grpc.aio.ServicerContext) -> None:
        drawn = self._faults.draw() if self._faults is not None else None
        if drawn is None:
            return
        mark_fault(span, hop, drawn.attributes(self._faults.current()))
        if drawn.delay_ms:
            await asyncio.sleep(drawn.delay_ms / 1000)
        await self._faults.hang(drawn)   # lasts until the flag is cleared, or the caller's deadline ends the call
        if drawn.unavailable:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"chaos: {self._service} made unavailable")
        if self._faults.error_hits():
            hop.fault["error"] = "injected"
            await context.abort(grpc.StatusCode.INTERNAL, f"chaos: error injected into {self._service}")


class GrpcServer:
    """A grpc.aio server that reports SERVING only after `set_serving` and stops gracefully on SIGTERM."""

    def __init__(self, service: str, port: int, hop_sink: HopSink | None = None, host: str = "127.0.0.1",
                 faults: FaultFlags | None = None, credentials: grpc.ServerCredentials | None = None) -> None:
        self.service = service
        self._faults = faults
        self._server = grpc.aio.server(interceptors=[_ServerTracing(service, hop_sink, faults)])
        self._health = health.aio.HealthServicer() if hasattr(health, "aio") else health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        self._names: list[str] = [health.SERVICE_NAME, reflection.SERVICE_NAME]
        # With credentials (supportmesh_core.tls) the port speaks only TLS: a plaintext client fails its handshake.
        address = f"{host}:{port}"
        self.port = (self._server.add_secure_port(address, credentials) if credentials is not None
                     else self._server.add_insecure_port(address))
        if self.port == 0:
            raise RuntimeError(f"cannot bind gRPC port {host}:{port}")

    def add(self, register: Callable[[object, grpc.aio.Server], None], servicer: object, full_name: str) -> None:
        """Register a servicer, e.g. add(add_FooServicer_to_server, FooServicer(), 'pkg.Foo')."""
        register(servicer, self._server)
        self._names.append(full_name)

    async def start(self) -> None:
        reflection.enable_server_reflection(self._names, self._server)
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self._server.start()
        if self._faults is not None:
            self._faults.start()
        log.info("grpc server listening", port=self.port)

    async def set_serving(self, serving: bool = True) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        await self._set_all(status)

    async def _set_all(self, status) -> None:
        for name in ["", *self._names]:
            result = self._health.set(name, status)
            if asyncio.iscoroutine(result):
                await result

    async def stop(self, grace: float = 5.0) -> None:
        await self.set_serving(False)
        await self._server.stop(grace)
        if self._faults is not None:
            await self._faults.stop()

    async def serve_until_signalled(self, grace: float = 5.0) -> None:
        """Block until SIGTERM/SIGINT, then refuse new calls and let in-flight ones finish within `grace`."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("grpc server stopping", grace_s=grace)
        await self.stop(grace)


class _ClientTracing(grpc.aio.UnaryUnaryClientInterceptor):
    """Sends the current trace context as metadata, gives every call a deadline, records a client hop."""

    def __init__(self, service: str, hop_sink: HopSink | None, default_timeout: float,
                 token: str | None = None) -> None:
        self._service = service
        # The caller's identity for servers that authorise callers (commerce): sent on every call.
        self._identity = (("x-service-token", token),) if token else ()
        self._sink = hop_sink
        self._default_timeout = default_timeout
        self._tracer = trace.get_tracer(service)

    async def intercept_unary_unary(self, continuation, details, request):
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        parent = trace.get_current_span().get_span_context()
        with self._tracer.start_as_current_span(method, kind=trace.SpanKind.CLIENT) as span:
            hop = start_hop(self._service, "call " + method.rsplit("/", 1)[-1], span,
                            format(parent.span_id, "016x") if parent.is_valid else "", "client")
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            metadata = grpc.aio.Metadata(*(details.metadata or ()), *carrier.items(), *self._identity)
            # A call without a deadline could wait forever on a hung server; callers normally pass what
            # is left of the ticket's budget, this is the backstop.
            timeout = details.timeout if details.timeout is not None else self._default_timeout
            details = grpc.aio.ClientCallDetails(
                details.method, timeout, metadata, details.credentials, details.wait_for_ready)
            error, code, started = "", "OK", time.perf_counter()
            try:
                call = await continuation(details, request)
                await call  # surface the status here so the hop records it
                return call
            except grpc.aio.AioRpcError as exc:
                error, code = f"{exc.code().name}: {exc.details()}", exc.code().name
                raise
            except BaseException as exc:
                # The caller gave up (cancelled by its own deadline) or the call broke: still a call made.
                code = "CANCELLED" if isinstance(exc, asyncio.CancelledError) else "UNKNOWN"
                raise
            finally:
                metrics.observe_rpc(metrics.TOOL_CALLS, metrics.TOOL_SECONDS, self._service, method, code, started)
                if self._sink is not None:
                    await self._sink.emit(finish_hop(hop, error))


def tracing_channel(target: str, service: str, hop_sink: HopSink | None = None, token: str | None = None,
                    default_timeout: float = 5.0,
                    credentials: grpc.ChannelCredentials | None = None) -> grpc.aio.Channel:
    """An aio channel whose unary calls carry trace context, a deadline, and emit client hops.

    `token`, when given, goes out as `x-service-token` metadata on every call (the caller's identity).
    `credentials` (supportmesh_core.tls.channel_credentials) make it TLS, or mutual TLS; without them plaintext.
    """
    interceptors = [_ClientTracing(service, hop_sink, default_timeout, token)]
    if credentials is not None:
        return grpc.aio.secure_channel(target, credentials, interceptors=interceptors)
    return grpc.aio.insecure_channel(target, interceptors=interceptors)
