"""When jobs fire: APScheduler 3 triggers in Asia/Shanghai, and their fire times in words.

APScheduler computes the fire times only; our own loop (``scheduler.py``) dispatches. Its
executors run a job in a thread or pool that cannot be killed, so a hung job would hold its
worker, and its locks, for good — we run every job in its own process with a deadline.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from console.core.clock import CHINA_TZ

# Interval slots count from this moment, so every process computes the same slot times.
ORIGIN = datetime(2000, 1, 1, tzinfo=CHINA_TZ)
_TICK = timedelta(microseconds=1)
# Windows tried, smallest first, when looking back for the latest fire time of a cron trigger.
_LOOKBACK = (
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=32),
    timedelta(days=367),
)
_WEEKDAYS = {"mon": "一", "tue": "二", "wed": "三", "thu": "四", "fri": "五", "sat": "六",
             "sun": "日"}  # fmt: skip


def every(*, seconds: int = 0, minutes: int = 0, hours: int = 0) -> IntervalTrigger:
    """A fixed interval, its slots aligned to ``ORIGIN`` (the same in every process)."""
    return IntervalTrigger(
        seconds=seconds, minutes=minutes, hours=hours, start_date=ORIGIN, timezone=CHINA_TZ
    )


def daily(hour: int, minute: int = 0) -> CronTrigger:
    """Once a day at ``hour:minute`` Beijing time."""
    return CronTrigger(hour=hour, minute=minute, second=0, timezone=CHINA_TZ)


def cron(expression: str) -> CronTrigger:
    """A 5-field crontab expression in Beijing time."""
    return CronTrigger.from_crontab(expression, timezone=CHINA_TZ)


def next_fire(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after`` (None when the trigger has ended)."""
    moment = trigger.get_next_fire_time(None, after + _TICK)
    return None if moment is None else moment.astimezone(CHINA_TZ)


def latest_fire(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The last fire time at or before ``now`` (None when there was none in a year)."""
    if isinstance(trigger, IntervalTrigger):
        start = trigger.start_date
        if now < start:
            return None
        count = math.floor((now - start).total_seconds() / trigger.interval_length)
        return (start + trigger.interval * count).astimezone(CHINA_TZ)
    for window in _LOOKBACK:
        found = next_fire(trigger, now - window - _TICK)
        if found is None or found > now:
            continue
        while (following := next_fire(trigger, found)) is not None and following <= now:
            found = following
        return found
    return None


def _count(value: int, unit: str) -> str:
    return f"{value} {unit}"


def describe_interval(seconds: float) -> str:
    """An interval in words, e.g. ``每 15 秒``, ``每 5 分钟``, ``每小时``."""
    whole = int(seconds)
    for size, unit, single in ((86400, "天", "每天"), (3600, "小时", "每小时"),
                               (60, "分钟", "每分钟")):  # fmt: skip
        if whole >= size and whole % size == 0:
            return single if whole == size else f"每 {_count(whole // size, unit)}"
    return f"每 {_count(whole, '秒')}"


def _fields(trigger: CronTrigger) -> dict[str, str]:
    return {field.name: str(field) for field in trigger.fields}


def _single(value: str) -> bool:
    return value.isdigit()


def describe(trigger: BaseTrigger) -> str:
    """A trigger's schedule in words, e.g. ``每 15 秒``, ``每日 03:30``, ``每周一 04:00``."""
    if isinstance(trigger, IntervalTrigger):
        return describe_interval(trigger.interval_length)
    if not isinstance(trigger, CronTrigger):
        return str(trigger)
    f = _fields(trigger)
    calendar_free = all(f[name] == "*" for name in ("year", "month", "day", "week"))
    timed = _single(f["hour"]) and _single(f["minute"]) and f["second"] == "0"
    clock = f"{int(f['hour']):02d}:{int(f['minute']):02d}" if timed else ""
    if calendar_free and timed and f["day_of_week"] == "*":
        return f"每日 {clock}"
    if calendar_free and timed and f["day_of_week"] in _WEEKDAYS:
        return f"每周{_WEEKDAYS[f['day_of_week']]} {clock}"
    if calendar_free and f["hour"] == "*" and _single(f["minute"]) and f["second"] == "0":
        return f"每小时第 {int(f['minute'])} 分"
    if f["year"] == "*" and f["month"] == "*" and _single(f["day"]) and timed:
        return f"每月 {int(f['day'])} 日 {clock}"
    fields = " ".join(f[name] for name in ("minute", "hour", "day", "month", "day_of_week"))
    return f"按计划（{fields}）"


def describe_seconds(seconds: float) -> str:
    """A duration in words: ``0.4 秒``, ``12 秒``, ``3 分 05 秒``, ``1 小时 2 分``."""
    if seconds < 10:
        return f"{seconds:.1f} 秒"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} 秒"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} 分" if rest == 0 else f"{minutes} 分 {rest:02d} 秒"
    hours, rest = divmod(whole, 3600)
    return f"{hours} 小时" if rest < 60 else f"{hours} 小时 {rest // 60} 分"
