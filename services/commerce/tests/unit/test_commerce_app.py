"""Start-up pieces without a server: settings, first-start seeding, the reset command, the hop sink."""

import gzip
import json
import sqlite3

import pytest
from aiokafka.errors import KafkaConnectionError
from commerce.adapters.hop_sink import DeferredHopSink
from commerce.app import main, open_seeded_store, reset_store
from commerce.config import Settings
from commerce.domain.seed import BadSeed
from pydantic import ValidationError
from supportmesh.v1.hop_pb2 import HopRecord

pytestmark = pytest.mark.unit


@pytest.fixture
def env(monkeypatch, tmp_path, tiny_seed):
    seed = tmp_path / "seed.json.gz"
    seed.write_bytes(gzip.compress(json.dumps(tiny_seed).encode()))
    monkeypatch.setenv("COMMERCE_DB_PATH", str(tmp_path / "db" / "commerce.sqlite3"))
    monkeypatch.setenv("COMMERCE_SEED_PATH", str(seed))
    return tmp_path


def test_settings_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("SUPPORTMESH_DATA_DIR", str(tmp_path))
    for name in ("COMMERCE_DB_PATH", "COMMERCE_GRPC_PORT", "HTTP_PORT", "OTEL_SERVICE_NAME"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert (settings.service_name, settings.grpc_port, settings.http_port) == ("commerce", 50051, 8107)
    assert settings.database_path() == tmp_path / "commerce" / "commerce.sqlite3"
    assert settings.seed_path.name == "db.json.gz" and settings.seed_path.exists()


def test_settings_fail_fast_on_a_bad_port(monkeypatch):
    monkeypatch.setenv("COMMERCE_GRPC_PORT", "70000")
    with pytest.raises(ValidationError, match="COMMERCE_GRPC_PORT"):
        Settings()


def test_first_start_seeds_and_later_starts_keep_changes(env):
    settings = Settings()
    store = open_seeded_store(settings)
    assert store.counts()["orders"] == 3
    with store.transaction() as conn:
        conn.execute("UPDATE orders SET status = 'cancelled' WHERE order_id = '#W0000002'")
    store.close()
    store = open_seeded_store(settings)
    assert store.order("#W0000002").status == "cancelled"
    store.close()


def test_reset_drops_changes_and_reseeds(env):
    settings = Settings()
    store = open_seeded_store(settings)
    with store.transaction() as conn:
        conn.execute("UPDATE orders SET status = 'cancelled' WHERE order_id = '#W0000002'")
    store.close()
    main(["reset"])
    store = open_seeded_store(settings)
    assert store.order("#W0000002").status == "pending"
    store.close()


def test_reset_with_a_bad_seed_file_destroys_nothing(env, monkeypatch):
    settings = Settings()
    open_seeded_store(settings).close()
    bad = env / "bad.json"
    bad.write_text(json.dumps({"users": {}, "orders": {}}))
    monkeypatch.setenv("COMMERCE_SEED_PATH", str(bad))
    with pytest.raises(BadSeed, match="bad.json"):
        reset_store(Settings())
    with sqlite3.connect(settings.database_path()) as conn:
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 3


def test_unknown_command_exits_with_usage(env):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


class _Producer:
    """Stands in for AIOKafkaProducer: start fails `failures` times, sends are recorded."""

    def __init__(self, failures: list[int]) -> None:
        self._failures = failures
        self.sent: list[tuple] = []
        self.stopped = False

    async def start(self):
        if self._failures[0] > 0:
            self._failures[0] -= 1
            raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 1)]")

    async def stop(self):
        self.stopped = True

    async def send(self, topic, value, key=None):
        self.sent.append((topic, value, key))


async def test_hop_sink_drops_until_kafka_is_reachable_then_forwards():
    failures, made = [2], []

    def factory():
        made.append(_Producer(failures))
        return made[-1]

    sink = DeferredHopSink()
    assert await sink.connect(factory, 1.0) is False
    await sink.emit(HopRecord(trace_id="a" * 32, action="GetOrder"))
    assert sink.dropped == 1 and made[0].stopped
    await sink.keep_connecting(factory, 1.0, max_backoff_s=0.01)
    assert sink.connected and len(made) == 3
    await sink.emit(HopRecord(trace_id="b" * 32, action="GetOrder"))
    assert [(t, k) for t, _, k in made[-1].sent] == [("telemetry.hops", b"b" * 32)]
    await sink.close()
    assert made[-1].stopped
