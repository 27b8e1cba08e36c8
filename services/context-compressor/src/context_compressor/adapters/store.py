"""Durable conversation state in SQLite (WAL): each conversation's turns, rolling summary and facts."""

import json
import pathlib
import sqlite3
import threading
import time

from ..domain.model import Turn

_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL,
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    at_unix_ms INTEGER NOT NULL,
    facts_json TEXT NOT NULL DEFAULT '{}',
    speaker TEXT NOT NULL DEFAULT '',
    UNIQUE (conversation_id, ticket_id)
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns (conversation_id, seq);
CREATE INDEX IF NOT EXISTS turns_by_ticket ON turns (ticket_id);
CREATE TABLE IF NOT EXISTS conversations (
    conversation_id TEXT PRIMARY KEY,
    summary TEXT NOT NULL,
    facts_json TEXT NOT NULL,
    updated_unix_ms INTEGER NOT NULL
);
"""


class SqliteConversationStore:
    """One SQLite file; calls are short and serialized, so one connection behind a lock suffices.

    A ticket's turn is keyed by (conversation_id, ticket_id): a redelivered ticket finds its turn
    already stored and the conversation is not extended twice.
    """

    def __init__(self, path: pathlib.Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed turn survives a crash or kill of this process (what the
        # Kafka offset commit after the handler relies on) without an fsync per message, which cost
        # tens of milliseconds of a blocked event loop each. Only a power cut can lose the last turns.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(turns)")}
        if "speaker" not in columns:   # a store written before turns knew who sent them
            self._db.execute("ALTER TABLE turns ADD COLUMN speaker TEXT NOT NULL DEFAULT ''")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append_turn(self, conversation_id: str, turn: Turn) -> bool:
        """Store the ticket's turn; False when this ticket's turn was already stored."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO turns (conversation_id, ticket_id, role, text, at_unix_ms, facts_json, speaker)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, turn.ticket_id, turn.role, turn.text, turn.at_unix_ms,
                 json.dumps(turn.facts, sort_keys=True), turn.speaker))
            return cur.rowcount == 1

    def owner(self, conversation_id: str) -> str:
        """Who the conversation belongs to: the identity of its first customer turn that named one ("" if none)."""
        with self._lock:
            row = self._db.execute(
                "SELECT speaker FROM turns WHERE conversation_id = ? AND role = 'customer' AND speaker != ''"
                " ORDER BY seq LIMIT 1", (conversation_id,)).fetchone()
        return row[0] if row else ""

    def turns_until(self, conversation_id: str, ticket_id: str) -> list[Turn]:
        """The conversation's turns, oldest first, up to and including `ticket_id`'s.

        A ticket redelivered after later ones were handled is compressed as it was the first time.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT role, text, ticket_id, at_unix_ms, facts_json FROM turns WHERE conversation_id = ?"
                " AND seq <= (SELECT seq FROM turns WHERE conversation_id = ? AND ticket_id = ?)"
                " ORDER BY seq",
                (conversation_id, conversation_id, ticket_id)).fetchall()
        return [Turn(role, text, tid, at, json.loads(facts)) for role, text, tid, at, facts in rows]

    def ticket_turn(self, ticket_id: str) -> tuple[str, str] | None:
        """(conversation id, role) of the turn a ticket added, if any conversation has it."""
        with self._lock:
            row = self._db.execute("SELECT conversation_id, role FROM turns WHERE ticket_id = ? ORDER BY seq LIMIT 1",
                                   (ticket_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def save_state(self, conversation_id: str, summary: str, facts: dict[str, str]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO conversations (conversation_id, summary, facts_json, updated_unix_ms)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET summary = excluded.summary,"
                " facts_json = excluded.facts_json, updated_unix_ms = excluded.updated_unix_ms",
                (conversation_id, summary, json.dumps(facts), int(time.time() * 1000)))

    def state(self, conversation_id: str) -> tuple[str, dict[str, str]] | None:
        """The last saved rolling summary and facts of a conversation, if any."""
        with self._lock:
            row = self._db.execute("SELECT summary, facts_json FROM conversations WHERE conversation_id = ?",
                                   (conversation_id,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None
