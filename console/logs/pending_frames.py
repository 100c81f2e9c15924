"""The pending events of a stream, decoded once per process and extended by what arrived since.

Every dashboard read adds rollups of the events not sealed yet (today's, and late events for
sealed days) to the sealed days' rollups. Reading and decoding every pending line for each read
cost 0.8 s per 150,000 events, on every read, while counties pushed. Now each process keeps,
per stream, the decoded frame with the last rowid it holds, and a read decodes only the rows
after it:

- the rows are exactly those of the reader's snapshot: rows after the snapshot's newest rowid
  are left out, and any deletion (a seal) bumps the stream's ``pending_generation`` in the
  same transaction, after which the frame is decoded afresh (SQLite may also reuse the rowids
  of deleted rows, so nothing decoded before a deletion is trusted after it);
- a store replaced by a restore is a new file (another inode): a new entry;
- bounded: the kept frames together stay within ``BDC_PENDING_CACHE_MB`` (256 MB by default,
  about 800,000 decoded events; the least recently read go first, and a frame larger than
  the whole budget is decoded per read, as before), for at most ``MAX_ENTRIES`` stores and
  streams.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from console.core.settings import get_settings
from console.logs import pending

MAX_ENTRIES = 8
# What the dashboards' rollups read of each stream: a fifth of a full row (no line text).
ROLLUP_COLUMNS: dict[str, tuple[pl.Expr, ...]] = {
    "case_event": (
        *map(pl.col, ("tenant", "business_code", "registration_type", "channel", "case_no",
                      "step", "ts")),
        pl.col("raw").str.json_path_match("$.institution").fill_null("").alias("institution"),
    ),
    "interface_call": tuple(map(pl.col, ("tenant", "department", "interface_code",
                                         "result_code", "success", "retry", "duration_ms",
                                         "ts"))),
    "operation": tuple(map(pl.col, ("tenant", "action", "outcome", "ts"))),
    "exception": tuple(map(pl.col, ("tenant", "source", "level", "ts"))),
}  # fmt: skip


@dataclass(frozen=True)
class _Kept:
    generation: int
    last_rowid: int
    frame: pl.DataFrame  # with a ``_rowid`` column
    size: int  # bytes, as Polars estimates them


_kept: OrderedDict[tuple[Path, int, str, bool], _Kept] = OrderedDict()
_lock = threading.Lock()


def _decode(
    stream: str, chunks: Iterable[list[tuple[int, str, str, int, str, str]]], narrow: bool
) -> pl.DataFrame | None:
    from console.logs.seal import decode_chunks  # sealing builds on the rollups that use this

    return decode_chunks(stream, chunks, ROLLUP_COLUMNS[stream] if narrow else None)


def pending_frame(
    db: sqlite3.Connection, lake: Path, stream: str, *, narrow: bool = False
) -> pl.DataFrame | None:
    """The stream's pending events, decoded, as ``db`` sees them (None: none).

    ``narrow``: only the ``ROLLUP_COLUMNS`` of the stream (what the dashboards read).
    """
    newest = db.execute("SELECT max(rowid) FROM pending WHERE stream = ?", (stream,)).fetchone()[0]
    if newest is None:
        return None
    generation = pending.generation(db, stream)
    path = pending.ingest_path(lake)
    key = (path, path.stat().st_ino, stream, narrow)
    with _lock:
        kept = _kept.get(key)
    if kept is None or generation is None or kept.generation != generation:
        kept = None  # never decoded here, or rows were deleted since: decode afresh
    after = 0 if kept is None else min(kept.last_rowid, newest)
    parts = [] if kept is None else [kept.frame.filter(pl.col("_rowid") <= newest)]
    decoded = _decode(stream, pending.rows_after(db, stream, after, newest), narrow)
    if decoded is not None:
        parts.append(decoded)
    frame = pl.concat(parts, how="vertical_relaxed")
    if generation is not None:
        _keep(key, _Kept(generation, newest, frame, frame.estimated_size()))
    return frame.drop("_rowid")


def kept_bytes() -> int:
    """What the kept frames hold now, in bytes."""
    with _lock:
        return sum(kept.size for kept in _kept.values())


def _keep(key: tuple[Path, int, str, bool], found: _Kept) -> None:
    """Keep the newest view within the budget, the least recently kept going first.

    (A reader of an older snapshot never replaces a newer view.)
    """
    budget = get_settings().pending_cache_mb * 2**20
    with _lock:
        current = _kept.get(key)
        if found.size > budget:
            _kept.pop(key, None)  # too big to keep: decoded per read; never a stale view
            return
        if current is None or (current.generation, current.last_rowid) <= (
            found.generation,
            found.last_rowid,
        ):
            _kept[key] = found
            _kept.move_to_end(key)
        while len(_kept) > MAX_ENTRIES or sum(kept.size for kept in _kept.values()) > budget:
            _kept.popitem(last=False)
