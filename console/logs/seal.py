"""Seal closed days from the write-ahead store into Parquet, each file on an SM3 hash chain.

Layout: ``<lake>/<stream>/date=YYYY-MM-DD/part-NNNN.parquet``. The first seal of a day writes
``part-0000``; events arriving later for that day go into the next part — a sealed file is
never rewritten. Every part gets a line in ``<lake>/<stream>/_chain.jsonl`` with its SM3
digest and a link digest over the previous line, so changing, removing or reordering any
sealed file (or the chain) is detected by ``verify``.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
from loguru import logger

from console.core.clock import local_day, utcnow
from console.core.crypto import sm3_hex
from console.logs import pending
from console.logs.case_index import INDEXED_STREAMS, add_day
from console.logs.contract import FIELDS, STREAMS
from console.logs.rollup import build_day

GENESIS = "0" * 64
PURGE_PREFIX = "purge:"  # chain lines recording that a whole day was deleted after retention
_POLARS_TYPES = {"字符串": pl.String, "整数": pl.Int64, "布尔值（true/false）": pl.Boolean}


def schema(stream: str) -> pl.Struct:
    """The typed columns of a stream's sealed files besides identity, time, tenant and raw."""
    return pl.Struct({name: _POLARS_TYPES[kind] for name, kind, _ in FIELDS[stream]})


@dataclass(frozen=True)
class ChainEntry:
    """One sealed part: where, how many rows, its digest and the chain link."""

    day: str
    file: str  # relative to the stream folder
    rows: int
    file_sm3: str
    prev: str
    link: str
    sealed_at: str

    @staticmethod
    def link_of(prev: str, day: str, file: str, rows: int, file_sm3: str) -> str:
        """The chain digest of a part: SM3 over the previous link and this part's facts."""
        return sm3_hex(f"{prev}|{day}|{file}|{rows}|{file_sm3}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def chain_path(lake: Path, stream: str) -> Path:
    """The stream's chain file."""
    return lake / stream / "_chain.jsonl"


def read_chain(lake: Path, stream: str) -> list[ChainEntry]:
    """Every sealed part of a stream, in sealing order."""
    path = chain_path(lake, stream)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [ChainEntry(**json.loads(line)) for line in handle if line.strip()]


def chain_days(lake: Path, stream: str) -> frozenset[str]:
    """Days the chain records for a stream; re-read only when the chain file changed.

    Ingestion asks on every batch, so the file is not parsed again each time.
    """
    path = chain_path(lake, stream)
    try:
        status = path.stat()
    except FileNotFoundError:
        return frozenset()
    return _chain_days(lake, stream, status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=32)
def _chain_days(lake: Path, stream: str, _mtime_ns: int, _size: int) -> frozenset[str]:
    return frozenset(entry.day for entry in read_chain(lake, stream))


def frame_of(stream: str, rows: list[pending.PendingRow]) -> pl.DataFrame:
    """Typed columns from the stored lines (unknown fields stay in ``raw``)."""
    frame = pl.DataFrame(
        rows,
        schema={
            "event_id": pl.String,
            "sender": pl.String,
            "ts_us": pl.Int64,
            "tenant": pl.String,
            "raw": pl.String,
        },
        orient="row",
    )
    fields = frame.get_column("raw").str.json_decode(schema(stream)).struct.unnest()
    frame = pl.concat([frame, fields], how="horizontal")
    order = ["tenant", "case_no", "ts"] if "case_no" in frame.columns else ["tenant", "ts"]
    return (
        frame.with_columns(pl.col("ts_us").cast(pl.Datetime("us", "UTC")).alias("ts"))
        .drop("ts_us")
        .sort(order)
    )


def _write_part(folder: Path, frame: pl.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("part-*.parquet"))
    path = folder / f"part-{len(existing):04d}.parquet"
    temporary = path.with_suffix(".tmp")
    # Row groups of 64k rows keep min/max statistics tight for case-number and tenant lookups.
    frame.write_parquet(temporary, compression="zstd", statistics=True, row_group_size=65_536)
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    temporary.rename(path)
    _fsync_dir(folder)
    return path


def _append_chain(lake: Path, stream: str, entry: ChainEntry) -> None:
    path = chain_path(lake, stream)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry.__dict__, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _set_aside_unfinished(lake: Path, db: sqlite3.Connection, stream: str, chain: list) -> None:
    """Set aside (rename ``.unsealed``) parts of a seal that crashed before its chain line.

    Their events are still pending and are sealed again. Any other file missing from the
    chain is left where it is, for ``verify`` to report.
    """
    recorded = {entry.file for entry in chain}
    for path in (lake / stream).glob("date=*/part-*"):
        relative = str(path.relative_to(lake / stream))
        if relative in recorded or path.suffix == ".unsealed":
            continue
        day = path.parent.name.removeprefix("date=")
        if pending.has_day(db, stream, day) or path.suffix == ".tmp":
            path.rename(path.with_name(path.name + ".unsealed"))


def seal_closed_days(
    *, lake: Path, db: sqlite3.Connection, now: datetime | None = None
) -> list[ChainEntry]:
    """Seal every pending event of days before today (Asia/Shanghai); returns the new parts."""
    today = local_day(now).isoformat()
    sealed: list[ChainEntry] = []
    for stream in STREAMS:
        chain = read_chain(lake, stream)
        _set_aside_unfinished(lake, db, stream, chain)
        for day in pending.days_before(db, stream, today):
            entry = _seal_day(lake, db, stream, day, chain[-1].link if chain else GENESIS)
            if entry is not None:
                chain.append(entry)
                sealed.append(entry)
                _roll_up(lake, stream, day)
    return sealed


def _roll_up(lake: Path, stream: str, day: str) -> None:
    """Refresh the day's rollups; a failure here leaves the sealed part intact and is logged."""
    try:
        build_day(lake, stream, day)
    except Exception:  # derived data: `rebuild-rollups` recreates it from the sealed files
        logger.exception(f"日志汇总失败：{stream} {day}（可运行 rebuild-rollups 重建）")


@contextmanager
def lake_lock(lake: Path) -> Iterator[None]:
    """One sealing or purging process at a time per lake (the scheduler and the CLI alike)."""
    lake.mkdir(parents=True, exist_ok=True)
    with (lake / ".seal.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def record_purge(lake: Path, stream: str, day: str, rows: int) -> ChainEntry:
    """Chain the deletion of a whole day (after retention) so verify expects its files gone."""
    chain = read_chain(lake, stream)
    prev = chain[-1].link if chain else GENESIS
    file = f"{PURGE_PREFIX}date={day}"
    entry = ChainEntry(
        day=day,
        file=file,
        rows=rows,
        file_sm3="",
        prev=prev,
        link=ChainEntry.link_of(prev, day, file, rows, ""),
        sealed_at=utcnow().isoformat(),
    )
    _append_chain(lake, stream, entry)
    return entry


def _drop_already_sealed(lake: Path, db: sqlite3.Connection, stream: str, day: str) -> None:
    """Drop pending rows that a sealed part of the day already holds.

    That happens after a seal crashed between its chain line and its delete; without this the
    next seal would store those events a second time.
    """
    parts = sorted((lake / stream / f"date={day}").glob("part-*.parquet"))
    if not parts:
        return
    held = pl.scan_parquet(parts).select("sender", "event_id").collect().rows()
    pending.delete_events(db, stream, held)


def _seal_day(
    lake: Path, db: sqlite3.Connection, stream: str, day: str, prev: str
) -> ChainEntry | None:
    _drop_already_sealed(lake, db, stream, day)
    last_rowid, rows = pending.day_rows(db, stream, day)
    if not rows:
        return None
    frame = frame_of(stream, rows)
    if stream in INDEXED_STREAMS:
        add_day(lake, day, frame.get_column("case_no"))  # before the part: never a day missing
    path = _write_part(lake / stream / f"date={day}", frame)
    relative = str(path.relative_to(lake / stream))
    digest = sm3_hex(path.read_bytes())
    entry = ChainEntry(
        day=day,
        file=relative,
        rows=len(rows),
        file_sm3=digest,
        prev=prev,
        link=ChainEntry.link_of(prev, day, relative, len(rows), digest),
        sealed_at=utcnow().isoformat(),
    )
    _append_chain(lake, stream, entry)
    # Only now, with the file and its chain line on disk, may the pending copies go — and only
    # the rows read above: a late event stored meanwhile waits for the next seal.
    pending.delete_day_through(db, stream, day, last_rowid)
    return entry


@dataclass(frozen=True)
class Break:
    """A place where the sealed logs no longer match their chain."""

    stream: str
    day: str
    file: str
    reason: str


def verify(lake: Path) -> list[Break]:
    """Recompute every part's digest and the chain; report each break with its day and file."""
    breaks: list[Break] = []
    for stream in STREAMS:
        prev = GENESIS
        recorded: set[str] = set()
        chain = read_chain(lake, stream)
        purged = {e.day for e in chain if e.file.startswith(PURGE_PREFIX)}
        for entry in chain:
            recorded.add(entry.file)
            path = lake / stream / entry.file
            if entry.prev != prev or entry.link != ChainEntry.link_of(
                entry.prev, entry.day, entry.file, entry.rows, entry.file_sm3
            ):
                breaks.append(
                    Break(stream, entry.day, entry.file, "校验链断开（记录被改动、删除或重排）")
                )
            if entry.day in purged:
                pass  # deleted after retention, as the chain itself records
            elif not path.exists():
                breaks.append(Break(stream, entry.day, entry.file, "文件缺失"))
            elif sm3_hex(path.read_bytes()) != entry.file_sm3:
                breaks.append(
                    Break(stream, entry.day, entry.file, "文件内容与封存时的 SM3 摘要不一致")
                )
            prev = entry.link
        for path in sorted((lake / stream).glob("date=*/part-*.parquet")):
            relative = str(path.relative_to(lake / stream))
            if relative not in recorded:
                day = path.parent.name.removeprefix("date=")
                breaks.append(Break(stream, day, relative, "文件不在校验链中"))
    return breaks
