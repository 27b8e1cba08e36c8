"""Proposals waiting for the customer's answer, durable in SQLite in the analyst's state directory."""

import pathlib
import sqlite3
import threading

from ..domain.confirmation import PendingProposal


class SqlitePendingStore:
    """One proposal per conversation (a newer one replaces it); rows past their expiry are purged on save.

    Messages are keyed by conversation id, so one analyst instance handles a conversation's turns in order;
    the lock only guards the shared connection across the worker threads the handler uses.
    """

    def __init__(self, path: pathlib.Path, keep_answered_ms: int = 7 * 24 * 3600 * 1000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # The Kafka offset is committed after the handler returns: a saved proposal must survive a crash.
        self._db.execute("PRAGMA synchronous=FULL")
        # Replicas of the analyst on one machine share the file: a writer waits for another instead of failing.
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("CREATE TABLE IF NOT EXISTS proposals (conversation_id TEXT PRIMARY KEY, "
                         "body TEXT NOT NULL, expires_ms INTEGER NOT NULL)")
        self._lock = threading.Lock()
        self._keep = keep_answered_ms

    def save(self, proposal: PendingProposal, now_ms: int) -> None:
        with self._lock:
            # Expired rows are kept a while so a late "yes" is told its proposal expired, not that none exists.
            self._db.execute("DELETE FROM proposals WHERE expires_ms < ?", (now_ms - self._keep,))
            self._db.execute("INSERT OR REPLACE INTO proposals VALUES (?, ?, ?)",
                             (proposal.conversation_id, proposal.to_json(), proposal.expires_ms))

    def get(self, conversation_id: str) -> PendingProposal | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM proposals WHERE conversation_id = ?",
                                   (conversation_id,)).fetchone()
        return PendingProposal.from_json(row[0]) if row else None

    def close(self) -> None:
        self._db.close()
