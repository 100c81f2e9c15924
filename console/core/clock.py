"""One source of the current time, always timezone-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

CHINA_TZ = ZoneInfo("Asia/Shanghai")
# China has kept UTC+8 without daylight saving since this moment; from then on the local day
# of a UTC moment is plain arithmetic (ingestion asks for it per event, zoneinfo is slow).
_FIXED_OFFSET_SINCE = datetime(1991, 9, 17, tzinfo=UTC)
_CHINA_OFFSET = timedelta(hours=8)


def utcnow() -> datetime:
    """Current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def local_day(moment: datetime | None = None) -> date:
    """The Asia/Shanghai calendar day of ``moment`` (now by default): the day logs belong to."""
    moment = moment or utcnow()
    if moment.tzinfo is UTC and moment >= _FIXED_OFFSET_SINCE:
        return (moment + _CHINA_OFFSET).date()
    return moment.astimezone(CHINA_TZ).date()


def to_local_text(moment: datetime | None) -> str:
    """Format a UTC moment as Beijing time for display, e.g. ``2026-11-27 15:48``."""
    if moment is None:
        return "—"
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def local_day_expr(column: str = "ts") -> pl.Expr:
    """``local_day`` for a column of UTC moments in a Polars frame (named ``day``)."""
    return pl.col(column).dt.convert_time_zone(CHINA_TZ.key).dt.date().alias("day")
