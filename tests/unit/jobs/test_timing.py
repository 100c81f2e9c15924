"""Fire times of the triggers (Asia/Shanghai) and schedules in words."""

from __future__ import annotations

from datetime import datetime, timedelta

from console.core.clock import CHINA_TZ
from console.jobs.timing import (
    cron,
    daily,
    describe,
    describe_seconds,
    every,
    latest_fire,
    next_fire,
)

NOON = datetime(2026, 11, 27, 12, 0, 7, tzinfo=CHINA_TZ)


def test_interval_slots_are_the_same_in_every_process() -> None:
    first, second = every(seconds=15), every(seconds=15)  # built at different moments
    assert latest_fire(first, NOON) == latest_fire(second, NOON) == NOON.replace(second=0)
    assert next_fire(first, NOON) == NOON.replace(second=15)
    assert next_fire(first, NOON.replace(second=15)) == NOON.replace(second=30)  # strictly after
    assert latest_fire(first, NOON.replace(second=15)) == NOON.replace(second=15)  # at or before


def test_cron_fire_times_look_back_and_ahead() -> None:
    nightly = daily(3, 30)
    assert latest_fire(nightly, NOON) == NOON.replace(hour=3, minute=30, second=0)
    assert next_fire(nightly, NOON) == (NOON + timedelta(days=1)).replace(
        hour=3, minute=30, second=0
    )
    monthly = cron("0 2 1 * *")
    assert latest_fire(monthly, NOON) == datetime(2026, 11, 1, 2, 0, tzinfo=CHINA_TZ)
    assert latest_fire(cron("0 0 29 2 *"), NOON) is None  # none within a year


def test_schedules_and_durations_in_words() -> None:
    assert [describe(t) for t in (every(seconds=15), every(minutes=5), every(hours=1))] == [
        "每 15 秒",
        "每 5 分钟",
        "每小时",
    ]
    assert describe(daily(3, 30)) == "每日 03:30"
    assert describe(cron("30 * * * *")) == "每小时第 30 分"
    assert describe(cron("0 2 1 * *")) == "每月 1 日 02:00"
    assert [describe_seconds(s) for s in (0.42, 15, 185, 3720)] == [
        "0.4 秒",
        "15 秒",
        "3 分 05 秒",
        "1 小时 2 分",
    ]
