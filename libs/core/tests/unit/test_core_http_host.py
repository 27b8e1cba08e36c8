"""HTTP_BIND_HOST: the health server stays on loopback by default and answers on every interface when asked."""

import asyncio
import socket

import pytest
from pydantic import ValidationError
from supportmesh_core.http import HealthServer
from supportmesh_core.settings import ServiceSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "http-host-test")
    monkeypatch.delenv("HTTP_BIND_HOST", raising=False)
    return monkeypatch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


async def get(port: int, path: str) -> str:
    """The status line of GET `path` from 127.0.0.1:`port`."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    return response.decode().split("\r\n", 1)[0]


def test_the_bind_host_defaults_to_loopback(env):
    assert ServiceSettings().http_host == "127.0.0.1"


def test_the_bind_host_is_read_from_http_bind_host(env):
    env.setenv("HTTP_BIND_HOST", "0.0.0.0")
    assert ServiceSettings().http_host == "0.0.0.0"
    env.setenv("HTTP_BIND_HOST", "")
    with pytest.raises(ValidationError, match="HTTP_BIND_HOST"):
        ServiceSettings()


async def test_a_health_server_on_all_interfaces_answers_on_loopback():
    ready = False
    port = free_port()
    server = HealthServer(port, lambda: ready, host="0.0.0.0")
    await server.start()
    try:
        assert {s.getsockname()[0] for s in server._server.sockets} == {"0.0.0.0"}
        assert (await get(port, "/healthz")).startswith("HTTP/1.1 200")
        assert (await get(port, "/readyz")).startswith("HTTP/1.1 503")
        ready = True
        assert (await get(port, "/readyz")).startswith("HTTP/1.1 200")
    finally:
        await server.stop()
    with pytest.raises(OSError):
        await get(port, "/healthz")


async def test_the_default_health_server_binds_loopback_only():
    server = HealthServer(free_port(), lambda: True)
    await server.start()
    try:
        assert {s.getsockname()[0] for s in server._server.sockets} == {"127.0.0.1"}
    finally:
        await server.stop()
