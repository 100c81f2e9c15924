"""Which sealed days hold events of a case: a trace opens those days, not a year of files.

A small SQLite table (case number, day), written when a part is sealed — before the part
itself, so a crash can leave a day too many in the index but never one missing. Derived data:
``rebuild-rollups`` recreates it from the sealed files; without it a trace scans every day.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from console.logs.parts import scan_parts

INDEXED_STREAMS = ("case_event", "interface_call", "operation")
_SCHEMA = """
CREATE TABLE case_day (
    case_no TEXT NOT NULL,
    day     TEXT NOT NULL,
    PRIMARY KEY (case_no, day)
) WITHOUT ROWID;
"""


def index_path(lake: Path) -> Path:
    """Where the index lives."""
    return lake / "_index" / "cases.db"


def _connect(lake: Path) -> sqlite3.Connection:
    path = index_path(lake)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=10000")
    return db


@contextmanager
def _writing(lake: Path) -> Iterator[sqlite3.Connection]:
    """One immediate transaction on the index, the table created in it if need be.

    A lake sealed before the index existed is covered in the same transaction, so a reader
    sees no index (and reads every day) or a whole one, never an empty or partial table.
    """
    db = _connect(lake)
    try:
        db.execute("BEGIN IMMEDIATE")
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'case_day'").fetchone():
            db.execute(_SCHEMA)
            _insert_sealed(db, lake)
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()


def add_day(lake: Path, day: str, case_numbers: Iterable[str | None]) -> None:
    """Record that ``day`` holds events of these cases."""
    rows = [(case_no, day) for case_no in set(case_numbers) if case_no]
    if not rows:
        return
    with _writing(lake) as db:
        db.executemany("INSERT OR IGNORE INTO case_day (case_no, day) VALUES (?, ?)", rows)


def days_of(lake: Path, case_no: str) -> list[str] | None:
    """The sealed days holding the case, or None when there is no index to ask."""
    path = index_path(lake)
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = db.execute("SELECT day FROM case_day WHERE case_no = ? ORDER BY day", (case_no,))
        return [row[0] for row in rows]
    except sqlite3.OperationalError:  # the first seal is creating it right now: read every day
        return None
    finally:
        db.close()


def drop_day(lake: Path, day: str) -> None:
    """Forget a purged day."""
    if index_path(lake).exists():
        with _writing(lake) as db:
            db.execute("DELETE FROM case_day WHERE day = ?", (day,))


def rebuild(lake: Path) -> int:
    """Recreate the index from the sealed files in one transaction; returns the pairs.

    Readers meanwhile use the old index (never an index being refilled).
    """
    with _writing(lake) as db:
        db.execute("DELETE FROM case_day")
        _insert_sealed(db, lake)
        return int(db.execute("SELECT count(*) FROM case_day").fetchone()[0])


def _insert_sealed(db: sqlite3.Connection, lake: Path) -> None:
    from console.logs import lake_table  # the index sits below the catalogue and the tables
    from console.logs.catalogue import snapshot

    if lake_table.configured() is not None:  # local copies may be evicted: read the tables
        with snapshot(lake) as snap:
            for stream in INDEXED_STREAMS:
                sealed = snap.sealed(stream)
                if sealed is not None:
                    pairs = sealed.select("case_no", pl.col("day").cast(pl.String)).unique()
                    db.executemany(
                        "INSERT OR IGNORE INTO case_day (case_no, day) VALUES (?, ?)",
                        pairs.drop_nulls().collect().rows(),
                    )
        return
    for stream in INDEXED_STREAMS:
        for folder in sorted((lake / stream).glob("date=*")):
            parts = sorted(folder.glob("part-*.parquet"))
            if parts:
                cases = scan_parts(stream, parts).select("case_no").unique().collect()
                day = folder.name.removeprefix("date=")
                db.executemany(
                    "INSERT OR IGNORE INTO case_day (case_no, day) VALUES (?, ?)",
                    [(case_no, day) for case_no in cases.get_column("case_no") if case_no],
                )
