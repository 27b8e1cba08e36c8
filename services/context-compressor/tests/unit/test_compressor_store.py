"""The SQLite store: idempotent appends, ordering, and state that survives closing and reopening."""

import sqlite3

import pytest
from context_compressor.adapters.store import SqliteConversationStore
from context_compressor.domain.model import Turn

pytestmark = pytest.mark.unit


def turn(ticket_id: str, text: str = "hello", role: str = "customer") -> Turn:
    return Turn(role, text, ticket_id, 1_700_000_000_000, {"order_ids": ["#W2378156"]})


def test_wal_mode_is_on(tmp_path):
    store = SqliteConversationStore(tmp_path / "c.db")
    store.close()
    with sqlite3.connect(tmp_path / "c.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_append_is_idempotent_per_ticket(tmp_path):
    store = SqliteConversationStore(tmp_path / "c.db")
    assert store.append_turn("C-1", turn("T-1", "first"))
    assert not store.append_turn("C-1", turn("T-1", "first, redelivered"))
    assert store.append_turn("C-1", turn("T-2", "second"))
    assert [t.text for t in store.turns_until("C-1", "T-2")] == ["first", "second"]
    store.close()


def test_turns_until_stops_at_the_ticket_being_handled(tmp_path):
    store = SqliteConversationStore(tmp_path / "c.db")
    for i in range(1, 4):
        store.append_turn("C-1", turn(f"T-{i}", f"turn {i}"))
    store.append_turn("C-2", turn("T-9", "other conversation"))
    assert [t.ticket_id for t in store.turns_until("C-1", "T-2")] == ["T-1", "T-2"]
    assert store.turns_until("C-1", "T-unknown") == []
    store.close()


def test_state_survives_restart(tmp_path):
    path = tmp_path / "state" / "c.db"
    store = SqliteConversationStore(path)
    store.append_turn("C-1", turn("T-1", "my order is late"))
    store.save_state("C-1", "Customer: my order is late", {"order_ids": "#W2378156"})
    store.close()

    reopened = SqliteConversationStore(path)
    (restored,) = reopened.turns_until("C-1", "T-1")
    assert (restored.text, restored.facts) == ("my order is late", {"order_ids": ["#W2378156"]})
    assert reopened.state("C-1") == ("Customer: my order is late", {"order_ids": "#W2378156"})
    assert not reopened.append_turn("C-1", turn("T-1"))
    assert reopened.state("C-404") is None
    reopened.close()
