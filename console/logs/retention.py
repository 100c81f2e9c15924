"""Retention: whole days older than the retention (never under 365 days) are purged and logged.

Nobody can delete anything younger: there is no other delete path into the lake. The overview
tells the auditor, per stream, what is held, month by month, which days are missing, and when
the next purge will happen.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import local_day, to_local_text
from console.core.errors import Forbidden
from console.core.settings import get_settings
from console.logs import case_index, catalogue, lake_table, pending
from console.logs.chain import SYSTEM, held_parts, read_chain, record_purge, verify
from console.logs.contract import STREAM_LABELS, STREAMS
from console.logs.models import Verification
from console.logs.rollup import ROLLUPS_OF
from console.logs.seal import lake_lock
from console.logs.store import store_for
from console.tenancy.scope import scope_of

OBJ = "audit.logs"
MISSING_DAYS_SHOWN = 31


@dataclass(frozen=True)
class Purged:
    """A whole day deleted after retention."""

    stream: str
    day: str
    rows: int


def _held_days(lake: Path, stream: str) -> dict[str, int]:
    """Rows per sealed day still held (purged days excluded)."""
    held: Counter[str] = Counter()
    for entry in held_parts(read_chain(lake, stream)):
        held[entry.day] += entry.rows
    return dict(held)


def purge_expired(
    *, session: Session, lake: Path, today: date, retention_days: int
) -> list[Purged]:
    """Delete whole days older than ``retention_days``; chain and log each purge.

    Raises:
        ValueError: a retention under 365 days (settings refuse it too; this is the last guard).
    """
    if retention_days < 365:
        raise ValueError("retention below 365 days")
    catalogue.prepare(lake)
    with lake_lock(lake), pending.sealing(pending.ingest_path(lake)) as db:
        return _purge(session, lake, db, today, retention_days)


def _retire_day(db: sqlite3.Connection, stream: str, day: str) -> None:
    """Out of every later snapshot at once; the files go when the grace period is over.

    In table mode the day leaves the stream's table first; readers switch to the snapshot
    without it in the same transaction that retires its files.
    """
    tables = lake_table.configured()
    head = None
    if tables is not None and lake_table.head(db, stream) is not None:
        head = lake_table.drop_days(tables, stream, [day])
    with pending.write(db):
        catalogue.retire(db, catalogue.PART, stream, day)
        for name in ROLLUPS_OF[stream]:
            catalogue.retire(db, catalogue.ROLLUP, name, day)
        if head is not None:
            lake_table.set_head(db, stream, head)


def _retire_purged(db: sqlite3.Connection, lake: Path, stream: str) -> None:
    """Retire what the chain says was purged but readers still see (a purge cut short)."""
    held = {f"{stream}/{entry.file}" for entry in held_parts(read_chain(lake, stream))}
    for day, file in catalogue.current(db, catalogue.PART, stream):
        if file not in held:
            _retire_day(db, stream, day)


def _purge(
    session: Session, lake: Path, db: sqlite3.Connection, today: date, retention_days: int
) -> list[Purged]:
    oldest_kept = (today - timedelta(days=retention_days)).isoformat()
    purged: list[Purged] = []
    for stream in STREAMS:
        _retire_purged(db, lake, stream)
        for day, rows in sorted(_held_days(lake, stream).items()):
            if day >= oldest_kept:
                break
            # The chain line first: a crash after it leaves a purged day still readable (put
            # right by the next purge), never files deleted with no purge on record.
            record_purge(lake, stream, day, rows)
            _retire_day(db, stream, day)
            case_index.drop_day(lake, day)
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
    catalogue.sweep(db, lake)
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
    missing_days: list[str]  # had events (chained as sealed) and no sealed file now
    missing_total: int
    next_purge: str
    no_data_days: list[str] = field(default_factory=list)  # no event ever arrived for them
    no_data_total: int = 0


def _present_and_waiting(lake: Path, stream: str) -> tuple[set[str], set[str]]:
    """Days whose current sealed files are all on disk; days with events awaiting sealing."""
    with catalogue.snapshot(lake) as snap:
        current, _retired = snap.part_files(stream)
        waiting = snap.pending_days(stream)
    days = {day for day, _ in current}
    gone = {day for day, file in current if not (lake / file).exists()}
    return days - gone, waiting


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
        present, waiting = _present_and_waiting(lake, stream)
        # A day the chain sealed whose file is gone lost events; a day with nothing chained
        # and nothing waiting never had any (无数据) — it is not missing.
        missing = sorted(day for day in held if day not in present)
        no_data = (
            _missing(set(held) | waiting, date.fromisoformat(earliest), today - timedelta(days=1))
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
                no_data_days=no_data[::-1][:MISSING_DAYS_SHOWN],
                no_data_total=len(no_data),
            )
        )
    return overview


@dataclass(frozen=True)
class IntegrityReport:
    """The outcome of a full integrity check."""

    checked_parts: int
    breaks: list[tuple[str, str, str, str]]  # stream label, day, file, reason


BREAKS_KEPT = 5


def verify_and_keep(session: Session, *, checked_by: str) -> IntegrityReport:
    """Verify the lake and keep the outcome for the 日志保全 page (the caller logs who asked)."""
    lake = get_settings().lake_dir
    with lake_lock(lake):  # no seal half-written while the chain is read
        breaks = verify(lake)
    parts = sum(len(held_parts(read_chain(lake, stream))) for stream in STREAMS)
    shown = [(STREAM_LABELS[b.stream], b.day, b.file, b.reason) for b in breaks]
    summary = "；".join(f"[{label}] {day} {file}：{reason}" for label, day, file, reason in
                       shown[:BREAKS_KEPT])  # fmt: skip
    session.add(Verification(checked_by=checked_by, parts=parts, breaks=len(breaks),
                             summary=summary[:2000]))  # fmt: skip
    return IntegrityReport(parts, shown)


@dataclass(frozen=True)
class LastVerification:
    """The latest integrity check, as the page states it."""

    when: str
    by: str
    ok: bool
    text: str


def last_verification(*, session: Session, actor: Actor) -> LastVerification | None:
    """The latest check (daily job or auditor), or None before the first."""
    authz.require(actor, OBJ, "read", target="integrity")
    _province_only(actor)
    latest = session.exec(
        select(Verification).order_by(col(Verification.checked_at).desc()).limit(1)
    ).first()
    if latest is None:
        return None
    text = (
        f"{latest.parts} 个封存文件全部与校验链一致"
        if not latest.breaks
        else f"发现 {latest.breaks} 处异常：{latest.summary}"
    )
    return LastVerification(to_local_text(latest.checked_at), latest.checked_by,
                            latest.breaks == 0, text)  # fmt: skip


def check_integrity(*, session: Session, actor: Actor) -> IntegrityReport:
    """Recompute every sealed file's SM3 digest and the chain (the check is logged)."""
    authz.require(actor, OBJ, "read", target="integrity")
    _province_only(actor)
    report = verify_and_keep(session, checked_by=actor.account)
    parts, breaks = report.checked_parts, report.breaks
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="verify",
        target="integrity",
        detail={"parts": parts, "breaks": len(breaks)},
    )
    return report
