"""Seal closed days from the write-ahead store into Parquet, each file on the keyed chain.

Layout: ``<lake>/<stream>/date=YYYY-MM-DD/part-NNNN.parquet``. The first seal of a day writes
``part-0000``; events arriving later for that day go into the next part — a sealed file is
never rewritten. Every part gets a line on the stream's chain (``chain.py``), so changing,
removing or reordering any sealed file (or the chain) is detected by ``chain.verify``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import polars as pl
from loguru import logger

from console.core.clock import local_day
from console.core.crypto import sm3_hex
from console.logs import catalogue, pending
from console.logs.at_rest import at_rest, lines_file, sealed_lines
from console.logs.case_index import INDEXED_STREAMS, add_day
from console.logs.chain import ChainEntry, append, held_parts, read_chain
from console.logs.contract import FIELDS, STREAMS
from console.logs.parts import POLARS_TYPES, scan_parts
from console.logs.rollup import build_day, make_current


def schema(stream: str) -> pl.Struct:
    """The typed columns of a stream's sealed files besides identity, time, tenant and raw."""
    return pl.Struct({name: POLARS_TYPES[kind] for name, kind, _ in FIELDS[stream]})


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def _write_durably(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.rename(path)


def _write_part(folder: Path, frame: pl.DataFrame, chained: set[str]) -> Path:
    """The part's encrypted lines as sent first, then the part itself (masked, typed).

    Its name was never used on disk nor on the chain (a purged day's late part is a new name),
    so a crashed seal's leftovers are always told apart.
    """
    folder.mkdir(parents=True, exist_ok=True)
    number = len(list(folder.glob("part-*.parquet")))
    while (folder / f"part-{number:04d}.parquet").exists() or (
        f"{folder.name}/part-{number:04d}.parquet" in chained
    ):
        number += 1
    path = folder / f"part-{number:04d}.parquet"
    _write_durably(lines_file(path), sealed_lines(frame.get_column("raw").to_list()))
    frame = at_rest(frame)
    temporary = path.with_suffix(".tmp")
    # Row groups of 64k rows keep min/max statistics tight for case-number and tenant lookups.
    frame.write_parquet(temporary, compression="zstd", statistics=True, row_group_size=65_536)
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    temporary.rename(path)
    _fsync_dir(folder)
    return path


def _set_aside_unfinished(lake: Path, db: sqlite3.Connection, stream: str, chain: list) -> None:
    """Set aside (rename ``.unsealed``) parts of a seal that crashed before its chain line.

    Their events are still pending and are sealed again. Any other file missing from the
    chain is left where it is, for ``verify`` to report.
    """
    recorded = {entry.file for entry in chain}
    recorded |= {str(Path(entry.file).with_suffix(".lines")) for entry in chain}
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
    catalogue.ensure(db, lake)
    for stream in STREAMS:
        chain = read_chain(lake, stream)
        _set_aside_unfinished(lake, db, stream, chain)
        _catalogue_chained(lake, db, stream, chain)
        for day in pending.days_before(db, stream, today):
            entry = _seal_day(lake, db, stream, day, chain)
            if entry is not None:
                sealed.append(entry)
    catalogue.sweep(db, lake)
    return sealed


def _rolled_up(
    lake: Path, db: sqlite3.Connection, stream: str, day: str, added: Path | None = None
) -> dict[str, str]:
    """New rollup files for the day; a failure keeps the old ones (and the seal) and is logged."""
    try:
        return build_day(lake, db, stream, day, added=added)
    except Exception:  # derived data: `rebuild-rollups` recreates it from the sealed files
        logger.exception(f"日志汇总失败：{stream} {day}（可运行 rebuild-rollups 重建）")
        return {}


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


def _catalogue_chained(
    lake: Path, db: sqlite3.Connection, stream: str, chain: list[ChainEntry]
) -> None:
    """Finish a seal that crashed between its chain line and its transaction.

    The part is on disk and chained but not current, and its events are still pending:
    make it current and drop exactly those pending copies together (the next seal would
    otherwise store them a second time), with the day's rollups rebuilt.
    """
    listed = {file for _, file in catalogue.current(db, catalogue.PART, stream)}
    for entry in held_parts(chain):
        relative = f"{stream}/{entry.file}"
        path = lake / relative
        if relative in listed or not path.exists():
            continue
        held = scan_parts(stream, [path]).select("sender", "event_id").collect().rows()
        rollups = _rolled_up(lake, db, stream, entry.day, added=path)
        with pending.write(db):
            catalogue.add(db, catalogue.PART, stream, entry.day, relative)
            make_current(db, entry.day, rollups)
            pending.delete_events(db, stream, held)


def _seal_day(
    lake: Path, db: sqlite3.Connection, stream: str, day: str, chain: list[ChainEntry]
) -> ChainEntry | None:
    last_rowid, rows = pending.day_rows(db, stream, day)
    if not rows:
        return None
    frame = frame_of(stream, rows)
    if stream in INDEXED_STREAMS:
        add_day(lake, day, frame.get_column("case_no"))  # before the part: never a day missing
    chained = {entry.file for entry in chain}
    path = _write_part(lake / stream / f"date={day}", frame, chained)
    relative = str(path.relative_to(lake / stream))
    digest = sm3_hex(path.read_bytes())
    entry = append(lake, stream, chain, day=day, file=relative, rows=len(rows), file_sm3=digest,
                   lines_sm3=sm3_hex(lines_file(path).read_bytes()))  # fmt: skip
    rollups = _rolled_up(lake, db, stream, day, added=path)
    # Only now, with the file and its chain line on disk, may the pending copies go — and only
    # the rows read above (a late event stored meanwhile waits for the next seal). One
    # transaction: a reader sees the day's events pending, or sealed and rolled up, never both.
    with pending.write(db):
        catalogue.add(db, catalogue.PART, stream, day, f"{stream}/{relative}")
        make_current(db, day, rollups)
        pending.delete_day_through(db, stream, day, last_rowid)
    return entry
