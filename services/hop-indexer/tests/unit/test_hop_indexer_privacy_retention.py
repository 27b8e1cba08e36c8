"""Every free-text field of a hop document is redacted; the janitor picks exactly the expired daily indices."""

import json
from datetime import date

import pytest
from hop_indexer.domain.documents import hop_to_document
from hop_indexer.domain.retention import expired_indices
from hop_indexer.janitor import Janitor
from supportmesh.v1.hop_pb2 import HopRecord

pytestmark = pytest.mark.unit

SECRETS = ["yusuf.rossi7301@example.com", "+1 415 555 0132", "4111 1111 1111 1111",
           "DE89 3704 0044 0532 0130 00", "986 Sunset Drive"]
TEXT = "mail {}, phone {}, card {}, iban {}, home {}".format(*SECRETS)


def test_no_text_field_carries_personal_data():
    hop = HopRecord(start_unix_nanos=1, trace_id="a" * 32, span_id="b" * 16, service="intent-classifier",
                    action="intent-classifier", ticket_id="T-1", message=TEXT, error_message=TEXT,
                    escalation_reason=TEXT, labels={"note": TEXT, "order_id": "#W2378156"},
                    fault={"error": TEXT})
    body = hop_to_document(hop, index_prefix="supportmesh-hops", ingested_unix_nanos=2,
                           topic="telemetry.hops", partition=0, offset=0).body
    dumped = json.dumps(body, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in dumped, secret
    assert body["message"].count("[") == 5 and "[email]" in body["error"]["message"]
    assert body["labels"]["order_id"] == "#W2378156" and body["ticket"]["id"] == "T-1"


def test_expired_indices_keep_the_retention_window_and_foreign_names():
    names = ["supportmesh-hops-2026.11.21", "supportmesh-hops-2026.11.08", "supportmesh-hops-2026.11.07",
             "supportmesh-hops-2025.01.01", "supportmesh-hops-bench-2020.01.01", "supportmesh-hops-2026.13.01",
             "supportmesh-hops-it-x-2020.01.01", "supportmesh-hops-2026.11.07-restored"]
    # 14 days: today (21st) back to the 8th are kept, the 7th and older go.
    assert expired_indices(names, "supportmesh-hops", date(2026, 11, 21), 14) == [
        "supportmesh-hops-2025.01.01", "supportmesh-hops-2026.11.07"]
    assert expired_indices(names, "supportmesh-hops-it-x", date(2026, 11, 21), 1) == [
        "supportmesh-hops-it-x-2020.01.01"]
    assert expired_indices(names, "supportmesh-hops", date(2026, 11, 21), 1) == [
        "supportmesh-hops-2025.01.01", "supportmesh-hops-2026.11.07", "supportmesh-hops-2026.11.08"]


class FakeStore:
    def __init__(self, names):
        self.names = set(names)

    async def list_indices(self, pattern):
        assert pattern == "p-*"
        return sorted(self.names)

    async def delete_index(self, name):
        self.names.discard(name)


async def test_janitor_sweep_deletes_only_expired():
    store = FakeStore(["p-2026.11.21", "p-2026.11.20", "p-2026.11.01"])
    janitor = Janitor(store, prefix="p", retention_days=2, interval_s=60, today=lambda: date(2026, 11, 21))
    assert await janitor.sweep() == ["p-2026.11.01"]
    assert store.names == {"p-2026.11.21", "p-2026.11.20"}
    assert await janitor.sweep() == []
