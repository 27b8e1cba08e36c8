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


def test_the_owner_is_the_first_customer_turn_that_named_someone(tmp_path):
    store = SqliteConversationStore(tmp_path / "c.db")
    store.append_turn("C-1", Turn("customer", "hello", "T-1", 1))
    store.append_turn("C-1", Turn("agent", "who are you?", "T-2", 2))
    store.append_turn("C-1", Turn("customer", "ana", "T-3", 3, speaker="email:ana@example.com"))
    store.append_turn("C-1", Turn("customer", "bo", "T-4", 4, speaker="email:bo@example.com"))
    assert store.owner("C-1") == "email:ana@example.com" and store.owner("C-2") == ""
    store.close()


def test_a_store_written_before_turns_had_speakers_gains_the_column(tmp_path):
    db = sqlite3.connect(tmp_path / "c.db")
    db.execute("CREATE TABLE turns (conversation_id TEXT NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT,"
               " ticket_id TEXT NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, at_unix_ms INTEGER NOT NULL,"
               " facts_json TEXT NOT NULL DEFAULT '{}', UNIQUE (conversation_id, ticket_id))")
    db.execute("INSERT INTO turns (conversation_id, ticket_id, role, text, at_unix_ms) VALUES ('C-1', 'T-1',"
               " 'customer', 'old', 1)")
    db.commit()
    db.close()
    store = SqliteConversationStore(tmp_path / "c.db")
    assert store.owner("C-1") == ""
    assert store.append_turn("C-1", Turn("customer", "new", "T-2", 2, speaker="email:a@b.c"))
    assert store.owner("C-1") == "email:a@b.c" and len(store.turns_until("C-1", "T-2")) == 2
    store.close()
