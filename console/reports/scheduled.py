"""The report centre's system job: turn subscriptions into reports after each period."""

from __future__ import annotations

from datetime import datetime

from console.core.clock import local_day
from console.core.settings import get_settings
from console.jobs.registry import scheduled
from console.jobs.timing import every
from console.logs.store import store_for
from console.reports import service as report_service


@scheduled(
    name="reports.subscriptions",
    label="报表订阅生成",
    trigger=every(seconds=15),
    deadline_seconds=30 * 60,
    idempotent=False,
)
def generate_subscribed(now: datetime) -> str:
    """Queue each subscription's report of the period that ended, then generate one."""
    lake = get_settings().lake_dir
    # Seal first (a no-op when the seal job was quicker), so a report of the period that just
    # ended reads its last day sealed — the order the single tick used to guarantee.
    store_for(lake).seal(lake=lake, now=now)
    queued = report_service.enqueue_scheduled(today=local_day(now))
    done = report_service.run_queued(limit=1, now=now)
    return f"新排队 {len(queued)} 份，生成 {len(done)} 份"
