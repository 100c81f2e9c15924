"""Statutory time limits per business code and the working-day arithmetic to judge them."""

from __future__ import annotations

import csv

import polars as pl
from sqlmodel import Session, select

from console.core.workdays import with_workdays_used
from console.dictionaries.seed import SEED_DIR
from console.stats.models import LEGAL_LIMIT_WORKDAYS, BusinessTimeLimit


def load_time_limits(session: Session) -> int:
    """Add the committed default limits for codes that have none (edits are never overwritten)."""
    with (SEED_DIR / "time_limits.csv").open(encoding="utf-8") as handle:
        handle.readline()  # source line
        rows = list(csv.DictReader(handle))
    held = set(session.exec(select(BusinessTimeLimit.business_code)).all())
    added = 0
    for row in rows:
        if row["business_code"] not in held:
            session.add(
                BusinessTimeLimit(
                    business_code=row["business_code"],
                    workdays=int(row["workdays"]),
                    basis=row["basis"],
                )
            )
            added += 1
    return added


def time_limits(session: Session) -> pl.DataFrame:
    """business_code → limit_workdays, for every code with its own limit."""
    rows = session.exec(select(BusinessTimeLimit)).all()
    return pl.DataFrame(
        {
            "business_code": [r.business_code for r in rows],
            "limit_workdays": [r.workdays for r in rows],
        },
        schema={"business_code": pl.String, "limit_workdays": pl.Int64},
    )


def judge(closes: pl.LazyFrame, limits: pl.DataFrame) -> pl.LazyFrame:
    """Add ``workdays_used``, ``limit_workdays`` and ``on_time`` to 办结 rows.

    ``workdays_used`` counts working days after the 受理 day up to and including the 办结 day.
    A business without its own limit is held to the legal 30 working days.
    """
    return with_limits(with_workdays_used(closes, start="accepted_at", end="ts"), limits)


def with_limits(frame: pl.LazyFrame, limits: pl.DataFrame) -> pl.LazyFrame:
    """Add ``limit_workdays`` (the legal 30 where none is set) and ``on_time``."""
    return (
        frame.join(limits.lazy(), on="business_code", how="left")
        .with_columns(pl.col("limit_workdays").fill_null(LEGAL_LIMIT_WORKDAYS))
        .with_columns((pl.col("workdays_used") <= pl.col("limit_workdays")).alias("on_time"))
    )
