"""After a restore from the real-time copy: the lake, its catalogue and its chains made to agree.

The copy ships the databases (Litestream), the sealed files and the chains separately, each
as soon as it can; at the moment the primary died they may stand a few seconds apart. The
restore therefore finds, per stream, and settles openly on the chain (``chain.record_restore``)
and in the operation log:

- parts the chain or the catalogue names whose file never reached the copy: **lost** — their
  catalogue rows go, a ``lost:`` line each (verify no longer expects them);
- parts the catalogue lists, present in the copy, whose chain line had not been shipped:
  **re-chained** with their SM3 as found;
- files present that neither lists: set aside as ``.unsealed`` (their events are pending or lost);
- the chain head in the configuration database: set to the chain as it now ends.

Then one seal finishes what the copy caught mid-seal (a chained part not yet catalogued: its
pending copies go) and the days whose rollups were lost are rebuilt.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from console.audit.service import record
from console.core.crypto import sm3_hex
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import catalogue, lake_table, pending
from console.logs.chain import (
    OBJ,
    SYSTEM,
    Adopted,
    held_parts,
    read_chain,
    record_restore,
    save_head,
)
from console.logs.contract import STREAMS
from console.logs.rollup import build_day, make_current
from console.logs.seal import lake_lock
from console.logs.store import store_for

# A seal writes its chain line, builds the day's rollups, then commits the catalogue: a part
# whose line reached the copy may still have been missing from the copy's listing for as long.
LOST_WINDOW = timedelta(minutes=10)


@dataclass
class Settled:
    """What the reconciliation did, per stream."""

    lost: dict[str, list[str]] = field(default_factory=dict)
    rechained: dict[str, list[str]] = field(default_factory=dict)
    set_aside: list[str] = field(default_factory=list)
    rebuilt_days: list[str] = field(default_factory=list)


def _drop_rows(db: sqlite3.Connection, files: list[str]) -> None:
    with pending.write(db):
        for file in files:
            db.execute("DELETE FROM lake_file WHERE file = ?", (file,))


def _stream(lake: Path, db: sqlite3.Connection, stream: str, point: str, settled: Settled) -> None:
    chain = read_chain(lake, stream)
    held = {f"{stream}/{entry.file}": entry for entry in held_parts(chain)}
    listed = dict(
        (file, day) for day, file in catalogue.current(db, catalogue.PART, stream)
    )  # fmt: skip
    # Only a part sealed shortly before the copy's point may be missing from it: anything
    # older was in an index already, so its absence is reported by verify, not excused here.
    recent = (datetime.fromisoformat(point) - LOST_WINDOW).isoformat() if point else ""
    tables = lake_table.configured()

    def present(file: str) -> bool:
        """Here, or (table mode) on the object store, where evicted parts live."""
        relative = file.removeprefix(f"{stream}/")
        return (lake / file).exists() or (
            tables is not None and lake_table.object_exists(tables, stream, relative)
        )

    lost = [
        entry for file, entry in held.items() if entry.sealed_at >= recent and not present(file)
    ]
    gone_rows = [file for file in listed if not present(file)]
    adopt = [
        Adopted(day, file.removeprefix(f"{stream}/"), _rows(lake / file),
                sm3_hex((lake / file).read_bytes()), _lines_sm3(lake / file))
        for file, day in sorted(listed.items())
        if file not in held and (lake / file).exists()
    ]  # fmt: skip
    _drop_rows(db, gone_rows)
    for path in sorted((lake / stream).glob("date=*/part-*.parquet")):
        relative = f"{stream}/{path.relative_to(lake / stream)}"
        if relative not in held and relative not in listed:
            for twin in (path, path.with_suffix(".lines")):
                if twin.exists():
                    twin.rename(twin.with_name(twin.name + ".unsealed"))
            settled.set_aside.append(relative)
    record_restore(lake, stream, point=point, lost=lost, adopted=adopt)
    save_head(stream, read_chain(lake, stream))
    settled.lost[stream] = [f"{stream}/{entry.file}" for entry in lost] + [
        file for file in gone_rows if file not in held
    ]
    settled.rechained[stream] = [f"{stream}/{part.file}" for part in adopt]


def _rows(path: Path) -> int:
    import polars as pl

    return int(pl.scan_parquet(path).select(pl.len()).collect().item())


def _lines_sm3(path: Path) -> str:
    lines = path.with_suffix(".lines")
    return sm3_hex(lines.read_bytes()) if lines.exists() else ""


def _rebuild_lost_rollups(lake: Path, db: sqlite3.Connection, settled: Settled) -> None:
    rows = db.execute(
        "SELECT name, day, file FROM lake_file WHERE kind = ? AND retired_us IS NULL",
        (catalogue.ROLLUP,),
    ).fetchall()
    missing = [(name, day, file) for name, day, file in rows if not (lake / file).exists()]
    _drop_rows(db, [file for _name, _day, file in missing])
    for day in sorted({day for _name, day, _file in missing}):
        for stream in STREAMS:
            built = build_day(lake, db, stream, day)
            if built:
                with pending.write(db):
                    make_current(db, day, built)
        settled.rebuilt_days.append(day)


def reconcile(point: str) -> Settled:
    """Settle the restored lake (run with the settings of the restored installation)."""
    lake = get_settings().lake_dir
    settled = Settled()
    catalogue.prepare(lake)
    with lake_lock(lake), pending.sealing(pending.ingest_path(lake)) as db:
        for stream in STREAMS:
            _stream(lake, db, stream, point, settled)
        _rebuild_lost_rollups(lake, db, settled)
    store_for(lake).seal(lake=lake)  # finishes a seal the copy caught between its steps
    detail = {"lost": settled.lost, "rechained": settled.rechained,
              "set_aside": settled.set_aside, "rebuilt_days": settled.rebuilt_days}  # fmt: skip
    with session_scope() as session:
        record(session, actor=SYSTEM, obj=OBJ, action="restore_live", target=point,
               tenant=get_settings().province_code, detail=detail)  # fmt: skip
    return settled
