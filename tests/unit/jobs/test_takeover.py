"""A new leader closes its predecessor's unfinished runs; only idempotent jobs run again at once."""

from __future__ import annotations

import pytest

from console.core.clock import utcnow
from console.core.settings import get_settings
from console.jobs import runs
from console.jobs.models import RunTrigger
from console.jobs.registry import Registry
from console.jobs.scheduler import Scheduler
from console.jobs.timing import every, latest_fire
from tests.unit.jobs.sample_jobs import tick
from tests.unit.jobs.support import job_runs, quick_settings

HOURLY = every(hours=1)


@pytest.mark.slow
def test_a_new_leader_reruns_only_the_idempotent_jobs(
    migrated_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_settings(monkeypatch)
    jobs = Registry()
    jobs.scheduled(
        name="sample.again", label="可重跑", trigger=HOURLY, deadline_seconds=30, idempotent=True
    )(tick)
    jobs.scheduled(
        name="sample.once", label="不可重跑", trigger=HOURLY, deadline_seconds=30, idempotent=False
    )(tick)
    now = utcnow()
    slot = latest_fire(HOURLY, now)
    assert slot is not None
    for name in ("sample.again", "sample.once"):  # left "running" by a leader that died
        runs.claim(url=get_settings().db_url, job=name, slot=slot, trigger=RunTrigger.SCHEDULE)
    scheduler = Scheduler(jobs)
    try:
        scheduler.step(now)
        scheduler.drain()
    finally:
        scheduler.close()
    assert [(r.trigger, r.outcome) for r in job_runs("sample.again")] == [
        ("schedule", "interrupted"),
        ("retry", "succeeded"),
    ]
    # Not idempotent: it waits for its next slot (an hour away), nothing ran it again.
    assert [(r.trigger, r.outcome) for r in job_runs("sample.once")] == [
        ("schedule", "interrupted")
    ]
