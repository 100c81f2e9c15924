"""Helpers of the scheduler's tests: a scheduler in a thread, waiting, reading the runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest
from sqlmodel import col, select

from console.core.db import session_scope
from console.core.settings import get_settings
from console.jobs.models import JobRun
from console.jobs.registry import Registry
from console.jobs.scheduler import Scheduler

T = TypeVar("T")


def quick_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-second leader poll and a short SIGTERM → SIGKILL grace."""
    monkeypatch.setenv("BDC_SCHEDULER_LEADER_POLL_SECONDS", "1")
    monkeypatch.setenv("BDC_SCHEDULER_TERM_GRACE_SECONDS", "2")
    get_settings.cache_clear()


@contextmanager
def scheduler_running(registry: Registry) -> Iterator[Scheduler]:
    """A scheduler looping in a thread of this process until the block ends."""
    scheduler = Scheduler(registry)
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield scheduler
    finally:
        stop.set()
        thread.join(60)
        assert not thread.is_alive(), "the scheduler did not stop"


def wait_for(what: Callable[[], T], *, timeout: float = 30, every: float = 0.1) -> T:
    """Poll ``what`` until it returns something truthy; fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting after {timeout} s")
        time.sleep(every)


def job_runs(job: str | None = None) -> list[JobRun]:
    """The recorded runs (of one job), oldest first."""
    statement = select(JobRun).order_by(col(JobRun.id))
    if job:
        statement = statement.where(JobRun.job == job)
    with session_scope() as session:
        return list(session.exec(statement))
