"""One leader among real ``python -m console scheduler`` processes sharing a database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from console.core.settings import get_settings
from console.jobs.leader import LOCK_FILE
from tests.unit.jobs.sample_jobs import journal
from tests.unit.jobs.support import job_runs, wait_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
Start = Callable[[str], subprocess.Popen]


@pytest.fixture
def start(migrated_db: str, tmp_path: Path) -> Iterator[Start]:
    """Start schedulers of the sample jobs on this test's database; kill leftovers after."""
    started: list[subprocess.Popen] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("BDC_")}
    env.update(
        BDC_DATA_DIR=str(get_settings().resolved_data_dir),
        BDC_DATABASE_URL=migrated_db,
        BDC_SCHEDULER_LEADER_POLL_SECONDS="1",
        BDC_SCHEDULER_TERM_GRACE_SECONDS="2",
    )

    def launch(name: str) -> subprocess.Popen:
        with (tmp_path / f"scheduler-{name}.log").open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "console", "scheduler",
                 "--registry", "tests.unit.jobs.sample_jobs:CLUSTER"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        started.append(process)
        return process

    yield launch
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _other(processes: tuple[subprocess.Popen, ...], pid: int) -> subprocess.Popen:
    return next(process for process in processes if process.pid != pid)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_killed_leader_is_replaced_and_its_unfinished_run_repeated(start: Start) -> None:
    pair = (start("a"), start("b"))
    slow = wait_for(
        lambda: [r for r in job_runs("sample.slow") if r.outcome == "running" and r.worker_pid],
        timeout=60,
    )[0]
    leader = next(process for process in pair if process.pid == slow.pid)
    follower = _other(pair, leader.pid)
    assert {run.pid for run in job_runs()} == {leader.pid}  # exactly one runs jobs
    assert leader.poll() is None and follower.poll() is None

    leader.kill()
    killed = time.monotonic()
    leader.wait(10)
    retry = wait_for(
        lambda: [r for r in job_runs("sample.slow") if r.trigger == "retry"], timeout=40
    )[0]
    assert retry.pid == follower.pid
    assert time.monotonic() - killed < 20  # a minute at most with the default 15 s poll
    left = next(run for run in job_runs("sample.slow") if run.id == slow.id)
    assert left.outcome == "interrupted" and "主节点" in left.error
    assert slow.worker_pid is not None
    wait_for(lambda: not _alive(slow.worker_pid), timeout=10)  # died with its leader
    wait_for(lambda: [r for r in job_runs("sample.slow") if r.id == retry.id and r.finished_at])
    assert next(r for r in job_runs("sample.slow") if r.id == retry.id).outcome == "succeeded"

    starts = [(job, slot) for job, slot, _, what in journal() if what == "start"]
    assert len(starts) == len(set(starts))  # no (job, slot) ran twice
    follower.send_signal(signal.SIGTERM)
    assert follower.wait(30) == 0
    assert not [run for run in job_runs() if run.outcome == "running"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_schedulers_in_one_data_folder_elect_one_leader(start: Start) -> None:
    pair = (start("a"), start("b"))
    wait_for(lambda: len([r for r in job_runs("sample.ticker") if r.finished_at]) >= 3, timeout=60)
    leaders = {run.pid for run in job_runs()}
    assert len(leaders) == 1 and leaders <= {process.pid for process in pair}
    leader_pid = leaders.pop()
    assert all(process.poll() is None for process in pair)
    holder = (get_settings().resolved_data_dir / LOCK_FILE).read_text().split()
    assert int(holder[1]) == leader_pid

    leader = next(process for process in pair if process.pid == leader_pid)
    leader.send_signal(signal.SIGTERM)  # an orderly stop hands over too
    assert leader.wait(30) == 0
    follower = _other(pair, leader_pid)
    wait_for(lambda: [r for r in job_runs("sample.ticker") if r.pid == follower.pid], timeout=30)
