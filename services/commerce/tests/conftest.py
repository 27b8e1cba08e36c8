"""Fixtures for the commerce tests: a tiny seed document, the real seed file, and real server processes."""

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from commerce.adapters.seed_file import SeedFile, load_seed
from supportmesh_core import local_tokens

REAL_SEED = pathlib.Path(__file__).resolve().parents[3] / "data" / "retail" / "db.json.gz"


@pytest.fixture(scope="session")
def real_seed() -> SeedFile:
    """The bundled retail database (500 users, 1,000 orders, 50 products), parsed once."""
    return load_seed(REAL_SEED)


def _address(zip_code: str) -> dict:
    return {"address1": "1 Main St", "address2": "", "city": "Springfield", "state": "IL",
            "country": "USA", "zip": zip_code}


@pytest.fixture
def tiny_seed() -> dict:
    """Two customers (one with a gift card), three orders (one with a repeated item), one product."""
    return {
        "products": {"100": {"name": "Lamp", "product_id": "100", "variants": {
            "1001": {"item_id": "1001", "options": {"color": "red"}, "available": True, "price": 10.1},
            "1002": {"item_id": "1002", "options": {"color": "blue"}, "available": False, "price": 20.2}}}},
        "users": {
            "ana_lima_1": {"user_id": "ana_lima_1", "name": {"first_name": "Ana", "last_name": "Lima"},
                           "address": _address("10001"), "email": "Ana.Lima@Example.com",
                           "payment_methods": {
                               "gift_card_1": {"source": "gift_card", "id": "gift_card_1", "balance": 51.1},
                               "credit_card_1": {"source": "credit_card", "id": "credit_card_1",
                                                 "brand": "visa", "last_four": "4242"}},
                           "orders": ["#W0000002", "#W0000001"]},
            "bo_chen_2": {"user_id": "bo_chen_2", "name": {"first_name": "Bo", "last_name": "Chen"},
                          "address": _address("20002"), "email": "bo@example.com",
                          "payment_methods": {"paypal_2": {"source": "paypal", "id": "paypal_2"}},
                          "orders": ["#W0000003"]},
        },
        "orders": {
            "#W0000001": {"order_id": "#W0000001", "user_id": "ana_lima_1", "address": _address("10001"),
                          "status": "delivered",
                          "items": [
                              {"name": "Lamp", "product_id": "100", "item_id": "1001", "price": 10.1,
                               "options": {"color": "red"}},
                              {"name": "Lamp", "product_id": "100", "item_id": "1001", "price": 10.1,
                               "options": {"color": "red"}},
                              {"name": "Lamp", "product_id": "100", "item_id": "1002", "price": 20.2,
                               "options": {"color": "blue"}}],
                          "fulfillments": [{"tracking_id": ["111"], "item_ids": ["1001", "1001"]},
                                           {"tracking_id": ["222"], "item_ids": ["1002"]}],
                          "payment_history": [{"transaction_type": "payment", "amount": 40.4,
                                               "payment_method_id": "gift_card_1"}]},
            "#W0000002": {"order_id": "#W0000002", "user_id": "ana_lima_1", "address": _address("10001"),
                          "status": "pending",
                          "items": [{"name": "Lamp", "product_id": "100", "item_id": "1002", "price": 20.2,
                                     "options": {"color": "blue"}}],
                          "fulfillments": [], "payment_history": [
                              {"transaction_type": "payment", "amount": 20.2,
                               "payment_method_id": "credit_card_1"}]},
            "#W0000003": {"order_id": "#W0000003", "user_id": "bo_chen_2", "address": _address("20002"),
                          "status": "cancelled",
                          "items": [{"name": "Lamp", "product_id": "100", "item_id": "1001", "price": 10.1,
                                     "options": {"color": "red"}}],
                          "fulfillments": [], "payment_history": [
                              {"transaction_type": "payment", "amount": 10.1,
                               "payment_method_id": "paypal_2"},
                              {"transaction_type": "refund", "amount": 10.1,
                               "payment_method_id": "paypal_2"}]},
        },
    }


class CommerceProcess:
    """`python -m commerce` as a child process on free ports over a given database file, Kafka unreachable."""

    def __init__(self, db_path: pathlib.Path, log_path: pathlib.Path, **env: str) -> None:
        self.grpc_port, self.http_port = free_port(), free_port()
        self.log_path = log_path
        self._env = {**os.environ, "COMMERCE_GRPC_PORT": str(self.grpc_port), "HTTP_PORT": str(self.http_port),
                     "COMMERCE_DB_PATH": str(db_path), "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
                     "COMMERCE_KAFKA_CONNECT_TIMEOUT_S": "0.5", **env}
        if "COMMERCE_TOKENS" not in env:   # no tokens given: the local profile's random ones, in a file of its own
            self._env.pop("COMMERCE_TOKENS", None)
            self._env[local_tokens.FILE_VARIABLE] = str(log_path.with_name("commerce-tokens.env"))
        self.proc: subprocess.Popen | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self, timeout_s: float = 30) -> "CommerceProcess":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "commerce"], env=self._env, stdout=log,
                                         stderr=log)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"commerce exited: {self.log_path.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("commerce did not become ready")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no chance to flush anything."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def commerce_processes(tmp_path):
    """Start commerce processes over one temp database: `start()` gives a new ready one; all stop at the end."""
    started: list[CommerceProcess] = []

    def start(**env: str) -> CommerceProcess:
        proc = CommerceProcess(tmp_path / "commerce.sqlite3", tmp_path / f"commerce-{len(started)}.log", **env)
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.stop()
