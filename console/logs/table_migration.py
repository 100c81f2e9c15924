"""Bring a lake sealed before the tables into them, once; and keep the tables' head current.

A part sealed before sealed files carried the local-date ``day`` column cannot be registered
in a table partitioned by it, so it is rewritten: the same rows plus the column under a new
file name, its encrypted lines as sent copied byte for byte. The rewrite is one keyed chain
line (``rewrite:<old>><new>`` carrying the new file's digest; the old part's line and digests
stay on the chain as they were) and one entry in the operation log. Then every held part is
published into its stream's table and the snapshot recorded for readers.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from loguru import logger

from console.audit.service import record
from console.core.crypto import sm3_hex
from console.core.db import session_scope
from console.core.errors import UserError
from console.core.settings import get_settings
from console.logs import catalogue, lake_table, pending
from console.logs.at_rest import lines_file
from console.logs.chain import (
    OBJ,
    REWRITE_PREFIX,
    SYSTEM,
    ChainEntry,
    append,
    chain_names,
    held_parts,
    read_chain,
)
from console.logs.compaction import reconcile
from console.logs.contract import STREAMS
from console.logs.seal import free_part_path, lake_lock, with_day, write_durably, write_part_file


@dataclass(frozen=True)
class Rewritten:
    """A part rewritten with the ``day`` column before it was published."""

    stream: str
    day: str
    old: str
    new: str
    rows: int


def bring_over(*, lake: Path) -> list[Rewritten]:
    """Publish the whole lake into its tables (``lake-to-tables``); returns the rewrites.

    Raises:
        UserError: no table lake is configured.
    """
    tables = lake_table.configured()
    if tables is None:
        raise UserError("未配置 BDC_LAKE_WAREHOUSE（对象存储上的日志表仓库），无需迁移")
    catalogue.prepare(lake)
    with lake_lock(lake), pending.sealing(pending.ingest_path(lake)) as db:
        rewritten: list[Rewritten] = []
        for stream in STREAMS:
            rewritten += publish_stream(lake, db, tables, stream)
        return rewritten


def publish_stream(
    lake: Path, db: sqlite3.Connection, tables: lake_table.TableLake, stream: str
) -> list[Rewritten]:
    """Rewrite the stream's parts lacking ``day``, publish every held part, record the head."""
    chain = read_chain(lake, stream)
    reconcile(lake, db, stream, chain, None)
    rewritten = []
    for entry in held_parts(chain):
        path = lake / stream / entry.file
        if path.exists() and "day" not in pl.read_parquet_schema(path):  # (evicted: published)
            rewritten.append(_rewrite(lake, db, stream, entry, chain))
    held = [entry.file for entry in held_parts(chain)]
    snapshot_id = lake_table.publish(tables, stream, lake / stream, held) if held else 0
    if snapshot_id and lake_table.head(db, stream) != snapshot_id:
        with pending.write(db):
            lake_table.set_head(db, stream, snapshot_id)
    if rewritten:
        logger.info(f"日志表迁移：{stream} 改写 {len(rewritten)} 个封存文件并登记到表")
    return rewritten


def _set_aside_leftovers(folder: Path, names: set[str]) -> None:
    """Files of a rewrite cut short before its chain line: never read, kept for inspection."""
    for path in folder.glob("part-*"):
        part = str(Path(f"{folder.name}/{path.name}").with_suffix(".parquet"))
        if path.suffix in {".parquet", ".tmp", ".lines"} and part not in names:
            path.rename(path.with_name(path.name + ".unsealed"))


def _rewrite(
    lake: Path, db: sqlite3.Connection, stream: str, entry: ChainEntry, chain: list[ChainEntry]
) -> Rewritten:
    old = lake / stream / entry.file
    _set_aside_leftovers(old.parent, chain_names(chain))
    new = free_part_path(old.parent, chain_names(chain))
    if lines_file(old).exists():
        write_durably(lines_file(new), lines_file(old).read_bytes())
    write_part_file(new, with_day(pl.read_parquet(old), entry.day))
    relative = str(new.relative_to(lake / stream))
    digest = sm3_hex(new.read_bytes())
    append(lake, stream, chain, day=entry.day, file=f"{REWRITE_PREFIX}{entry.file}>{relative}",
           rows=entry.rows, file_sm3=digest,
           lines_sm3=entry.lines_sm3)  # fmt: skip
    reconcile(lake, db, stream, chain, None)
    with session_scope() as session:
        record(session, actor=SYSTEM, obj=OBJ, action="rewrite", target=f"{stream}/{entry.file}",
               tenant=get_settings().province_code,
               detail={"day": entry.day, "rows": entry.rows, "new_file": relative,
                       "old_sm3": entry.file_sm3, "new_sm3": digest,
                       "reason": "补写本地日期 day 列以登记到日志表"})  # fmt: skip
    return Rewritten(stream, entry.day, entry.file, relative, entry.rows)
