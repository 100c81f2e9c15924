"""Minute counters kept at ingestion, for alert rules over minutes (the rollups are per day).

Each stored batch adds, in the same transaction as its events, per event-time minute ×
stream × tenant × subject (the interface of a call, the source of an exception): the number
of events, how many failed, and the calls' durations in fixed buckets (p95 to bucket
resolution). The last time each tenant pushed each stream is kept beside them. Events older
than ``KEEP`` (a backlog of past days) are not counted: they say nothing about now. Counters
live in ``ingest.db`` next to the events; ``prune`` drops those past ``KEEP``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.logs.contract import CheckedEvent
from console.logs.pending import ingest_path

KEEP = timedelta(hours=48)
# Upper bounds (ms) of the latency buckets; the last bucket is everything slower.
BUCKETS = (100, 200, 300, 500, 800, 1000, 2000, 3000, 5000, 10000, 30000)
_BUCKET_COLUMNS = [f"b{index}" for index in range(len(BUCKETS) + 1)]
# A batch naming more subjects than this folds the rest into one, so a hostile sender
# cannot grow the table without bound.
MAX_SUBJECTS_PER_BATCH = 500
OTHER = "（其他）"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS minute_counts (
    minute   INTEGER NOT NULL,
    stream   TEXT NOT NULL,
    tenant   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    calls    INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    {", ".join(f"{column} INTEGER NOT NULL DEFAULT 0" for column in _BUCKET_COLUMNS)},
    PRIMARY KEY (minute, stream, tenant, subject)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS push_seen (
    stream  TEXT NOT NULL,
    tenant  TEXT NOT NULL,
    last_us INTEGER NOT NULL,
    PRIMARY KEY (stream, tenant)
) WITHOUT ROWID;
"""

_UPSERT = (
    f"INSERT INTO minute_counts (minute, stream, tenant, subject, calls, failures, "
    f"{', '.join(_BUCKET_COLUMNS)}) VALUES ({', '.join('?' * (6 + len(_BUCKET_COLUMNS)))}) "
    "ON CONFLICT (minute, stream, tenant, subject) DO UPDATE SET "
    "calls = calls + excluded.calls, failures = failures + excluded.failures, "
    + ", ".join(f"{column} = {column} + excluded.{column}" for column in _BUCKET_COLUMNS)
)
_SEEN = (
    "INSERT INTO push_seen (stream, tenant, last_us) VALUES (?, ?, ?) "
    "ON CONFLICT (stream, tenant) DO UPDATE SET last_us = max(last_us, excluded.last_us)"
)


def bucket_of(duration_ms: int) -> int:
    """Index of the latency bucket a duration falls in."""
    for index, bound in enumerate(BUCKETS):
        if duration_ms <= bound:
            return index
    return len(BUCKETS)


def minute_of(moment: datetime) -> int:
    """Minutes since the epoch (UTC) of a moment."""
    return int(moment.timestamp()) // 60


def record(
    db: sqlite3.Connection, *, stream: str, events: Iterable[CheckedEvent], received_us: int
) -> None:
    """Add a stored batch to the counters (inside the caller's transaction)."""
    oldest = minute_of(datetime.fromtimestamp(received_us / 1e6, UTC) - KEEP)
    totals: dict[tuple[int, str, str], list[int]] = {}
    subjects: set[str] = set()
    tenants: set[str] = set()
    for event in events:
        tenants.add(event.tenant)
        minute = minute_of(event.ts)
        if minute < oldest:
            continue
        subject = event.subject
        if subject not in subjects:
            if len(subjects) >= MAX_SUBJECTS_PER_BATCH:
                subject = OTHER
            subjects.add(subject)
        row = totals.setdefault((minute, event.tenant, subject), [0] * (2 + len(BUCKETS) + 1))
        row[0] += 1
        row[1] += event.failed
        if stream == "interface_call":
            row[2 + bucket_of(event.duration_ms)] += 1
    db.executemany(
        _UPSERT,
        [
            (minute, stream, tenant, subject, *row)
            for (minute, tenant, subject), row in totals.items()
        ],
    )
    db.executemany(_SEEN, [(stream, tenant, received_us) for tenant in tenants])


def prune(db: sqlite3.Connection, *, now: datetime) -> int:
    """Drop counters older than ``KEEP``; the number of rows dropped."""
    cursor = db.execute("DELETE FROM minute_counts WHERE minute < ?", (minute_of(now - KEEP),))
    return cursor.rowcount


@dataclass
class Window:
    """One tenant × subject over a window of minutes."""

    tenant: str
    subject: str
    calls: int = 0
    failures: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))

    @property
    def success_rate(self) -> float:
        """Share of events that did not fail (1.0 without events)."""
        return 1.0 if self.calls == 0 else 1 - self.failures / self.calls

    def quantile_ms(self, share: float) -> int | None:
        """The upper bound (ms) of the bucket holding the ``share`` quantile; None: no calls.

        The slowest bucket has no bound: it answers with the last bound + 1.
        """
        timed = sum(self.buckets)
        if timed == 0:
            return None
        wanted, seen = share * timed, 0
        for index, count in enumerate(self.buckets):
            seen += count
            if seen >= wanted:
                return BUCKETS[index] if index < len(BUCKETS) else BUCKETS[-1] + 1
        return BUCKETS[-1] + 1


def _reader(lake: Path) -> sqlite3.Connection | None:
    path = ingest_path(lake)
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.execute("PRAGMA busy_timeout=5000")
    return db


def window(
    lake: Path, *, stream: str, since: datetime, until: datetime, by_subject: bool = True
) -> list[Window]:
    """Totals per tenant (× subject) over the minutes in [since, until)."""
    db = _reader(lake)
    if db is None:
        return []
    subject = "subject" if by_subject else "''"
    sums = ", ".join(f"sum({column})" for column in _BUCKET_COLUMNS)
    try:
        rows = db.execute(
            f"SELECT tenant, {subject}, sum(calls), sum(failures), {sums} FROM minute_counts "
            f"WHERE stream = ? AND minute >= ? AND minute < ? GROUP BY tenant, {subject}",
            (stream, minute_of(since), minute_of(until)),
        ).fetchall()
    except sqlite3.OperationalError:  # a store not yet opened by a writer: no table yet
        return []
    finally:
        db.close()
    return [Window(r[0], r[1], r[2], r[3], list(r[4:])) for r in rows]


def last_pushes(lake: Path) -> dict[tuple[str, str], datetime]:
    """(stream, tenant) → when that tenant last pushed that stream (kept while ingest.db is)."""
    db = _reader(lake)
    if db is None:
        return {}
    try:
        rows = db.execute("SELECT stream, tenant, last_us FROM push_seen").fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()
    return {(s, t): datetime.fromtimestamp(us / 1e6, UTC) for s, t, us in rows}
