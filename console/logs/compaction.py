"""A day's small sealed parts merged into fewer files once the day has gone quiet.

Late events for a sealed day are sealed into a new part on every seal (every 15 s; a sealed
file is never rewritten), so a backlog pushed into past days leaves dozens of small parts per
day, each one more file for every read to open. Once a day's newest part is ``QUIET`` old, or
the day has ``MAX_PARTS`` parts, its parts are merged in groups of at most the seal's piece
limit of rows (``BDC_SEAL_PIECE_ROWS``: a merge holds its rows and their lines in memory),
smallest parts first — usually the whole day into one file:

1. the rows of every part of a group, each with its line as sent, sorted as a seal sorts
   them, become one new part (its encrypted lines first, then the part, both fsynced);
2. one keyed ``compact:<old>,<old>…><new>`` chain line carries the new file's digests and the
   row count, which must equal the old parts' sum — verify then expects the new file and no
   longer the old ones, whose own lines and digests stay on the chain as they were — and one
   entry in the operation log says what was merged;
3. in table mode one Iceberg snapshot swaps the old files for the new one;
4. one transaction makes the new part current and retires the old ones (with the table's new
   snapshot as the readers' head): a reader sees the old parts or the new one, never both or
   neither; the sweep deletes the old files after the grace period.

A crash between two steps is finished by the next seal (``reconcile``). Rollups and the case
index stay as they are: the day holds the same rows.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from loguru import logger

from console.audit.service import record
from console.core.clock import local_day
from console.core.crypto import sm3_hex
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import catalogue, lake_table, pending
from console.logs.at_rest import lines_as_sent, lines_file, sealed_lines
from console.logs.chain import (
    COMPACT_PREFIX,
    OBJ,
    SYSTEM,
    ChainEntry,
    append,
    chain_names,
    held_parts,
    replaced_by,
)
from console.logs.parts import scan_parts
from console.logs.seal import (
    Pieces,
    free_part_path,
    with_day,
    write_durably,
    write_part_file,
)

QUIET = timedelta(minutes=10)  # no part sealed for the day this long: its backlog has passed
MAX_PARTS = 24  # merged even while late events keep coming: a read opens at most this many


def merge_groups(entries: list[ChainEntry], limit: int) -> list[list[str]]:
    """The parts to merge, in groups of at least two and at most ``limit`` rows together.

    Smallest first: after the merge no two of the day's parts fit together under the limit,
    so a merged day is never merged again.
    """
    groups: list[list[ChainEntry]] = [[]]
    for entry in sorted(entries, key=lambda e: (e.rows, e.file)):
        if groups[-1] and sum(e.rows for e in groups[-1]) + entry.rows > limit:
            groups.append([])
        groups[-1].append(entry)
    return [sorted(e.file for e in group) for group in groups if len(group) >= 2]


def due_days(
    chain: list[ChainEntry], listed: set[str], now: datetime, limit: int
) -> dict[str, list[list[str]]]:
    """Day → the groups of current parts to merge, for the days due."""
    by_day: dict[str, list[ChainEntry]] = defaultdict(list)
    for entry in held_parts(chain):
        if entry.file in listed:
            by_day[entry.day].append(entry)
    due = {}
    for day, entries in by_day.items():
        newest = max(datetime.fromisoformat(entry.sealed_at) for entry in entries)
        if now - newest >= QUIET or len(entries) >= MAX_PARTS:
            groups = merge_groups(entries, limit)
            if groups:
                due[day] = groups
    return due


def compact_quiet_days(
    lake: Path,
    db: sqlite3.Connection,
    stream: str,
    chain: list[ChainEntry],
    tables: lake_table.TableLake | None,
    now: datetime,
    pieces: Pieces,
) -> list[ChainEntry]:
    """Merge the parts of every day that is due (the caller holds the lake lock)."""
    listed = {
        file.removeprefix(f"{stream}/") for _, file in catalogue.current(db, catalogue.PART, stream)
    }
    merged = []
    for day, groups in sorted(due_days(chain, listed, now, pieces.limit).items()):
        for files in groups:
            if tables is not None:  # parts of older days may be on the object store only
                for file in files:
                    lake_table.fetch(tables, stream, lake / stream, file)
            if all(lines_file(lake / stream / file).exists() for file in files):
                merged.append(_compact_day(lake, db, stream, day, files, chain, tables, pieces))
    return merged


def evict_published(
    lake: Path,
    stream: str,
    chain: list[ChainEntry],
    tables: lake_table.TableLake | None,
    now: datetime,
) -> list[str]:
    """Delete local copies of parts older than ``lake_local_days`` that the store holds.

    Only in table mode, only parts the stream's table lists, and only once the object and its
    lines on the store hash to the digests on the chain: the local copy is never the last one.
    Returns the evicted parts.
    """
    if tables is None:
        return []
    oldest_kept = (local_day(now) - timedelta(days=get_settings().lake_local_days)).isoformat()
    root = lake / stream
    local = [e for e in held_parts(chain) if e.day < oldest_kept and (root / e.file).exists()]
    if not local:
        return []
    listed = lake_table.table_files(lake_table.table(tables, stream))
    evicted = []
    for entry in local:
        if tables.uri(stream, entry.file) not in listed or not _stored_whole(tables, stream, entry):
            continue
        (root / entry.file).unlink()
        lines_file(root / entry.file).unlink(missing_ok=True)
        evicted.append(entry.file)
    if evicted:
        logger.info(f"日志表：{stream} {len(evicted)} 个封存文件已只在对象存储上（本机副本删除）")
    return evicted


def _stored_whole(tables: lake_table.TableLake, stream: str, entry: ChainEntry) -> bool:
    """Whether the store holds the part and its lines exactly as sealed."""
    if lake_table.object_sm3(tables, stream, entry.file) != entry.file_sm3:
        logger.warning(f"日志表：{stream}/{entry.file} 在对象存储上与封存摘要不一致，保留本机副本")
        return False
    if not entry.lines_sm3:
        return True
    lines = str(lines_file(Path(entry.file)))
    return lake_table.object_sm3(tables, stream, lines) == entry.lines_sm3


def _merged_frame(stream: str, day: str, parts: list[Path]) -> pl.DataFrame:
    """Every row of the parts with its line as sent (``_line``), in the order a seal writes."""
    frames = []
    for part in parts:
        frame = scan_parts(stream, [part]).collect()
        sent = lines_as_sent(part)
        if len(sent) != frame.height:
            raise ValueError(f"{part.name}：原始记录 {len(sent)} 行与文件 {frame.height} 行不符")
        frames.append(frame.with_columns(pl.Series("_line", sent, dtype=pl.String)))
    merged = with_day(pl.concat(frames), day)
    order = ["tenant", "case_no", "ts"] if "case_no" in merged.columns else ["tenant", "ts"]
    return merged.sort(order, maintain_order=True)


def _compact_day(
    lake: Path,
    db: sqlite3.Connection,
    stream: str,
    day: str,
    files: list[str],
    chain: list[ChainEntry],
    tables: lake_table.TableLake | None,
    pieces: Pieces,
) -> ChainEntry:
    folder = lake / stream / f"date={day}"
    held = {entry.file: entry for entry in held_parts(chain)}
    rows = sum(held[file].rows for file in files)
    pieces.held(rows)
    frame = _merged_frame(stream, day, [lake / stream / file for file in files])
    if frame.height != rows:
        raise ValueError(f"{stream} {day}：合并后 {frame.height} 行，校验链记录 {rows} 行")
    path = free_part_path(folder, chain_names(chain))
    write_durably(lines_file(path), sealed_lines(frame.get_column("_line").to_list()))
    write_part_file(path, frame.drop("_line"))
    new = str(path.relative_to(lake / stream))
    entry = append(lake, stream, chain, day=day, file=f"{COMPACT_PREFIX}{','.join(files)}>{new}",
                   rows=rows, file_sm3=sm3_hex(path.read_bytes()),
                   lines_sm3=sm3_hex(lines_file(path).read_bytes()))  # fmt: skip
    _record(stream, day, files, new, entry)
    reconcile(lake, db, stream, chain, tables)
    logger.info(f"日志合并：{stream} {day} {len(files)} 个文件合并为 {new}（{rows} 条）")
    return entry


def _record(stream: str, day: str, files: list[str], new: str, entry: ChainEntry) -> None:
    with session_scope() as session:
        record(session, actor=SYSTEM, obj=OBJ, action="compact", target=f"{stream}/{new}",
               tenant=get_settings().province_code,
               detail={"day": day, "rows": entry.rows, "parts": files,
                       "new_sm3": entry.file_sm3,
                       "reason": "同一日期的多个封存文件合并"})  # fmt: skip


def reconcile(
    lake: Path,
    db: sqlite3.Connection,
    stream: str,
    chain: list[ChainEntry],
    tables: lake_table.TableLake | None,
) -> None:
    """Readers see each rewritten or compacted file, not the ones it replaced.

    Also after a crash between the chain line and the transaction: in table mode the table
    swap is repeated (it does nothing if it was done) and its snapshot becomes the head.
    """
    held = {entry.file: entry.day for entry in held_parts(chain)}
    current = {file for _, file in catalogue.current(db, catalogue.PART, stream)}
    stale = [
        (olds, new)
        for entry in chain
        if (replacement := replaced_by(entry)) is not None
        for olds, new in [replacement]
        if new in held
        and (f"{stream}/{new}" not in current or any(f"{stream}/{o}" in current for o in olds))
    ]
    if not stale:
        return
    snapshot_id = None
    if tables is not None and lake_table.head(db, stream) is not None:
        for olds, new in stale:
            snapshot_id = lake_table.replace_files(tables, stream, lake / stream, olds, new)
    with pending.write(db):
        for olds, new in stale:
            for old in olds:
                catalogue.retire_file(db, catalogue.PART, stream, f"{stream}/{old}")
            catalogue.add(db, catalogue.PART, stream, held[new], f"{stream}/{new}")
        if snapshot_id is not None:
            lake_table.set_head(db, stream, snapshot_id)
