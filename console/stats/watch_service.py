"""Per-county time-limit figures for the alert evaluator (the system reads; no actor, no scope).

The alert rules 超期未办结办件 and 按时办结率偏低 judge every county at once; who may *see*
an alert is decided when alerts are read, by the alert's county.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
from sqlmodel import Session

from console.core.clock import local_day
from console.core.settings import get_settings
from console.logs.catalogue import snapshot
from console.logs.open_cases import open_cases
from console.logs.rollup import rollup_views
from console.stats.limits import judge, time_limits


def overdue_open_by_tenant(*, session: Session, now: datetime) -> dict[str, int]:
    """County → cases accepted, not yet closed, and past their limit as of ``now``."""
    limits = time_limits(session)
    with snapshot(get_settings().lake_dir) as snap:
        found = open_cases(snap)
        if not found.collect_schema().names():
            return {}
        counted = (
            judge(found.with_columns(pl.lit(now).alias("ts")), limits)
            .filter(pl.col("workdays_used") > pl.col("limit_workdays"))
            .group_by("tenant")
            .len()
            .collect()
        )
    return dict(zip(counted["tenant"], counted["len"], strict=True))


def month_on_time_by_tenant(*, session: Session, now: datetime) -> dict[str, tuple[int, int]]:
    """County → (cases closed this month, of them on time), Beijing-time month."""
    today = local_day(now)
    first = date(today.year, today.month, 1)
    limits = time_limits(session)
    with snapshot(get_settings().lake_dir) as snap:
        steps = rollup_views(snap, ["case_steps"])["case_steps"]
        if steps is None or not steps.collect_schema().names():
            return {}
        closes = steps.filter(
            (pl.col("step") == "close") & pl.col("day").is_between(first, today)
        ).select("tenant", "business_code", "ts", "accepted_at")
        counted = (
            judge(closes, limits)
            .group_by("tenant")
            .agg(pl.len().alias("closed"), pl.col("on_time").sum().alias("on_time"))
            .collect()
        )
    return {row["tenant"]: (row["closed"], row["on_time"]) for row in counted.iter_rows(named=True)}
