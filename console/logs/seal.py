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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl
from loguru import logger

from console.core.clock import local_day, utcnow
from console.core.crypto import sm3_hex
from console.core.memory import release_memory
from console.core.settings import get_settings
from console.logs import catalogue, lake_table, pending
from console.logs.at_rest import at_rest, lines_file, sealed_lines
from console.logs.case_index import INDEXED_STREAMS, add_day
from console.logs.chain import ChainEntry, append, chain_names, held_parts, read_chain
from console.logs.contract import FIELDS, STREAMS
from console.logs.parts import POLARS_TYPES, scan_parts
from console.logs.rollup import build_day, make_current


@dataclass
class Pieces:
    """What a seal held in memory at once: rows read from the pending store, or merged.

    A day with more pending events than ``limit`` is sealed as several parts, and a merge
    never makes a part larger than ``limit`` (``compaction.py``): memory stays bounded
    however a backlog arrives. ``largest`` and ``count`` are the run's own accounting.
    """

    limit: int
    largest: int = 0
    count: int = 0

    @classmethod
    def configured(cls) -> Pieces:
        """The limit of ``BDC_SEAL_PIECE_ROWS``."""
        return cls(get_settings().seal_piece_rows)

    def held(self, rows: int) -> None:
        """Account for one piece of ``rows`` rows."""
        self.count += 1
        self.largest = max(self.largest, rows)

    def summary(self) -> str:
        """The accounting in a job's words."""
        return f"分 {self.count} 批处理，每批最多 {self.largest} 条（上限 {self.limit}）"


def schema(stream: str) -> pl.Struct:
    """The typed columns of a stream's sealed files besides identity, time, tenant and raw."""
    return pl.Struct({name: POLARS_TYPES[kind] for name, kind, _ in FIELDS[stream]})


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def decode_chunks(
    stream: str,
    chunks: Iterable[list[tuple[int, str, str, int, str, str]]],
    columns: Sequence[pl.Expr] | None = None,
) -> pl.DataFrame | None:
    """Pending rows (rowid first) decoded chunk by chunk, with ``_rowid``; None when none.

    Only one chunk is ever held as Python objects; the frame is not sorted. ``columns``: keep
    only these (and ``_rowid``) of each chunk, so the lines' text is never kept whole.
    """
    frames = []
    for rows in chunks:
        frame = _typed(stream, [row[1:] for row in rows], [row[0] for row in rows])
        frames.append(frame if columns is None else frame.select(*columns, "_rowid"))
    if not frames:
        return None
    if len(frames) > 1:
        release_memory()  # what the chunks' Python objects took goes back to the system
    return pl.concat(frames, how="vertical_relaxed")


def sorted_as_sealed(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in the order a sealed part holds them (tenant, case, time)."""
    order = ["tenant", "case_no", "ts"] if "case_no" in frame.columns else ["tenant", "ts"]
    return frame.sort(order)


def _typed(stream: str, rows: list[pending.PendingRow], rowids: list[int]) -> pl.DataFrame:
    """Typed columns from the stored lines (unknown fields stay in ``raw``), with ``_rowid``."""
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
    frame = pl.concat([frame, fields], how="horizontal").with_columns(
        pl.Series("_rowid", rowids, dtype=pl.Int64)
    )
    return frame.with_columns(pl.col("ts_us").cast(pl.Datetime("us", "UTC")).alias("ts")).drop(
        "ts_us"
    )


def with_day(frame: pl.DataFrame, day: str) -> pl.DataFrame:
    """The frame with the local calendar day it is sealed under (the table's partition)."""
    return frame.with_columns(pl.lit(date.fromisoformat(day), dtype=pl.Date).alias("day"))


def write_durably(path: Path, content: bytes) -> None:
    """Write a file whole and fsynced under its name (a crash leaves only a ``.tmp``)."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.rename(path)


def free_part_path(folder: Path, chained: set[str]) -> Path:
    """The next part name never used on disk nor on the chain.

    (A purged day's late part is a new name, so a crashed seal's leftovers are always told
    apart.)
    """
    number = len(list(folder.glob("part-*.parquet")))
    while (folder / f"part-{number:04d}.parquet").exists() or (
        f"{folder.name}/part-{number:04d}.parquet" in chained
    ):
        number += 1
    return folder / f"part-{number:04d}.parquet"


def write_part_file(path: Path, frame: pl.DataFrame) -> None:
    """Write a sealed part durably (the frame as it is stored)."""
    temporary = path.with_suffix(".tmp")
    # Row groups of 64k rows keep min/max statistics tight for case-number and tenant lookups.
    frame.write_parquet(temporary, compression="zstd", statistics=True, row_group_size=65_536)
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    temporary.rename(path)
    _fsync_dir(path.parent)


def _write_part(folder: Path, frame: pl.DataFrame, chained: set[str]) -> Path:
    """The part's encrypted lines as sent first, then the part itself (masked, typed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = free_part_path(folder, chained)
    write_durably(lines_file(path), sealed_lines(frame.get_column("raw").to_list()))
    write_part_file(path, at_rest(frame))
    return path


def _set_aside_unfinished(lake: Path, db: sqlite3.Connection, stream: str, chain: list) -> None:
    """Set aside (rename ``.unsealed``) parts of a seal that crashed before its chain line.

    Their events are still pending and are sealed again. Any other file missing from the
    chain is left where it is, for ``verify`` to report.
    """
    recorded = chain_names(chain)  # a rewrite's or compaction's new file included
    recorded |= {str(Path(name).with_suffix(".lines")) for name in recorded}
    for path in (lake / stream).glob("date=*/part-*"):
        relative = str(path.relative_to(lake / stream))
        if relative in recorded or path.suffix == ".unsealed":
            continue
        day = path.parent.name.removeprefix("date=")
        if pending.has_day(db, stream, day) or path.suffix == ".tmp":
            path.rename(path.with_name(path.name + ".unsealed"))


def seal_closed_days(
    *, lake: Path, db: sqlite3.Connection, now: datetime | None = None, pieces: Pieces | None = None
) -> list[ChainEntry]:
    """Seal every pending event of days before today (Asia/Shanghai); returns the new parts.

    ``pieces``: the limit of rows held at once and the run's accounting (default: configured).
    """
    from console.logs import compaction  # builds on sealing
    from console.logs.table_migration import publish_stream  # builds on sealing

    clock = now or utcnow()
    pieces = pieces or Pieces.configured()
    today = local_day(clock).isoformat()
    sealed: list[ChainEntry] = []
    catalogue.ensure(db, lake)
    tables = lake_table.configured()
    for stream in STREAMS:
        chain = read_chain(lake, stream)
        _set_aside_unfinished(lake, db, stream, chain)
        compaction.reconcile(lake, db, stream, chain, tables)  # before any chained part is listed
        _catalogue_chained(lake, db, stream, chain, tables)
        if tables is not None and lake_table.head(db, stream) is None:
            publish_stream(lake, db, tables, stream)  # the lake sealed before the tables
            chain = read_chain(lake, stream)
        for day in pending.days_before(db, stream, today):
            sealed += _seal_day(lake, db, stream, day, chain, tables, pieces)
        compaction.compact_quiet_days(lake, db, stream, chain, tables, clock, pieces)
        compaction.evict_published(lake, stream, chain, tables, clock)
    catalogue.sweep(db, lake)
    return sealed


def _rolled_up(
    lake: Path,
    db: sqlite3.Connection,
    stream: str,
    day: str,
    added: list[Path],
    source: pl.LazyFrame | None = None,
) -> dict[str, str]:
    """New rollup files for the day; a failure keeps the old ones (and the seal) and is logged."""
    try:
        return build_day(lake, db, stream, day, added=added, source=source)
    except Exception:  # derived data: `rebuild-rollups` recreates it from the sealed files
        logger.exception(f"日志汇总失败：{stream} {day}（可运行 rebuild-rollups 重建）")
        return {}


def _published(
    lake: Path, stream: str, day: str, relatives: list[str], tables: lake_table.TableLake | None
) -> tuple[int | None, pl.LazyFrame | None]:
    """Put new parts in the stream's table: the snapshot and the day read back from it."""
    if tables is None:
        return None, None
    snapshot_id = lake_table.publish(tables, stream, lake / stream, relatives)
    return snapshot_id, lake_table.scan(tables, stream, snapshot_id, days=[day])


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
    lake: Path,
    db: sqlite3.Connection,
    stream: str,
    chain: list[ChainEntry],
    tables: lake_table.TableLake | None,
) -> None:
    """Finish a seal that crashed between its chain line and its transaction.

    The part is on disk and chained but not current, and its events are still pending:
    make it current (publishing it first, in table mode) and drop exactly those pending
    copies together (the next seal would otherwise store them a second time), with the
    day's rollups rebuilt.
    """
    listed = {file for _, file in catalogue.current(db, catalogue.PART, stream)}
    for entry in held_parts(chain):
        relative = f"{stream}/{entry.file}"
        path = lake / relative
        if relative in listed:
            continue
        on_store = tables is not None and not path.exists()  # e.g. a restore of an evicted lake
        if on_store and lake_table.object_exists(tables, stream, entry.file):
            lake_table.fetch(tables, stream, lake / stream, entry.file)
        if not path.exists():
            continue
        held = scan_parts(stream, [path]).select("sender", "event_id").collect().rows()
        snapshot_id, source = _published(lake, stream, entry.day, [entry.file], tables)
        rollups = _rolled_up(lake, db, stream, entry.day, [path], source)
        with pending.write(db):
            catalogue.add(db, catalogue.PART, stream, entry.day, relative)
            make_current(db, entry.day, rollups)
            pending.delete_events(db, stream, held)
            if snapshot_id is not None:
                lake_table.set_head(db, stream, snapshot_id)


def _seal_day(
    lake: Path,
    db: sqlite3.Connection,
    stream: str,
    day: str,
    chain: list[ChainEntry],
    tables: lake_table.TableLake | None,
    pieces: Pieces,
) -> list[ChainEntry]:
    """Seal the day's pending events as one part per piece of at most ``pieces.limit`` rows.

    Only the events stored when the seal began: a late event stored meanwhile waits for the
    next seal. Each piece is written and chained in turn; then one transaction makes the
    day's new parts current and drops their pending copies.
    """
    through = pending.last_rowid(db, stream, day)
    after, entries = 0, []
    while True:
        chunks = pending.day_chunks(
            db, stream, day, after=after, through=through, limit=pieces.limit
        )
        decoded = decode_chunks(stream, chunks)
        if decoded is None:
            break
        pieces.held(decoded.height)
        after = int(decoded.get_column("_rowid").max())  # type: ignore[arg-type]
        frame = with_day(sorted_as_sealed(decoded.drop("_rowid")), day)
        del decoded  # one piece in memory at a time
        entries.append(_chained_part(lake, stream, day, chain, frame))
        del frame
    if entries:
        _make_current(lake, db, stream, day, [entry.file for entry in entries], after, tables)
    return entries


def _chained_part(
    lake: Path, stream: str, day: str, chain: list[ChainEntry], frame: pl.DataFrame
) -> ChainEntry:
    """Write one piece of a day as a part, indexed and on the chain (not yet current)."""
    if stream in INDEXED_STREAMS:
        add_day(lake, day, frame.get_column("case_no"))  # before the part: never a day missing
    path = _write_part(lake / stream / f"date={day}", frame, chain_names(chain))
    relative = str(path.relative_to(lake / stream))
    return append(lake, stream, chain, day=day, file=relative, rows=frame.height,
                  file_sm3=sm3_hex(path.read_bytes()),
                  lines_sm3=sm3_hex(lines_file(path).read_bytes()))  # fmt: skip


def _make_current(
    lake: Path,
    db: sqlite3.Connection,
    stream: str,
    day: str,
    relatives: list[str],
    last_rowid: int,
    tables: lake_table.TableLake | None,
) -> None:
    """The day's new parts current, its rollups rebuilt, its sealed pending rows dropped.

    In table mode the parts are on the object store and in the table before readers are
    switched to them, and the day's rollups are built from what the table now holds. Only
    now, with the files and their chain lines on disk, may the pending copies go — and only
    the rows read (up to ``last_rowid``). One transaction: a reader sees the day's events
    pending, or sealed and rolled up, never both. (A crash before it is finished part by
    part by the next seal: ``_catalogue_chained``.)
    """
    snapshot_id, source = _published(lake, stream, day, relatives, tables)
    added = [lake / stream / relative for relative in relatives]
    rollups = _rolled_up(lake, db, stream, day, added, source)
    with pending.write(db):
        for relative in relatives:
            catalogue.add(db, catalogue.PART, stream, day, f"{stream}/{relative}")
        make_current(db, day, rollups)
        pending.delete_day_through(db, stream, day, last_rowid)
        if snapshot_id is not None:
            lake_table.set_head(db, stream, snapshot_id)
