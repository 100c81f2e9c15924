"""The log lake's system jobs: seal closed days, purge expired ones, verify the chain."""

from __future__ import annotations

from datetime import datetime

from console.core.clock import local_day
from console.core.db import session_scope
from console.core.settings import get_settings
from console.jobs.registry import JobFailed, scheduled
from console.jobs.timing import daily, every
from console.logs.catalogue import snapshot
from console.logs.open_cases import sealed_open_cases
from console.logs.quarantine_service import purge_quarantine
from console.logs.retention import purge_expired, verify_and_keep
from console.logs.seal import Pieces
from console.logs.store import store_for


@scheduled(
    name="logs.seal",
    label="日志封存",
    trigger=every(seconds=15),
    deadline_seconds=15 * 60,
    idempotent=True,
)
def seal_logs(now: datetime) -> str:
    """Seal the pending events of closed days, then bring the kept open cases up to date."""
    lake = get_settings().lake_dir
    pieces = Pieces.configured()
    sealed = store_for(lake).seal(lake=lake, now=now, pieces=pieces)
    # Up to the newly sealed day now, not at a reader's first look.
    with snapshot(lake) as snap:
        sealed_open_cases(snap, pieces)
    rows = sum(entry.rows for entry in sealed)
    if not sealed and not pieces.count:
        return "没有待封存的已结束日期"
    return f"封存 {len(sealed)} 个文件，{rows} 条；{pieces.summary()}"


@scheduled(
    name="logs.purge",
    label="过期日志清理",
    trigger=daily(3, 30),
    deadline_seconds=30 * 60,
    idempotent=False,
)
def purge_logs(now: datetime) -> str:
    """Delete whole days past the retention (each purge is chained and in the operation log)."""
    settings = get_settings()
    with session_scope() as session:
        purged = purge_expired(
            session=session,
            lake=settings.lake_dir,
            today=local_day(now),
            retention_days=settings.log_retention_days,
        )
    if not purged:
        return f"没有超过保留期（{settings.log_retention_days} 天）的日志"
    return f"删除 {len(purged)} 个日志日，{sum(p.rows for p in purged)} 条"


@scheduled(
    name="logs.verify",
    label="日志完整性校验",
    trigger=daily(4, 0),
    deadline_seconds=60 * 60,
    idempotent=True,
)
def verify_logs(now: datetime) -> str:
    """Check every sealed file and the keyed chain; kept for 日志保全, a break fails the run."""
    with session_scope() as session:
        report = verify_and_keep(session, checked_by="系统（每日校验）")
    if report.breaks:
        shown = "；".join(
            f"[{label}] {day} {file}：{reason}" for label, day, file, reason in report.breaks[:5]
        )
        raise JobFailed(
            f"发现 {len(report.breaks)} 处异常，日志可能被篡改，请立即报告安全管理员：{shown}"
        )
    return f"{report.checked_parts} 个封存文件全部与校验链一致"


@scheduled(
    name="logs.purge_quarantine",
    label="拒收记录清理",
    trigger=daily(3, 45),
    deadline_seconds=10 * 60,
    idempotent=True,
)
def purge_rejected_lines(now: datetime) -> str:
    """Delete refused pushed lines older than their retention."""
    days = get_settings().quarantine_retention_days
    with session_scope() as session:
        deleted = purge_quarantine(session=session, now=now)
    return (
        f"删除 {deleted} 条超过 {days} 天的拒收记录" if deleted else f"没有超过 {days} 天的拒收记录"
    )
