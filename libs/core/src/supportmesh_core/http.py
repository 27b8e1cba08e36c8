"""A tiny HTTP endpoint per service: /healthz and /readyz (liveness and readiness probes), /metrics (Prometheus)."""

import asyncio
from collections.abc import Callable

import structlog

from . import metrics

log = structlog.get_logger()


class HealthServer:
    """Answers GET /healthz (process alive), GET /readyz (`is_ready()` true: 200, else 503) and GET /metrics."""

    def __init__(self, port: int, is_ready: Callable[[], bool], host: str = "127.0.0.1") -> None:
        self._port, self._host, self._is_ready = port, host, is_ready
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)
        log.info("health endpoint listening", port=self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass  # headers are not needed
            parts = request.decode(errors="replace").split()
            path = parts[1].split("?", 1)[0] if len(parts) > 1 else ""
            content_type = "text/plain"
            if path == "/healthz":
                status, body = "200 OK", b"ok\n"
            elif path == "/readyz":
                ready = self._is_ready()
                status, body = ("200 OK", b"ready\n") if ready else ("503 Service Unavailable", b"not ready\n")
            elif path == "/metrics":
                status, (body, content_type) = "200 OK", metrics.render()
            else:
                status, body = "404 Not Found", b"not found\n"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
