"""Run records are pruned: old successes go first, what went wrong stays a year."""

from __future__ import annotations

from datetime import datetime, timedelta

from console.core.clock import CHINA_TZ
from console.core.db import session_scope
from console.core.settings import get_settings
from console.jobs.models import JobRun, RunOutcome, RunTrigger
from console.jobs.scheduled import prune_run_records
from tests.unit.jobs.support import job_runs

NOW = datetime(2026, 12, 3, 3, 45, tzinfo=CHINA_TZ)


def _run(job: str, days_ago: int, outcome: RunOutcome) -> None:
    started = NOW - timedelta(days=days_ago)
    with session_scope() as session:
        session.add(
            JobRun(
                job=job, slot=started, trigger=RunTrigger.SCHEDULE,
                outcome=outcome, started_at=started,
            )
        )  # fmt: skip


def test_old_successes_go_while_failures_and_running_runs_stay(migrated_db: str) -> None:
    _run("logs.seal", 31, RunOutcome.SUCCEEDED)  # past 30 days: goes
    _run("logs.seal", 29, RunOutcome.SUCCEEDED)  # stays
    _run("logs.verify", 200, RunOutcome.FAILED)  # a failure within a year: stays
    _run("logs.verify", 366, RunOutcome.TIMED_OUT)  # past a year: goes
    _run("logs.purge", 400, RunOutcome.RUNNING)  # a leader must still see it: stays
    summary = prune_run_records(NOW)
    kept = {(run.job, run.outcome) for run in job_runs()}
    assert kept == {
        ("logs.seal", RunOutcome.SUCCEEDED),
        ("logs.verify", RunOutcome.FAILED),
        ("logs.purge", RunOutcome.RUNNING),
    }
    assert summary.startswith("删除 2 条运行记录")
    assert get_settings().db_url == migrated_db
