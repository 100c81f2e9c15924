"""The durable front of the log lake: accepted events are on disk before the sender hears 200.

An SQLite database in WAL mode with ``synchronous=FULL`` is the write-ahead log: one
transaction per batch is fsynced at commit, and its unique key (stream, sender, event_id)
makes a re-sent event a counted duplicate instead of a second copy — atomically with the
write, so a crash between "stored" and "deduplicated" cannot happen. Sealing moves whole days
from here into Parquet (see ``seal.py``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from console.core.clock import utcnow
from console.logs.contract import CheckedEvent
from console.logs.seal import ChainEntry, lake_lock, seal_closed_days

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    stream   TEXT NOT NULL,
    sender   TEXT NOT NULL,
    event_id TEXT NOT NULL,
    ts_us    INTEGER NOT NULL,
    day      TEXT NOT NULL,
    tenant   TEXT NOT NULL,
    received_us INTEGER NOT NULL,
    line     TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS pending_identity ON pending (stream, sender, event_id);
CREATE INDEX IF NOT EXISTS pending_day ON pending (stream, day);
"""


@dataclass(frozen=True)
class StoredCount:
    """How a batch ended: newly stored events and re-sent ones that were already there."""

    accepted: int
    duplicates: int


class IngestStore:
    """One per process and lake folder; thread-safe (writes are serialised)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is fsynced at every commit, so an acknowledged batch survives kill -9
        # and power loss alike.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)

    def append(self, *, stream: str, sender: str, events: Iterable[CheckedEvent]) -> StoredCount:
        """Store a batch durably; events already stored for this sender count as duplicates."""
        received = int(utcnow().timestamp() * 1_000_000)
        rows = [
            (stream, sender, e.event_id, int(e.ts.timestamp() * 1_000_000), e.day, e.tenant,
             received, e.line)
            for e in events
        ]  # fmt: skip
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR IGNORE INTO pending "
                    "(stream, sender, event_id, ts_us, day, tenant, received_us, line) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            accepted = self._db.total_changes - before
        return StoredCount(accepted, len(rows) - accepted)

    def count(self, stream: str | None = None) -> int:
        """Events held here (all streams, or one)."""
        query, args = "SELECT count(*) FROM pending", ()
        if stream:
            query, args = query + " WHERE stream = ?", (stream,)
        with self._lock:
            return int(self._db.execute(query, args).fetchone()[0])

    def seal(self, *, lake: Path, now: datetime | None = None) -> list[ChainEntry]:
        """Seal closed days into Parquet (own connection: ingestion goes on meanwhile)."""
        with lake_lock(lake):
            db = sqlite3.connect(self.path, isolation_level=None)
            try:
                db.execute("PRAGMA busy_timeout=30000")
                return seal_closed_days(lake=lake, db=db, now=now)
            finally:
                db.close()

    def close(self) -> None:
        """Close the database (tests and shutdown)."""
        with self._lock:
            self._db.close()


_stores: dict[Path, IngestStore] = {}
_stores_lock = threading.Lock()


def store_for(lake_dir: Path) -> IngestStore:
    """The process's store for a lake folder."""
    path = (lake_dir / "ingest.db").resolve()
    with _stores_lock:
        if path not in _stores:
            _stores[path] = IngestStore(path)
        return _stores[path]
