"""Judging case times against the promised limits (kept by 流程配置) in working days."""

from __future__ import annotations

import polars as pl
from sqlmodel import Session

from console.core.workdays import with_workdays_used
from console.workflows.limits import promised_limits
from console.workflows.models import LEGAL_LIMIT_WORKDAYS


def time_limits(session: Session) -> pl.DataFrame:
    """business_code → limit_workdays, for every code with its own limit."""
    limits = promised_limits(session)
    return pl.DataFrame(
        {"business_code": list(limits), "limit_workdays": list(limits.values())},
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
