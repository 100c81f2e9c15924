"""One source of the current time, always timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def to_local_text(moment: datetime | None) -> str:
    """Format a UTC moment as Beijing time for display, e.g. ``2026-11-27 15:48``."""
    if moment is None:
        return "—"
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
