"""Which lake files are current, kept beside the pending events so every read is one snapshot.

Readers used to list the lake's folders and then read the files; a seal or a rollup rebuild
between the two made them count a day twice (its new part and its still-pending events) or
read a file replaced under them. Now:

- every sealed part and every rollup file has a row in the ``lake_file`` table of
  ``ingest.db``, the same SQLite database that holds the pending events;
- a file is never rewritten: a rebuilt rollup is a new file with a new name;
- sealing a day is one transaction — the part (and the day's rebuilt rollups) become
  current and the pending copies go, together;
- a reader opens one read transaction (``snapshot``) and takes both the file list and the
  pending rows from it, so it sees the day either before the seal or after it, never both
  or neither;
- a superseded file is only marked retired; it is deleted once it has been retired for
  ``GRACE`` (far longer than any query runs), so a reader that listed it can still read it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from console.logs import lake_table, pending
from console.logs.chain import held_parts, read_chain
from console.logs.contract import STREAMS
from console.logs.parts import scan_parts

PART, ROLLUP = "part", "rollup"
ROLLUP_FOLDER = "_rollups"
GRACE_SECONDS = 15 * 60
_SCHEMA = """
CREATE TABLE IF NOT EXISTS lake_file (
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL,
    day     TEXT NOT NULL,
    file    TEXT NOT NULL,
    retired_us INTEGER,
    PRIMARY KEY (kind, name, file)
);
CREATE INDEX IF NOT EXISTS lake_file_current ON lake_file (kind, name, day)
    WHERE retired_us IS NULL;
"""
_prepared: set[tuple[Path, int]] = set()
_prepared_lock = threading.Lock()


def _now_us() -> int:
    return time.time_ns() // 1000


def ensure(db: sqlite3.Connection, lake: Path) -> None:
    """Create the table; on creation, list what the lake already holds.

    A lake sealed before the catalogue existed is listed from its chains (what sealing
    vouched for); a lake with no chain (benchmarks write their year straight into the
    layout) from its folders.
    """
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lake_file'"
    ).fetchone()
    if exists:
        return
    found = list(_found_on_disk(lake))
    with pending.write(db):
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.executemany(
            "INSERT OR IGNORE INTO lake_file (kind, name, day, file) VALUES (?, ?, ?, ?)", found
        )
        _drop_pending_copies(db, lake, [(name, day, file) for kind, name, day, file in found
                                        if kind == PART])  # fmt: skip


def _drop_pending_copies(
    db: sqlite3.Connection, lake: Path, parts: list[tuple[str, str, str]]
) -> None:
    """Pending events a listed part already holds (a seal cut short before its delete)."""
    for stream, day, file in parts:
        if pending.has_day(db, stream, day):
            held = scan_parts(stream, [lake / file]).select("sender", "event_id").collect()
            pending.delete_events(db, stream, held.rows())


def _found_on_disk(lake: Path) -> Iterator[tuple[str, str, str, str]]:
    for stream in STREAMS:
        chain = read_chain(lake, stream)
        if chain:
            for entry in held_parts(chain):
                if (lake / stream / entry.file).exists():
                    yield PART, stream, entry.day, f"{stream}/{entry.file}"
        else:
            for path in sorted((lake / stream).glob("date=*/part-*.parquet")):
                day = path.parent.name.removeprefix("date=")
                yield PART, stream, day, str(path.relative_to(lake))
    for path in sorted((lake / ROLLUP_FOLDER).glob("*/date=*.parquet")):
        day = path.name.removeprefix("date=")[:10]
        yield ROLLUP, path.parent.name, day, str(path.relative_to(lake))


def prepare(lake: Path) -> None:
    """Make sure the lake's store has the catalogue (once per process and database file)."""
    path = pending.ingest_path(lake)
    try:
        key = (path, path.stat().st_ino)
    except FileNotFoundError:
        key = None
    if key is not None and key in _prepared:
        return
    with _prepared_lock:
        db = pending.open_writer(path)
        try:
            ensure(db, lake)
        finally:
            db.close()
        _prepared.add((path, path.stat().st_ino))


def add(db: sqlite3.Connection, kind: str, name: str, day: str, file: str) -> None:
    """List a new current file (inside the caller's transaction)."""
    db.execute(
        "INSERT OR IGNORE INTO lake_file (kind, name, day, file) VALUES (?, ?, ?, ?)",
        (kind, name, day, file),
    )


def retire(db: sqlite3.Connection, kind: str, name: str, day: str | None = None) -> None:
    """Take a name's current files (of one day, or all) out of every later snapshot."""
    sql = "UPDATE lake_file SET retired_us = ? WHERE kind = ? AND name = ? AND retired_us IS NULL"
    args: list[object] = [_now_us(), kind, name]
    if day is not None:
        sql, args = sql + " AND day = ?", [*args, day]
    db.execute(sql, args)


def retire_file(db: sqlite3.Connection, kind: str, name: str, file: str) -> None:
    """Take one file out of every later snapshot (inside the caller's transaction)."""
    db.execute(
        "UPDATE lake_file SET retired_us = ? WHERE kind = ? AND name = ? AND file = ?"
        " AND retired_us IS NULL",
        (_now_us(), kind, name, file),
    )


def replace(db: sqlite3.Connection, kind: str, name: str, day: str, file: str) -> None:
    """Make ``file`` the day's only current file of ``name`` (inside the caller's transaction)."""
    retire(db, kind, name, day)
    db.execute(
        "INSERT INTO lake_file (kind, name, day, file) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (kind, name, file) DO UPDATE SET retired_us = NULL",
        (kind, name, day, file),
    )


def current(
    db: sqlite3.Connection,
    kind: str,
    name: str,
    *,
    low: str | None = None,
    high: str | None = None,
    days: list[str] | None = None,
) -> list[tuple[str, str]]:
    """(day, file) of a name's current files, by day: all, a range, or the days listed."""
    sql = "SELECT day, file FROM lake_file WHERE kind = ? AND name = ? AND retired_us IS NULL"
    args: list[object] = [kind, name]
    if low:
        sql, args = sql + " AND day >= ?", [*args, low]
    if high:
        sql, args = sql + " AND day <= ?", [*args, high]
    if days is not None:
        sql += f" AND day IN ({','.join('?' * len(days))})"
        args += days
    return db.execute(sql + " ORDER BY day, file", args).fetchall()


def sweep(db: sqlite3.Connection, lake: Path, *, grace_seconds: int = GRACE_SECONDS) -> int:
    """Delete files retired longer than the grace period, and rollups no transaction listed."""
    cutoff = _now_us() - grace_seconds * 1_000_000
    old = db.execute(
        "SELECT kind, name, file FROM lake_file WHERE retired_us IS NOT NULL AND retired_us < ?",
        (cutoff,),
    ).fetchall()
    # A part goes only when the chain records its purge: a part retired any other way is
    # kept, for verify to report.
    held = {f"{s}/{e.file}" for s in STREAMS for e in held_parts(read_chain(lake, s))}
    old = [row for row in old if not (row[0] == PART and row[2] in held)]
    for kind, _, file in old:
        (lake / file).unlink(missing_ok=True)
        if kind == PART:  # and the part's encrypted lines as sent
            (lake / file).with_suffix(".lines").unlink(missing_ok=True)
    tables = lake_table.configured()
    if tables is not None:  # and their objects (no table snapshot a reader uses lists them)
        lake_table.delete_objects(tables, [file for kind, _, file in old if kind == PART])
    with pending.write(db):
        db.executemany("DELETE FROM lake_file WHERE kind = ? AND name = ? AND file = ?", old)
    listed = {row[0] for row in db.execute("SELECT file FROM lake_file WHERE kind = ?", (ROLLUP,))}
    # A rollup written by a seal that crashed before its transaction: never listed, never read.
    for path in (lake / ROLLUP_FOLDER).glob("*/date=*.parquet"):
        relative = str(path.relative_to(lake))
        if relative not in listed and path.stat().st_mtime < cutoff / 1_000_000:
            path.unlink(missing_ok=True)
    for folder in (lake / stream for stream in STREAMS):
        for day in folder.glob("date=*"):
            if day.is_dir() and not any(day.iterdir()):
                day.rmdir()
    return len(old)


@dataclass
class Snapshot:
    """One consistent view of a lake: its current files and its pending events."""

    lake: Path
    db: sqlite3.Connection | None

    def parts(
        self,
        stream: str,
        *,
        low: str | None = None,
        high: str | None = None,
        days: list[str] | None = None,
    ) -> list[Path]:
        """The stream's current sealed parts (all days, a range, or the days listed)."""
        if self.db is None:
            return []
        found = current(self.db, PART, stream, low=low, high=high, days=days)
        return [self.lake / file for _, file in found]

    def sealed(
        self,
        stream: str,
        *,
        low: str | None = None,
        high: str | None = None,
        days: list[str] | None = None,
    ) -> pl.LazyFrame | None:
        """The stream's sealed events of these days: from its table in table mode, else files.

        The table is read at the snapshot this catalogue snapshot records, so a day is in it
        exactly when its pending copies are gone.
        """
        tables = lake_table.configured()
        head = None if tables is None or self.db is None else lake_table.head(self.db, stream)
        if tables is not None and head is not None:
            return lake_table.scan(tables, stream, head, low=low, high=high, days=days)
        files = self.parts(stream, low=low, high=high, days=days)
        return scan_parts(stream, files) if files else None

    def rollups(self, name: str, *, before: str | None = None) -> list[tuple[str, Path]]:
        """(day, file) of a rollup's current days (those before ``before`` only, if given)."""
        if self.db is None:
            return []
        found = current(self.db, ROLLUP, name)
        return [(day, self.lake / file) for day, file in found if before is None or day < before]

    def part_files(self, stream: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        """(day, file) of the stream's current and of its retired parts."""
        if self.db is None:
            return set(), set()
        rows = self.db.execute(
            "SELECT day, file, retired_us IS NULL FROM lake_file WHERE kind = ? AND name = ?",
            (PART, stream),
        ).fetchall()
        current = {(day, file) for day, file, is_current in rows if is_current}
        return current, {(day, file) for day, file, is_current in rows if not is_current}

    def sealed_days(self, stream: str) -> set[str]:
        """The days with current sealed parts."""
        return {day for day, _ in current(self.db, PART, stream)} if self.db else set()

    def pending_days(self, stream: str) -> set[str]:
        """The days the stream has unsealed events for."""
        return set() if self.db is None else pending.select_days(self.db, stream)


@contextmanager
def snapshot(lake: Path) -> Iterator[Snapshot]:
    """A read transaction over the lake's store: every answer from the same moment."""
    path = pending.ingest_path(lake)
    if not path.exists() and not lake.is_dir():
        yield Snapshot(lake, None)
        return
    prepare(lake)
    # Used by one reader at a time, though an export's chunks may be read by several threads.
    db = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    try:
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("BEGIN")
        db.execute("SELECT 1 FROM lake_file LIMIT 1").fetchall()  # the moment is fixed here
        yield Snapshot(lake, db)
    finally:
        db.close()


def new_name(stem: str) -> str:
    """A file name never used before (``stem`` + a time and process suffix)."""
    return f"{stem}.{time.time_ns():x}{os.getpid():x}.parquet"
