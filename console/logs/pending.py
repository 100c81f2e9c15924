"""The pending store's SQLite file: its one path, its schema and every statement on ``pending``.

Accepted events wait in the ``pending`` table of ``<lake>/ingest.db`` until sealing moves
their day into Parquet. The writer (``store.IngestStore``) appends batches, sealing reads and
deletes whole days on its own connection, and searches and exports read inside a catalogue
snapshot (``catalogue.py``); all of them go through the functions here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

INGEST_DB = "ingest.db"
CHUNK = 20_000  # rows read as Python objects at once (about 15 MB), then decoded by Polars
# event_id, sender, ts_us, tenant, line: the columns ``seal.decode_chunks`` types.
PendingRow = tuple[str, str, int, str, str]
# stream, sender, event_id, ts_us, day, tenant, received_us, line: one stored event.
StoredRow = tuple[str, str, str, int, str, str, int, str]

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
CREATE TABLE IF NOT EXISTS pending_generation (
    stream TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
);
"""


def ingest_path(lake: Path) -> Path:
    """The pending store's file of a lake folder."""
    return lake / INGEST_DB


def open_writer(path: Path) -> sqlite3.Connection:
    """The store's writing connection: WAL, fsynced at every commit, schema in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    # FULL: the WAL is fsynced at every commit, so an acknowledged batch survives kill -9
    # and power loss alike.
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=10000")
    db.executescript(_SCHEMA)
    return db


@contextmanager
def sealing(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection of its own for sealing, so ingestion goes on meanwhile."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout=30000")
        yield db
    finally:
        db.close()


@contextmanager
def write(db: sqlite3.Connection) -> Iterator[None]:
    """One immediate transaction: committed at the end, rolled back on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def insert(
    db: sqlite3.Connection,
    rows: list[StoredRow],
    then: Callable[[sqlite3.Connection, int], None] | None = None,
) -> int:
    """Store rows in one transaction; the number newly stored (the rest were already there).

    ``then`` runs inside the same transaction with that number (the minute counters).
    """
    with write(db):
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO pending "
            "(stream, sender, event_id, ts_us, day, tenant, received_us, line) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        stored = db.total_changes - before
        if then is not None:
            then(db, stored)
    return stored


def stored_ids(db: sqlite3.Connection, stream: str, sender: str, received_us: int) -> set[str]:
    """Event ids a batch stamped ``received_us`` newly stored (the rest were duplicates)."""
    rows = db.execute(
        "SELECT event_id FROM pending WHERE stream = ? AND sender = ? AND received_us = ?",
        (stream, sender, received_us),
    )
    return {row[0] for row in rows}


def count(db: sqlite3.Connection, stream: str | None = None) -> int:
    """Events held (all streams, or one)."""
    query, args = "SELECT count(*) FROM pending", ()
    if stream:
        query, args = query + " WHERE stream = ?", (stream,)
    return int(db.execute(query, args).fetchone()[0])


def chunks_between(
    db: sqlite3.Connection, stream: str, start: str | None, end: str | None
) -> Iterator[list[tuple[int, str, str, int, str, str]]]:
    """The stream's pending events of the days from ``start`` to ``end`` (ISO dates, inclusive).

    (rowid, event_id, sender, ts_us, tenant, line) rows, ``CHUNK`` at a time.
    """
    sql = "SELECT rowid, event_id, sender, ts_us, tenant, line FROM pending WHERE stream = ?"
    args: list[object] = [stream]
    if start:
        sql, args = sql + " AND day >= ?", [*args, start]
    if end:
        sql, args = sql + " AND day <= ?", [*args, end]
    cursor = db.execute(sql, args)
    while rows := cursor.fetchmany(CHUNK):
        yield rows


def select_days(db: sqlite3.Connection, stream: str) -> set[str]:
    """The days a stream has pending events for."""
    rows = db.execute("SELECT DISTINCT day FROM pending WHERE stream = ?", (stream,))
    return {row[0] for row in rows}


def has_day(db: sqlite3.Connection, stream: str, day: str) -> bool:
    """Whether any event of the stream's day is still pending."""
    found = db.execute(
        "SELECT 1 FROM pending WHERE stream = ? AND day = ? LIMIT 1", (stream, day)
    ).fetchone()
    return found is not None


def days_before(db: sqlite3.Connection, stream: str, day: str) -> list[str]:
    """The stream's pending days before ``day``, oldest first."""
    rows = db.execute(
        "SELECT DISTINCT day FROM pending WHERE stream = ? AND day < ? ORDER BY day",
        (stream, day),
    )
    return [row[0] for row in rows]


def last_rowid(db: sqlite3.Connection, stream: str, day: str) -> int:
    """The highest rowid among the stream's pending events of one day (0 when none)."""
    row = db.execute(
        "SELECT max(rowid) FROM pending WHERE stream = ? AND day = ?", (stream, day)
    ).fetchone()
    return int(row[0] or 0)


def day_chunks(
    db: sqlite3.Connection, stream: str, day: str, *, after: int, through: int, limit: int
) -> Iterator[list[tuple[int, str, str, int, str, str]]]:
    """At most ``limit`` pending events of one day with rowids in (after, through], in order.

    (rowid, event_id, sender, ts_us, tenant, line) rows, ``CHUNK`` at a time: a reader never
    holds more of them as Python objects than that.
    """
    cursor = db.execute(
        "SELECT rowid, event_id, sender, ts_us, tenant, line FROM pending"
        " WHERE stream = ? AND day = ? AND rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
        (stream, day, after, through, limit),
    )
    while rows := cursor.fetchmany(CHUNK):
        yield rows


def _deleted(db: sqlite3.Connection, stream: str) -> None:
    """Count a deletion: rows a reader decoded earlier may be gone, and rowids may be reused."""
    db.execute(
        "INSERT INTO pending_generation (stream, n) VALUES (?, 1)"
        " ON CONFLICT (stream) DO UPDATE SET n = n + 1",
        (stream,),
    )


def generation(db: sqlite3.Connection, stream: str) -> int | None:
    """How many deletions the stream's pending events have had (None: not counted here)."""
    try:
        row = db.execute("SELECT n FROM pending_generation WHERE stream = ?", (stream,)).fetchone()
    except sqlite3.OperationalError:  # a store written before the count existed
        return None
    return 0 if row is None else int(row[0])


def rows_after(
    db: sqlite3.Connection, stream: str, rowid: int, through: int
) -> Iterator[list[tuple[int, str, str, int, str, str]]]:
    """The stream's rows with rowids in (rowid, through], ``CHUNK`` at a time, in order.

    Each row: (rowid, event_id, sender, ts_us, tenant, line).
    """
    cursor = db.execute(
        "SELECT rowid, event_id, sender, ts_us, tenant, line FROM pending"
        " WHERE stream = ? AND rowid > ? AND rowid <= ? ORDER BY rowid",
        (stream, rowid, through),
    )
    while rows := cursor.fetchmany(CHUNK):
        yield rows


def delete_events(db: sqlite3.Connection, stream: str, keys: Iterable[tuple[str, str]]) -> None:
    """Drop the stream's pending events named by (sender, event_id), in the caller's transaction."""
    db.executemany(
        "DELETE FROM pending WHERE stream = ? AND sender = ? AND event_id = ?",
        [(stream, sender, event_id) for sender, event_id in keys],
    )
    _deleted(db, stream)


def delete_day_through(db: sqlite3.Connection, stream: str, day: str, last_rowid: int) -> None:
    """Drop the day's pending events up to ``last_rowid`` (later ones stay), in the caller's tx."""
    db.execute(
        "DELETE FROM pending WHERE stream = ? AND day = ? AND rowid <= ?",
        (stream, day, last_rowid),
    )
    _deleted(db, stream)
