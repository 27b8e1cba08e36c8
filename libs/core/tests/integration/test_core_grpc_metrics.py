"""gRPC over a real socket: server calls and tool (client) calls are counted with their status and duration."""

import grpc
import pytest
from prometheus_client import REGISTRY
from supportmesh_core.grpcutil import GrpcServer, tracing_channel
from supportmesh_core.hops import ListHopSink

pytestmark = pytest.mark.integration


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_server_and_tool_call_metrics():
    async def say(request: bytes, context) -> bytes:
        if request == b"fail":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
        return request

    handler = grpc.method_handlers_generic_handler(
        "metrics.Echo", {"Say": grpc.unary_unary_rpc_method_handler(say)})
    hops = ListHopSink()
    server = GrpcServer("metrics-server", 0, hop_sink=hops)
    server.add(lambda _servicer, srv: srv.add_generic_rpc_handlers((handler,)), None, "metrics.Echo")
    await server.start()
    before = {
        "ok": value("supportmesh_grpc_server_calls_total", service="metrics-server", method="Say", code="OK"),
        "nf": value("supportmesh_grpc_server_calls_total", service="metrics-server", method="Say", code="NOT_FOUND"),
        "tool": value("supportmesh_tool_calls_total", service="metrics-client", tool="Say", code="NOT_FOUND"),
        "secs": value("supportmesh_tool_call_seconds_count", service="metrics-client", tool="Say"),
    }
    try:
        async with tracing_channel(f"127.0.0.1:{server.port}", "metrics-client") as channel:
            say_rpc = channel.unary_unary("/metrics.Echo/Say")
            assert await say_rpc(b"hello", timeout=5) == b"hello"
            with pytest.raises(grpc.aio.AioRpcError):
                await say_rpc(b"fail", timeout=5)
    finally:
        await server.stop(0)
    assert value("supportmesh_grpc_server_calls_total", service="metrics-server", method="Say", code="OK") == \
        before["ok"] + 1
    assert value("supportmesh_grpc_server_calls_total", service="metrics-server", method="Say",
                 code="NOT_FOUND") == before["nf"] + 1
    assert value("supportmesh_tool_calls_total", service="metrics-client", tool="Say", code="NOT_FOUND") == \
        before["tool"] + 1
    assert value("supportmesh_tool_call_seconds_count", service="metrics-client", tool="Say") == before["secs"] + 2
    assert [h.outcome for h in hops.hops] == ["success", "failure"]
