"""The scheduler's own job: keep its run records from growing without end.

Four jobs run every 15 s, some 23,000 records a day: plain successes are kept for
``QUIET_DAYS``, failures, overruns and interruptions for ``KEPT_DAYS`` (what went wrong
is also in the log lake's ``exception`` stream, kept as long as the logs).
"""

from __future__ import annotations

from datetime import datetime

from console.core.settings import get_settings
from console.jobs import runs
from console.jobs.registry import scheduled
from console.jobs.timing import daily

QUIET_DAYS = 30
KEPT_DAYS = 365


@scheduled(
    name="jobs.prune_runs",
    label="系统任务记录清理",
    trigger=daily(3, 45),
    deadline_seconds=10 * 60,
    idempotent=True,
)
def prune_run_records(now: datetime) -> str:
    """Delete successes older than 30 days and other finished runs older than a year."""
    removed = runs.prune(
        url=get_settings().db_url, now=now, quiet_days=QUIET_DAYS, kept_days=KEPT_DAYS
    )
    return f"删除 {removed} 条运行记录（成功的保留 {QUIET_DAYS} 天，其余保留 {KEPT_DAYS} 天）"
