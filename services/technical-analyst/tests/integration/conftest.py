"""A real commerce process for the analyst's integration tests."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from supportmesh_core import local_tokens

TOKENS = local_tokens.generate()   # the commerce servers started here accept these and nothing else


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def commerce_tokens() -> dict[str, str]:
    """{service: token} the commerce_addr server accepts."""
    return TOKENS


@pytest.fixture
def commerce_addr(tmp_path):
    """`python -m commerce` on free ports over a fresh database (hop records off: Kafka address unused)."""
    grpc_port, http_port = _free_port(), _free_port()
    env = {**os.environ, "COMMERCE_GRPC_PORT": str(grpc_port), "HTTP_PORT": str(http_port),
           "COMMERCE_DB_PATH": str(tmp_path / "commerce.sqlite3"),
           "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{_free_port()}", "COMMERCE_KAFKA_CONNECT_TIMEOUT_S": "0.5"}
    env["COMMERCE_TOKENS"] = local_tokens.tokens_spec(TOKENS)
    with open(tmp_path / "commerce.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "commerce"], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "commerce did not start"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/readyz", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        yield f"127.0.0.1:{grpc_port}"
    finally:
        proc.terminate()
        proc.wait(15)
