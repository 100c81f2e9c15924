"""The durable front of the log lake: accepted events are on disk before the sender hears 200.

An SQLite database in WAL mode with ``synchronous=FULL`` is the write-ahead log: one
transaction per batch is fsynced at commit, and its unique key (stream, sender, event_id)
makes a re-sent event a counted duplicate instead of a second copy — atomically with the
write, so a crash between "stored" and "deduplicated" cannot happen. The file, its schema and
its statements are ``pending.py``'s; sealing moves whole days from here into Parquet
(see ``seal.py``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from console.core.clock import utcnow
from console.logs import minutes, pending
from console.logs.chain import ChainEntry
from console.logs.contract import CheckedEvent
from console.logs.seal import Pieces, lake_lock, seal_closed_days


@dataclass(frozen=True)
class StoredCount:
    """How a batch ended: newly stored events and re-sent ones that were already there."""

    accepted: int
    duplicates: int
    stored: tuple[CheckedEvent, ...] = ()  # the events newly stored (what is forwarded)


class IngestStore:
    """One per process and lake folder; thread-safe (writes are serialised)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = pending.open_writer(path)
        self._db.executescript(minutes.SCHEMA)

    def append(self, *, stream: str, sender: str, events: Iterable[CheckedEvent]) -> StoredCount:
        """Store a batch durably; events already stored for this sender count as duplicates."""
        received = int(utcnow().timestamp() * 1_000_000)
        batch = list(events)
        rows = [
            (stream, sender, e.event_id, int(e.ts.timestamp() * 1_000_000), e.day, e.tenant,
             received, e.line)
            for e in batch
        ]  # fmt: skip

        fresh: list[CheckedEvent] = []

        def count(db: sqlite3.Connection, stored: int) -> None:
            """Only what was newly stored counts: a re-sent batch adds nothing."""
            if 0 < stored < len(batch):
                ids = pending.stored_ids(db, stream, sender, received)
                fresh.extend(e for e in batch if e.event_id in ids)
            elif stored:
                fresh.extend(batch)
            if fresh:
                minutes.record(db, stream=stream, events=fresh, received_us=received)

        with self._lock:
            accepted = pending.insert(self._db, rows, then=count)
        return StoredCount(accepted, len(rows) - accepted, tuple(fresh))

    def prune_minutes(self, now: datetime) -> int:
        """Drop minute counters past their keep (the alert rules look back at most that far)."""
        with self._lock, pending.write(self._db):
            return minutes.prune(self._db, now=now)

    def count(self, stream: str | None = None) -> int:
        """Events held here (all streams, or one)."""
        with self._lock:
            return pending.count(self._db, stream)

    def seal(
        self, *, lake: Path, now: datetime | None = None, pieces: Pieces | None = None
    ) -> list[ChainEntry]:
        """Seal closed days into Parquet (own connection: ingestion goes on meanwhile)."""
        with lake_lock(lake), pending.sealing(self.path) as db:
            return seal_closed_days(lake=lake, db=db, now=now, pieces=pieces)

    def close(self) -> None:
        """Close the database (tests and shutdown)."""
        with self._lock:
            self._db.close()


_stores: dict[Path, IngestStore] = {}
_stores_lock = threading.Lock()


def store_for(lake_dir: Path) -> IngestStore:
    """The process's store for a lake folder."""
    path = pending.ingest_path(lake_dir).resolve()
    with _stores_lock:
        if path not in _stores:
            _stores[path] = IngestStore(path)
        return _stores[path]
