"""Working days and office hours in the province: statutory time limits count working days.

The public-holiday calendar, including the weekends that become working days (调休), comes
from the ``holidays`` package (its ``CN`` calendar is updated every year when the State
Council publishes the next year's schedule); upgrading the package refreshes it.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta

import holidays
import polars as pl

from console.core.clock import CHINA_TZ, local_day, local_day_expr

# Office hours of a registration hall (morning and afternoon sessions), Beijing time.
OFFICE_SESSIONS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(13, 30), time(17, 30)),
)
OFFICE_HOURS_PER_DAY = 7.5


@functools.lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    return holidays.country_holidays("CN")


@functools.lru_cache(maxsize=8192)
def is_workday(day: date) -> bool:
    """Whether ``day`` is a working day in mainland China (holidays and 调休 included)."""
    return bool(_calendar().is_working_day(day))


def next_workday(day: date) -> date:
    """``day`` itself when it is a working day, else the next one."""
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def add_workdays(day: date, count: int) -> date:
    """The working day ``count`` working days after ``day`` (``count`` ≥ 0)."""
    day = next_workday(day)
    for _ in range(count):
        day = next_workday(day + timedelta(days=1))
    return day


def workdays_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end ≤ start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_workday(day)
    return count


def add_office_hours(moment: datetime, hours: float) -> datetime:
    """The moment ``hours`` of office time after ``moment``, skipping nights and days off."""
    local = moment.astimezone(CHINA_TZ)
    remaining = timedelta(hours=hours)
    while True:
        day = next_workday(local.date())
        if day != local.date():
            local = datetime.combine(day, OFFICE_SESSIONS[0][0], CHINA_TZ)
        for opens, closes in OFFICE_SESSIONS:
            start = max(local, datetime.combine(day, opens, CHINA_TZ))
            end = datetime.combine(day, closes, CHINA_TZ)
            if start >= end:
                continue
            if start + remaining <= end:
                return start + remaining
            remaining -= end - start
            local = end
        local = datetime.combine(day + timedelta(days=1), time(0), CHINA_TZ)


CALENDAR_START = date(2000, 1, 1)


@functools.lru_cache(maxsize=4)
def workday_numbers(last_year: int) -> pl.DataFrame:
    """Each calendar day from 2000 to the end of ``last_year`` with the working days up to it."""
    last = date(last_year, 12, 31)
    days = [CALENDAR_START + timedelta(days=n) for n in range((last - CALENDAR_START).days + 1)]
    counted = [int(is_workday(day)) for day in days]
    return pl.DataFrame({"day": days, "workday_no": pl.Series(counted, dtype=pl.Int32).cum_sum()})


def with_workdays_used(frame: pl.LazyFrame, *, start: str, end: str) -> pl.LazyFrame:
    """Add ``workdays_used``: working days after the ``start`` moment's day up to ``end``'s.

    A working-day number per calendar day (2000 to next year) turns the count into a
    subtraction, with no per-row Python.
    """
    numbers = workday_numbers(local_day().year + 1).lazy()
    local = {"_start_day": start, "_end_day": end}
    counted = frame.with_columns(
        local_day_expr(column).alias(name) for name, column in local.items()
    )
    for name in local:
        counted = counted.join(
            numbers.rename({"day": name, "workday_no": f"{name}_no"}), on=name, how="left"
        )
    return counted.with_columns(
        (pl.col("_end_day_no") - pl.col("_start_day_no")).alias("workdays_used")
    ).drop("_start_day", "_end_day", "_start_day_no", "_end_day_no")
