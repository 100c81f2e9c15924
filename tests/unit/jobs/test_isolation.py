"""Each run in its own worker: a hung job is killed at its deadline, a failing one is recorded.

Real worker processes against real SQLite and PostgreSQL; the scheduler loops in a thread.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psutil
import pytest
from loguru import logger

from console.core.crypto import ensure_key_files
from console.core.settings import get_settings
from console.logs.chain import read_chain
from console.logs.store import store_for
from tests.unit.jobs.sample_jobs import HANG, SLEEPER_DEADLINE, journal
from tests.unit.jobs.support import job_runs, quick_settings, scheduler_running, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_settings(monkeypatch)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_hung_job_is_killed_at_its_deadline_and_sealing_then_runs(migrated_db: str) -> None:
    ensure_key_files()  # as `init` does: sealing encrypts personal data and keys the chain
    lake = get_settings().lake_dir
    errors: list[str] = []
    sink = logger.add(lambda message: errors.append(message.record["message"]), level="ERROR")
    jobs = HANG.subset(["sample.sleeper", "logs.seal", "sample.ticker"])
    try:
        with scheduler_running(jobs):
            # The hung job took the lake's lock and left a closed day pending (store_late_event).
            holding = wait_for(lambda: [line for line in journal() if line[0] == "sample.sleeper"])
            sleeper = wait_for(
                lambda: [r for r in job_runs("sample.sleeper") if r.outcome != "running"]
            )[0]
            wait_for(lambda: store_for(lake).count("operation") == 0)
            sealed = wait_for(lambda: read_chain(lake, "operation"))
    finally:
        logger.remove(sink)

    assert sleeper.outcome == "timed_out"
    assert "超过运行时限" in sleeper.error and "强制终止" in sleeper.error
    assert sleeper.duration_ms is not None and sleeper.duration_ms >= SLEEPER_DEADLINE * 1000
    assert _gone(holding[0][2])  # the worker itself is gone, and its lock with it
    assert any("挂起的任务" in text and "超时" in text for text in errors)  # logged at ERROR
    assert any(
        r.outcome == "succeeded" and "封存 1 个文件" in r.summary for r in job_runs("logs.seal")
    )
    # Sealing (every second) had to wait until the hung job was killed at its deadline.
    (entry,) = sealed
    killed = sleeper.started_at + timedelta(seconds=SLEEPER_DEADLINE)
    assert datetime.fromisoformat(entry.sealed_at) >= killed
    # The quick job went on every second while the other one hung.
    assert sleeper.finished_at is not None
    meanwhile = [
        r
        for r in job_runs("sample.ticker")
        if r.outcome == "succeeded" and sleeper.started_at <= r.started_at <= sleeper.finished_at
    ]
    assert len(meanwhile) >= 2


def test_a_failing_job_is_recorded_and_the_others_go_on(migrated_db: str) -> None:
    with scheduler_running(HANG.subset(["sample.failing", "sample.ticker"])):
        failed = wait_for(
            lambda: [r for r in job_runs("sample.failing") if r.outcome != "running"]
        )[0]
        wait_for(lambda: len([r for r in job_runs("sample.ticker") if r.finished_at]) >= 3)
    assert failed.outcome == "failed"
    assert "RuntimeError" in failed.error and "示例任务故意失败" in failed.error
    assert failed.worker_pid and failed.finished_at
    assert len(job_runs("sample.failing")) == 1  # its next slot is an hour away
    ticks = [r for r in job_runs("sample.ticker") if r.outcome != "interrupted"]  # cut at stop
    assert ticks and all(r.outcome == "succeeded" for r in ticks)
