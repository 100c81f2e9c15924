"""How far sealing is behind: since when the longest-waiting closed day could have been sealed.

Read by ``/metrics`` (``bdc_sealing_lag_seconds``) and the 日志封存滞后 alert rule, with
index-only look-ups on the pending store (a scrape or an evaluation never scans it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from console.core.clock import CHINA_TZ, local_day
from console.logs.contract import STREAMS

MAX_DAYS_LOOKED_AT = 62  # pending closed days per stream looked at (normally 0 or 1)
_NEXT_DAY = "SELECT min(day) FROM pending WHERE stream = ? AND day > ? AND day < ?"
_FIRST_RECEIVED = (
    "SELECT received_us FROM pending WHERE rowid ="
    " (SELECT min(rowid) FROM pending WHERE stream = ? AND day = ?)"
)


def day_closed(day: str) -> datetime:
    """When a Beijing-time day ended, in UTC."""
    following = date.fromisoformat(day) + timedelta(days=1)
    return datetime.combine(following, time(), tzinfo=CHINA_TZ).astimezone(UTC)


def _sealable_since(
    db: sqlite3.Connection, stream: str, today: str
) -> Iterator[tuple[str, datetime]]:
    """For each closed day still pending: the day and since when it could have been sealed.

    That is when the day ended, or when its first still-pending event arrived if later (a
    late event for an old day is not "behind" before it arrives).
    """
    day = ""
    for _ in range(MAX_DAYS_LOOKED_AT):
        day = db.execute(_NEXT_DAY, (stream, day, today)).fetchone()[0]
        if day is None:
            return
        first = db.execute(_FIRST_RECEIVED, (stream, day)).fetchone()
        arrived = datetime.fromtimestamp(first[0] / 1e6, UTC) if first else day_closed(day)
        yield day, max(day_closed(day), arrived)


def oldest_unsealed(path: Path, now: datetime) -> tuple[str, datetime] | None:
    """The longest-waiting closed day and since when it was sealable; None when none waits."""
    if not path.exists():
        return None
    today = local_day(now).isoformat()
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=1)
    try:
        waiting = [found for stream in STREAMS for found in _sealable_since(db, stream, today)]
    except sqlite3.OperationalError:  # no pending table yet: nothing was ever stored
        return None
    finally:
        db.close()
    return min(waiting, key=lambda found: found[1], default=None)
