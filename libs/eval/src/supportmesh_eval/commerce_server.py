"""A real commerce server of its own for a benchmark or an evaluation: `python -m commerce` on free ports over a
fresh database in a work directory, hop records off (no Kafka), accepting the install's local tokens."""

import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

from supportmesh_core import local_tokens

# The install's local tokens (supportmesh_core.local_tokens): the server started here accepts them.
TOKENS = {service: local_tokens.mesh_token(service) for service in local_tokens.SERVICES}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workdir: pathlib.Path) -> tuple[subprocess.Popen, str]:
    grpc_port, http_port = free_port(), free_port()
    env = {**os.environ, "COMMERCE_GRPC_PORT": str(grpc_port), "HTTP_PORT": str(http_port),
           "COMMERCE_DB_PATH": str(workdir / "commerce.sqlite3"), "LOG_LEVEL": "WARNING",
           "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}", "COMMERCE_KAFKA_CONNECT_TIMEOUT_S": "0.5"}
    env["COMMERCE_TOKENS"] = local_tokens.tokens_spec(TOKENS)
    log = open(workdir / "commerce.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen([sys.executable, "-m", "commerce"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"commerce exited during start-up; see {workdir / 'commerce.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/readyz", timeout=1) as reply:
                if reply.status == 200:
                    return proc, f"127.0.0.1:{grpc_port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("commerce did not become ready within 60 s")
