"""Cases accepted and not yet ended (办结, 驳回, 撤回), over the sealed days — kept, not rescanned.

Listing the open cases past their limit needs every 受理 without an end, ever: a scan of a
year of ``case_steps``. The answer for the sealed days is kept in one small Parquet file
beside the rollups, stamped with the rollup files it covers (a rebuilt day is a new file, so
its name says what changed). When sealing adds a later day
it is brought forward from that day alone; any other change (a late part for an earlier day,
a rebuilt or purged day) recomputes it from every day — in shares of the cases (by a hash of
the case number), each holding at most about ``BDC_SEAL_PIECE_ROWS`` steps, so a year of
steps is never in memory at once. Derived data, like the rollups.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from console.logs.catalogue import ROLLUP_FOLDER, Snapshot
from console.logs.pending_frames import pending_frame
from console.logs.seal import Pieces

CACHE_NAME = "_open_cases.parquet"
_STAMP_KEY = "bdc_covers"
_ENDS = ("close", "reject", "withdraw")
_COLUMNS = ("tenant", "case_no", "business_code", "step", "ts")
_SCHEMA = {"tenant": pl.String, "case_no": pl.String, "business_code": pl.String,
           "accepted_at": pl.Datetime("us", "UTC")}  # fmt: skip


def open_from(steps: pl.LazyFrame) -> pl.LazyFrame:
    """Cases with a 受理 and no end among ``steps``: tenant, case, business, first 受理 time."""
    steps = steps.filter(pl.col("step").is_in(["accept", *_ENDS])).select(_COLUMNS)
    ended = steps.filter(pl.col("step") != "accept").select("tenant", "case_no")
    return (
        steps.filter(pl.col("step") == "accept")
        .join(ended, on=["tenant", "case_no"], how="anti")
        .group_by("tenant", "case_no")
        .agg(pl.col("business_code").first(), pl.col("ts").min().alias("accepted_at"))
    )


def _covered(cache: Path) -> dict[str, str]:
    try:
        stamp = json.loads(pl.read_parquet_metadata(cache)[_STAMP_KEY])
    except (OSError, KeyError, ValueError, pl.exceptions.ComputeError):
        return {}
    # A stamp of an older version (name → [mtime, size]) covers nothing: recompute once.
    valid = isinstance(stamp, dict) and all(isinstance(day, str) for day in stamp.values())
    return stamp if valid else {}


def _as_steps(open_cases: pl.DataFrame) -> pl.LazyFrame:
    return open_cases.lazy().select(
        "tenant", "case_no", "business_code", pl.lit("accept").alias("step"),
        pl.col("accepted_at").alias("ts"),
    )  # fmt: skip


def _open_in_shares(files: list[Path], pieces: Pieces) -> pl.DataFrame:
    """The open cases of every step in ``files``, one share of the cases at a time."""
    steps = pl.scan_parquet(files).select(_COLUMNS).filter(pl.col("step").is_in(["accept", *_ENDS]))
    rows = steps.select(pl.len()).collect().item()
    shares = max(1, -(-rows * 5 // (pieces.limit * 4)))  # a fifth to spare for the hash's spread
    share = (pl.col("case_no").hash() % shares).alias("share")
    sizes = dict(steps.group_by(share).len().collect().iter_rows())
    found = []
    for number in range(shares):
        found.append(open_from(steps.filter(share == number)).collect())
        pieces.held(sizes.get(number, 0))
    return pl.concat(found)


def sealed_open_cases(snap: Snapshot, pieces: Pieces | None = None) -> pl.DataFrame:
    """The open cases of the snapshot's sealed days (all tenants), brought up to date if need be.

    ``pieces``: the limit of steps held at once and its accounting (default: configured).
    """
    current = snap.rollups("case_steps")
    paths = {path.name: path for _, path in current}
    files = {path.name: day for day, path in current}  # file name → its day
    cache = snap.lake / ROLLUP_FOLDER / CACHE_NAME
    if not files:
        return pl.DataFrame(schema=_SCHEMA)
    covered = _covered(cache) if cache.exists() else {}
    if covered == files:
        return pl.read_parquet(cache)
    added = sorted(name for name in files if name not in covered)
    forward = (
        bool(covered)
        and bool(added)
        and covered.keys() <= files.keys()
        and min(files[name] for name in added) > max(covered.values())
    )
    if forward:
        steps = pl.concat(
            [_as_steps(pl.read_parquet(cache)),
             pl.scan_parquet([paths[name] for name in added]).select(_COLUMNS)]
        )  # fmt: skip
        result = open_from(steps).collect()
    else:
        every_day = [paths[name] for name in sorted(files)]
        result = _open_in_shares(every_day, pieces or Pieces.configured())
    result = result.cast(_SCHEMA)  # type: ignore[arg-type]
    temporary = cache.with_suffix(f".{os.getpid()}.tmp")
    result.write_parquet(temporary, metadata={_STAMP_KEY: json.dumps(files)})
    os.replace(temporary, cache)
    return result


def open_cases(snap: Snapshot) -> pl.LazyFrame:
    """Every open case: the sealed days' (kept) with the unsealed events applied on top."""
    sealed = _as_steps(sealed_open_cases(snap))
    decoded = (
        None if snap.db is None else pending_frame(snap.db, snap.lake, "case_event", narrow=True)
    )
    if decoded is None:
        return open_from(sealed)
    return open_from(pl.concat([sealed, decoded.lazy().select(_COLUMNS)]))
