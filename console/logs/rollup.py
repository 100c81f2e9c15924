"""Daily rollups of the sealed logs, so dashboards never rescan a year of raw events.

Each sealed day of a stream yields small Parquet files under ``<lake>/_rollups/<name>/``,
one per day, rebuilt from all of the day's parts whenever a part is added (late events
included) — as a new file that the catalogue makes current in the seal's own transaction
(``catalogue.py``), so a reader never sees a day half rolled up. They are derived data:
``python -m console rebuild-rollups`` recreates them from the sealed files, which stay the
record the integrity chain protects.

- ``case_steps``: one row per case and key step (受理, 办结, 驳回, 撤回, 补正) with the case's
  dimensions; 办结 rows carry the case's 受理 time and the hours in between.
- ``cases_daily``: tenant × business × registration type × channel × step: cases,
  summed hours of the completed ones.
- ``closes_daily``: tenant × business × working days taken (受理 day to 办结 day): completed
  cases — so an on-time rate is a join with the limits, whatever the limits are.
- ``interface_daily``: tenant × department × interface × result code × success: calls, retried
  calls, summed and largest latency.
- ``interface_latency``: tenant × department × interface × latency bucket: calls. Buckets grow
  by ``LATENCY_GAMMA`` (the DDSketch mapping), so any quantile over any days and tenants is
  within 1 % of the exact value.
- ``operation_daily`` (tenant × action × outcome) and ``exception_daily`` (tenant × source ×
  level): counts.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import polars as pl

from console.core.clock import local_day_expr
from console.core.workdays import with_workdays_used
from console.logs import catalogue, lake_table, pending
from console.logs.catalogue import ROLLUP, ROLLUP_FOLDER, Snapshot
from console.logs.parts import scan_parts
from console.logs.pending_frames import pending_frame

KEY_STEPS = ("accept", "close", "reject", "withdraw", "supplement")
LATENCY_GAMMA = 1.02  # relative error of a bucket's middle value: (γ − 1) / (γ + 1) < 1 %
ROLLUPS_OF: dict[str, tuple[str, ...]] = {
    "case_event": ("case_steps", "cases_daily", "closes_daily"),
    "interface_call": ("interface_daily", "interface_latency"),
    "operation": ("operation_daily",),
    "exception": ("exception_daily",),
}
STREAM_OF = {name: stream for stream, names in ROLLUPS_OF.items() for name in names}
RECENT_DAYS = 62
_CASE_DIMS = ("tenant", "business_code", "registration_type", "channel")


Earlier = list[tuple[str, Path]]  # (day, file) of the current case_steps days


def new_rollup_file(lake: Path, name: str, day: str) -> Path:
    """A fresh file for one day of a rollup (a rebuilt day never overwrites the old file)."""
    return lake / ROLLUP_FOLDER / name / catalogue.new_name(f"date={day}")


def scan_rollup(snap: Snapshot, name: str) -> pl.LazyFrame | None:
    """Every current day of a rollup as one lazy frame (None while nothing is sealed)."""
    files = [path for _, path in snap.rollups(name)]
    return pl.scan_parquet(files) if files else None


def latency_bucket(duration_ms: pl.Expr) -> pl.Expr:
    """The bucket of a latency: ⌈log_γ(ms)⌉ (0 ms and 1 ms share bucket 0)."""
    return (duration_ms.clip(lower_bound=1).log(LATENCY_GAMMA).ceil()).cast(pl.Int32)


def bucket_value(bucket: pl.Expr) -> pl.Expr:
    """The value a bucket stands for: the middle (in relative terms) of its range."""
    return 2 * pl.lit(LATENCY_GAMMA).pow(bucket) / (LATENCY_GAMMA + 1)


def bucket_quantiles(latency: pl.LazyFrame, keys: list[str], qs: dict[str, float]) -> pl.LazyFrame:
    """Per group of ``keys``, the value of the bucket holding the call of rank ⌈q·n⌉, per q.

    ``latency`` has (``keys``…, ``bucket``, ``calls``) rows from ``interface_latency``.
    """

    def per_group(expr: pl.Expr) -> pl.Expr:
        return expr.over(keys) if keys else expr

    ranked = (
        latency.group_by([*keys, "bucket"])
        .agg(pl.col("calls").sum())
        .sort([*keys, "bucket"])
        .with_columns(
            per_group(pl.col("calls").cum_sum()).alias("running"),
            per_group(pl.col("calls").sum()).alias("total"),
        )
    )
    firsts = [
        pl.col("bucket").filter(pl.col("running") >= (pl.col("total") * q).ceil()).min().alias(name)
        for name, q in qs.items()
    ]
    found = ranked.group_by(keys).agg(*firsts) if keys else ranked.select(*firsts)
    return found.with_columns(bucket_value(pl.col(name)).alias(name) for name in qs)


def _write(lake: Path, name: str, day: str, frame: pl.DataFrame) -> str:
    """Write a day of a rollup to a new file; its path relative to the lake."""
    path = new_rollup_file(lake, name, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    frame.write_parquet(temporary, compression="zstd", statistics=True)
    with temporary.open("rb") as handle:  # on disk before the catalogue can point at it
        os.fsync(handle.fileno())
    temporary.rename(path)  # a new name: nobody can be reading it yet
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return str(path.relative_to(lake))


def _accepts_in(files: list[Path], cases: pl.DataFrame) -> pl.DataFrame:
    return (
        pl.scan_parquet(files)
        .filter(pl.col("step") == "accept")
        .select("tenant", "case_no", "ts")
        .join(cases.lazy(), on=["tenant", "case_no"], how="semi")
        .collect()
    )


def _earlier_accepts(earlier: Earlier, before: str | None, closes: pl.DataFrame) -> pl.DataFrame:
    """受理 rows of the closed cases from the ``case_steps`` days before ``before`` (or all).

    Nearly every case closes within weeks, so the last ``RECENT_DAYS`` files are searched
    first and the older ones only for the cases still unmatched — sealing a year in one go
    would otherwise read every earlier file once per day.
    """
    empty = pl.DataFrame(schema={"tenant": pl.String, "case_no": pl.String})
    found = [empty.with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("ts"))]
    files = [path for day, path in sorted(earlier) if before is None or day < before]
    if closes.is_empty() or not files:
        return found[0]
    recent, older = files[-RECENT_DAYS:], files[:-RECENT_DAYS]
    found.append(_accepts_in(recent, closes))
    missing = closes.join(found[-1], on=["tenant", "case_no"], how="anti")
    if older and not missing.is_empty():
        found.append(_accepts_in(older, missing))
    return pl.concat(found)


def _case_steps(earlier: Earlier, events: pl.LazyFrame, before: str | None) -> pl.DataFrame:
    """Key steps of the events' cases; 受理 times looked up in sealed days before ``before``."""
    institution = (
        pl.col("institution")  # already taken from the lines (the pending events' narrow view)
        if "institution" in events.collect_schema().names()
        else pl.col("raw").str.json_path_match("$.institution").fill_null("").alias("institution")
    )
    steps = (
        events.filter(pl.col("step").is_in(KEY_STEPS))
        .select(*_CASE_DIMS, "case_no", "step", "ts", institution, local_day_expr())
        # A re-sent step (another event id) counts once a day: the first time it happened.
        .group_by("tenant", "case_no", "step", "day")
        .agg(pl.all().sort_by("ts").first())
        .collect()
    )
    accepts = steps.filter(pl.col("step") == "accept").select("tenant", "case_no", "ts")
    closes = (
        steps.filter(pl.col("step") == "close")
        .select("tenant", "case_no")
        .join(accepts, on=["tenant", "case_no"], how="anti")  # accepted in the same events
    )
    accepts = pl.concat([_earlier_accepts(earlier, before, closes), accepts])
    accepted = accepts.group_by("tenant", "case_no").agg(pl.col("ts").min().alias("accepted_at"))
    return (
        steps.join(accepted, on=["tenant", "case_no"], how="left")
        .with_columns(
            pl.when(pl.col("step") == "close")
            .then(pl.col("accepted_at"))
            .otherwise(None)
            .alias("accepted_at"),
        )
        .with_columns(
            ((pl.col("ts") - pl.col("accepted_at")).dt.total_microseconds() / 3.6e9).alias("hours"),
        )
        .select(*_CASE_DIMS, "case_no", "step", "ts", "institution", "accepted_at", "hours", "day")
        .sort("tenant", "case_no", "step")
    )


def _cases_daily(steps: pl.DataFrame) -> pl.DataFrame:
    return (
        steps.group_by("day", *_CASE_DIMS, "step")
        .agg(
            pl.col("case_no").n_unique().alias("cases"),
            pl.col("hours").sum().alias("hours_sum"),
            pl.col("hours").count().alias("hours_count"),
        )
        .sort("tenant", "business_code", "channel", "step")
    )


def _closes_daily(steps: pl.DataFrame) -> pl.DataFrame:
    """Completed cases per day, tenant, business and working days taken (for on-time rates)."""
    closes = steps.filter((pl.col("step") == "close") & pl.col("accepted_at").is_not_null())
    if closes.is_empty():
        schema = {"day": pl.Date, "tenant": pl.String, "business_code": pl.String,
                  "workdays_used": pl.Int32, "cases": pl.UInt32}  # fmt: skip
        return pl.DataFrame(schema=schema)
    return (
        with_workdays_used(closes.lazy(), start="accepted_at", end="ts")
        .group_by("day", "tenant", "business_code", "workdays_used")
        .agg(pl.col("case_no").n_unique().alias("cases"))
        .sort("tenant", "business_code", "workdays_used")
        .collect()
    )


def _interface_daily(events: pl.LazyFrame) -> pl.DataFrame:
    return (
        events.with_columns(local_day_expr())
        .group_by("day", "tenant", "department", "interface_code", "result_code", "success")
        .agg(
            pl.len().alias("calls"),
            (pl.col("retry").fill_null(0) > 0).sum().alias("retried"),
            pl.col("duration_ms").sum().alias("duration_sum"),
            pl.col("duration_ms").max().alias("duration_max"),
        )
        .sort("tenant", "interface_code")
        .collect()
    )


def _interface_latency(events: pl.LazyFrame) -> pl.DataFrame:
    return (
        events.with_columns(latency_bucket(pl.col("duration_ms")).alias("bucket"), local_day_expr())
        .group_by("day", "tenant", "department", "interface_code", "bucket")
        .agg(pl.len().alias("calls"))
        .sort("tenant", "interface_code", "bucket")
        .collect()
    )


def _counts(events: pl.LazyFrame, *keys: str) -> pl.DataFrame:
    return (
        events.with_columns(local_day_expr())
        .group_by("day", "tenant", *keys)
        .agg(pl.len().alias("events"))
        .sort("tenant", *keys)
        .collect()
    )


def _rollups(
    earlier: Earlier,
    stream: str,
    events: pl.LazyFrame,
    before: str | None,
    names: Collection[str] = (),
) -> dict[str, pl.DataFrame]:
    """The rollups of a stream's events by name: ``names`` only, or all of them."""
    wanted = set(names or ROLLUPS_OF[stream])
    builders: dict[str, Callable[[], pl.DataFrame]]
    if stream == "case_event":
        steps = _case_steps(earlier, events, before)
        builders = {
            "case_steps": lambda: steps,
            "cases_daily": lambda: _cases_daily(steps),
            "closes_daily": lambda: _closes_daily(steps),
        }
    elif stream == "interface_call":
        builders = {
            "interface_daily": lambda: _interface_daily(events),
            "interface_latency": lambda: _interface_latency(events),
        }
    elif stream == "operation":
        builders = {"operation_daily": lambda: _counts(events, "action", "outcome")}
    else:
        builders = {"exception_daily": lambda: _counts(events, "source", "level")}
    return {name: build() for name, build in builders.items() if name in wanted}


def build_day(
    lake: Path,
    db: sqlite3.Connection,
    stream: str,
    day: str,
    *,
    added: Sequence[Path] = (),
    earlier: Earlier | None = None,
    source: pl.LazyFrame | None = None,
) -> dict[str, str]:
    """Write new rollup files for one sealed day from its current parts (and ``added``).

    Returns the new file of each rollup, for the caller to make current in its transaction;
    nothing when the day has no parts. ``earlier``: the case_steps days to look 受理 up in
    (default: the current ones). ``source``: the day's sealed events as a table holds them
    (table mode), read instead of the local parts.
    """
    parts = [lake / file for _, file in catalogue.current(db, catalogue.PART, stream, days=[day])]
    parts += list(added)
    if not parts:
        return {}
    events = source if source is not None else scan_parts(stream, parts)
    if earlier is None:
        earlier = [
            (found_day, lake / file)
            for found_day, file in catalogue.current(db, ROLLUP, "case_steps", high=day)
        ]
    earlier = [(found_day, path) for found_day, path in earlier if found_day < day]
    # Polars' streaming engine reads the day's parts in pieces: what a build holds is its
    # groups, not the day's rows, however many late parts the day has. (The setting is
    # process-wide: builds run in the seal's worker or the CLI, one at a time under the lake
    # lock, and any engine gives the same answers.)
    with pl.Config(engine_affinity="streaming"):
        built = _rollups(earlier, stream, events, day)
    return {name: _write(lake, name, day, frame) for name, frame in built.items()}


def make_current(db: sqlite3.Connection, day: str, files: dict[str, str]) -> None:
    """List a day's new rollup files as current (inside the caller's transaction)."""
    for name, file in files.items():
        catalogue.replace(db, ROLLUP, name, day, file)


def rollup_views(snap: Snapshot, names: Collection[str]) -> dict[str, pl.LazyFrame | None]:
    """Rollups over the sealed days plus, computed now, the events not sealed yet.

    Both come from the one snapshot; a stream's pending events are read once, and only the
    rollups named are built from them.
    """
    views: dict[str, pl.LazyFrame | None] = {}
    earlier = snap.rollups("case_steps")
    for stream in dict.fromkeys(STREAM_OF[name] for name in names):
        wanted = [name for name in names if STREAM_OF[name] == stream]
        decoded = (
            None if snap.db is None else pending_frame(snap.db, snap.lake, stream, narrow=True)
        )
        events = None if decoded is None else decoded.lazy()
        built = {} if events is None else _rollups(earlier, stream, events, None, wanted)
        for name in wanted:
            parts = [scan_rollup(snap, name), None if name not in built else built[name].lazy()]
            present = [part for part in parts if part is not None]
            views[name] = pl.concat(present, how="diagonal_relaxed") if present else None
    return views


def rebuild_all(lake: Path) -> int:
    """Rebuild every rollup from the sealed files, oldest day first; returns days rebuilt.

    The new files replace the old ones in one transaction per stream, so dashboards see
    either the old rollups or the new ones. The caller holds the lake lock.
    """
    catalogue.prepare(lake)
    rebuilt = 0
    with pending.sealing(pending.ingest_path(lake)) as db:
        for stream, names in ROLLUPS_OF.items():
            days = sorted({day for day, _ in catalogue.current(db, catalogue.PART, stream)})
            built: dict[str, dict[str, str]] = {}
            rebuilt_steps: Earlier = []  # later days look up earlier 受理 in the new case_steps
            tables, head = lake_table.configured(), lake_table.head(db, stream)
            for day in days:
                source = None
                if tables is not None and head is not None:
                    source = lake_table.scan(tables, stream, head, days=[day])
                built[day] = build_day(lake, db, stream, day, earlier=rebuilt_steps,
                                       source=source)  # fmt: skip
                if "case_steps" in built[day]:
                    rebuilt_steps.append((day, lake / built[day]["case_steps"]))
                rebuilt += 1
            with pending.write(db):
                for name in names:
                    catalogue.retire(db, ROLLUP, name)
                for day, files in built.items():
                    make_current(db, day, files)
    return rebuilt
