"""Jobs for the scheduler's tests: module-level, so worker processes import them by name.

Each job writes a line to a journal in the data folder when it starts (``name slot pid``),
so a test sees what ran, when, and where — even for a worker that was killed.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from console.core.clock import local_day, utcnow
from console.core.settings import get_settings
from console.jobs.registry import Registry
from console.jobs.timing import every
from console.logs.contract import CheckedEvent
from console.logs.scheduled import seal_logs
from console.logs.seal import lake_lock
from console.logs.store import store_for

SLEEPER_DEADLINE = 4
SLOW_SECONDS = 3


def journal_path() -> Path:
    """Where the jobs write their lines."""
    return get_settings().resolved_data_dir / "jobs-journal.txt"


def journal() -> list[tuple[str, str, int, str]]:
    """Every line so far: (job, slot, worker pid, what)."""
    path = journal_path()
    if not path.exists():
        return []
    lines = [line.split(" ") for line in path.read_text().splitlines() if line]
    return [(job, slot, int(pid), what) for job, slot, pid, what in lines]


def _write(job: str, now: datetime, what: str) -> None:
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(f"{job} {now.isoformat()} {os.getpid()} {what}\n")
        handle.flush()


def tick(now: datetime) -> str:
    """A quick job."""
    _write("sample.ticker", now, "start")
    return "tick"


def store_late_event() -> str:
    """Store one operation event of yesterday (Beijing time) in the lake, not sealed yet."""
    ts = utcnow() - timedelta(days=1)
    day = local_day(ts).isoformat()
    line = json.dumps(
        {"event_id": "late-1", "ts": ts.isoformat(), "tenant": "330000", "actor": "tester",
         "action": "read", "object": "audit.logs", "outcome": "success"}
    )  # fmt: skip
    event = CheckedEvent("late-1", ts, day, "330000", line)
    store_for(get_settings().lake_dir).append(stream="operation", sender="test", events=[event])
    return day


def sleep_holding_the_lake(now: datetime) -> None:
    """Take the lake's lock, leave a closed day to seal, and never come back."""
    with lake_lock(get_settings().lake_dir):
        store_late_event()
        _write("sample.sleeper", now, "holding")
        while True:
            time.sleep(60)


def fail(now: datetime) -> None:
    """Always raise."""
    _write("sample.failing", now, "start")
    raise RuntimeError("示例任务故意失败")


def slow(now: datetime) -> str:
    """Take a few seconds."""
    _write("sample.slow", now, "start")
    time.sleep(SLOW_SECONDS)
    _write("sample.slow", now, "done")
    return "slow done"


# A job that hangs while holding the lake's lock, beside sealing, a quick job and a failing one.
HANG = Registry()
HANG.scheduled(
    name="sample.sleeper",
    label="挂起的任务",
    trigger=every(hours=1),
    deadline_seconds=SLEEPER_DEADLINE,
    idempotent=False,
)(sleep_holding_the_lake)
HANG.scheduled(
    name="logs.seal",
    label="日志封存",
    trigger=every(seconds=1),
    deadline_seconds=60,
    idempotent=True,
)(seal_logs)
HANG.scheduled(
    name="sample.ticker",
    label="快速任务",
    trigger=every(seconds=1),
    deadline_seconds=30,
    idempotent=True,
)(tick)
HANG.scheduled(
    name="sample.failing",
    label="出错的任务",
    trigger=every(hours=1),
    deadline_seconds=30,
    idempotent=False,
)(fail)

# What two scheduler processes share: a quick job and a slow idempotent one.
CLUSTER = Registry()
CLUSTER.scheduled(
    name="sample.ticker",
    label="快速任务",
    trigger=every(seconds=1),
    deadline_seconds=30,
    idempotent=True,
)(tick)
CLUSTER.scheduled(
    name="sample.slow",
    label="较慢的任务",
    trigger=every(seconds=1),
    deadline_seconds=60,
    idempotent=True,
)(slow)
