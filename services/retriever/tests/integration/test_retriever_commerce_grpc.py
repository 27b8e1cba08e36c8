"""The lookup flow over real gRPC against the commerce service, run as its own process."""

import asyncio
import os
import socket
import subprocess
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from retriever.adapters.commerce import GrpcCommerce
from retriever.domain.lookups import Identity, look_up
from supportmesh_core import local_tokens
from supportmesh_core.grpcutil import tracing_channel

pytestmark = pytest.mark.integration
TOKENS = local_tokens.generate()   # the commerce server started here accepts these and nothing else


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def commerce_addr(tmp_path, kafka_bootstrap):
    port = free_port()
    env = {**os.environ, "COMMERCE_GRPC_PORT": str(port), "HTTP_PORT": str(free_port()),
           "COMMERCE_DB_PATH": str(tmp_path / "commerce.db"), "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    env["COMMERCE_TOKENS"] = local_tokens.tokens_spec(TOKENS)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "commerce", env=env,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    addr = f"127.0.0.1:{port}"
    try:
        async with grpc.aio.insecure_channel(addr) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for _ in range(150):
                if proc.returncode is not None:
                    pytest.fail(f"commerce exited: {(await proc.stderr.read()).decode()[-2000:]}")
                try:
                    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.aio.AioRpcError:
                    pass
                await asyncio.sleep(0.2)
            else:
                pytest.fail("commerce never became SERVING")
        yield addr
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)


async def test_verified_customer_gets_own_orders_and_errors_for_others(commerce_addr):
    channel = tracing_channel(commerce_addr, "retriever", token=TOKENS["retriever"])
    try:
        commerce = GrpcCommerce(channel)
        who = Identity(email="yusuf.rossi7301@example.com", order_ids=("#W2378156", "#W2611340", "#W0000000"))
        result = await look_up(commerce, who, True, lambda: 5.0)
        assert result.customer_id == "yusuf_rossi_9620" and result.customer_name == "Yusuf Rossi"
        (order,) = result.orders
        assert order.order_id == "#W2378156" and order.status and order.item_names and order.total > 0
        assert result.errors == ["order #W2611340: belongs to another customer", "order #W0000000: not found"]

        by_name = await look_up(commerce, Identity(first_name="Yusuf", last_name="Rossi", zip_code="19122"),
                                True, lambda: 5.0)
        assert by_name.customer_id == "yusuf_rossi_9620"
        # every order of the seed's Yusuf Rossi (five), each with its item names
        assert len(by_name.orders) == 5 and all(o.item_names for o in by_name.orders)
    finally:
        await channel.close()


async def test_unreachable_commerce_is_reported_not_raised():
    channel = tracing_channel(f"127.0.0.1:{free_port()}", "retriever")
    try:
        who = Identity(email="a@example.com", order_ids=("#W1234567",))
        result = await look_up(GrpcCommerce(channel), who, True, lambda: 1.0)
        assert result.commerce_unavailable
        assert result.errors == ["customer by email: commerce unavailable"]
    finally:
        await channel.close()
