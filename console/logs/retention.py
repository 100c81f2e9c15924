"""Retention: whole days older than the retention (never under 365 days) are purged and logged.

Nobody can delete anything younger: there is no other delete path into the lake. The overview
tells the auditor, per stream, what is held, month by month, which days are missing, and when
the next purge will happen.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import local_day
from console.core.errors import Forbidden
from console.core.settings import get_settings
from console.logs import case_index
from console.logs.contract import STREAM_LABELS, STREAMS
from console.logs.rollup import drop_day
from console.logs.seal import PURGE_PREFIX, lake_lock, read_chain, record_purge, verify
from console.logs.store import store_for
from console.tenancy.scope import scope_of

OBJ = "audit.logs"
MISSING_DAYS_SHOWN = 31
SYSTEM = Actor(user_id=0, account="system", display_name="系统", tenant_code="", session_id=0)


@dataclass(frozen=True)
class Purged:
    """A whole day deleted after retention."""

    stream: str
    day: str
    rows: int


def _held_days(lake: Path, stream: str) -> dict[str, int]:
    """Rows per sealed day still held (purged days excluded)."""
    held: Counter[str] = Counter()
    purged: set[str] = set()
    for entry in read_chain(lake, stream):
        if entry.file.startswith(PURGE_PREFIX):
            purged.add(entry.day)
        else:
            held[entry.day] += entry.rows
    return {day: rows for day, rows in held.items() if day not in purged}


def purge_expired(
    *, session: Session, lake: Path, today: date, retention_days: int
) -> list[Purged]:
    """Delete whole days older than ``retention_days``; chain and log each purge.

    Raises:
        ValueError: a retention under 365 days (settings refuse it too; this is the last guard).
    """
    if retention_days < 365:
        raise ValueError("retention below 365 days")
    with lake_lock(lake):
        return _purge(session, lake, today, retention_days)


def _purge(session: Session, lake: Path, today: date, retention_days: int) -> list[Purged]:
    oldest_kept = (today - timedelta(days=retention_days)).isoformat()
    purged: list[Purged] = []
    for stream in STREAMS:
        for day, rows in sorted(_held_days(lake, stream).items()):
            if day >= oldest_kept:
                break
            shutil.rmtree(lake / stream / f"date={day}", ignore_errors=True)
            drop_day(lake, stream, day)
            case_index.drop_day(lake, day)
            record_purge(lake, stream, day, rows)
            record(
                session,
                actor=SYSTEM,
                obj=OBJ,
                action="purge",
                target=f"{stream}/{day}",
                tenant=get_settings().province_code,
                detail={"rows": rows, "retention_days": retention_days},
            )
            purged.append(Purged(stream, day, rows))
    return purged


def _province_only(actor: Actor) -> None:
    """Holdings and integrity cover every county's logs: province-wide readers only."""
    if not scope_of(actor).all_tenants:
        raise Forbidden("日志保全涵盖全省各区县的日志，仅限省级审计人员查看")


@dataclass(frozen=True)
class StreamRetention:
    """What one stream holds."""

    stream: str
    label: str
    earliest: str
    days_held: int
    rows: int
    pending: int
    months: list[tuple[str, int]]
    missing_days: list[str]
    missing_total: int
    next_purge: str


def _missing(days: set[str], first: date, last: date) -> list[str]:
    missing, day = [], first
    while day <= last:
        if day.isoformat() not in days:
            missing.append(day.isoformat())
        day += timedelta(days=1)
    return missing


def retention_overview(
    *, session: Session, actor: Actor, now: datetime | None = None
) -> list[StreamRetention]:
    """Per stream: earliest day held, monthly counts, missing days, the next purge."""
    authz.require(actor, OBJ, "read", target="retention")
    _province_only(actor)
    settings = get_settings()
    lake = settings.lake_dir
    today = local_day(now)
    store = store_for(lake)
    overview = []
    for stream in STREAMS:
        held = _held_days(lake, stream)
        months: Counter[str] = Counter()
        for day, rows in held.items():
            months[day[:7]] += rows
        earliest = min(held) if held else ""
        missing = (
            _missing(set(held), date.fromisoformat(earliest), today - timedelta(days=1))
            if earliest
            else []
        )
        next_purge = (
            (
                date.fromisoformat(earliest) + timedelta(days=settings.log_retention_days + 1)
            ).isoformat()
            if earliest
            else "—"
        )
        overview.append(
            StreamRetention(
                stream=stream,
                label=STREAM_LABELS[stream],
                earliest=earliest or "—",
                days_held=len(held),
                rows=sum(held.values()),
                pending=store.count(stream),
                months=sorted(months.items()),
                missing_days=missing[::-1][:MISSING_DAYS_SHOWN],  # most recent first
                missing_total=len(missing),
                next_purge=next_purge,
            )
        )
    return overview


@dataclass(frozen=True)
class IntegrityReport:
    """The outcome of a full integrity check."""

    checked_parts: int
    breaks: list[tuple[str, str, str, str]]  # stream label, day, file, reason


def check_integrity(*, session: Session, actor: Actor) -> IntegrityReport:
    """Recompute every sealed file's SM3 digest and the chain (the check is logged)."""
    authz.require(actor, OBJ, "read", target="integrity")
    _province_only(actor)
    lake = get_settings().lake_dir
    breaks = verify(lake)
    parts = 0
    for stream in STREAMS:
        chain = read_chain(lake, stream)
        purged = {e.day for e in chain if e.file.startswith(PURGE_PREFIX)}
        parts += sum(1 for e in chain if e.day not in purged)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="verify",
        target="integrity",
        detail={"parts": parts, "breaks": len(breaks)},
    )
    return IntegrityReport(
        parts, [(STREAM_LABELS[b.stream], b.day, b.file, b.reason) for b in breaks]
    )
