"""The backup job: at the stored schedule (or when 立即备份 / 立即校验 asked), on the leader."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from croniter import croniter
from sqlmodel import select

from console.backup import live, retention, runs, sets, wal
from console.backup.models import BackupPolicy, BackupRun, BackupTarget
from console.backup.settings_service import (
    enabled_targets,
    open_stored,
    stored_policy,
    verified_sets,
)
from console.backup.targets import Target
from console.core.actor import Actor
from console.core.clock import CHINA_TZ, to_local_text
from console.core.db import session_scope
from console.core.errors import UserError
from console.core.settings import get_settings
from console.iam.outbound_service import policy as outbound_policy
from console.jobs.registry import JobFailed, scheduled
from console.jobs.timing import every

SCHEDULER = Actor(
    user_id=0, account="system", display_name="系统（定时备份）", tenant_code="", session_id=0
)


def _last_fire(cron: str, now: datetime) -> datetime:
    start = now.astimezone(CHINA_TZ).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return croniter(cron, start).get_prev(datetime)


def _schedule_counts_from(session: sa.orm.Session) -> datetime | None:
    """The last scheduled start, or when the schedule was set if later; None: never set.

    A schedule fires at its next time after it was saved (or after the first target was
    added) — never at once, in the middle of the working day, because it was just saved.
    """
    saved = session.get(BackupPolicy, 1)
    if saved is None:
        return None
    query = (
        select(BackupRun.started_at)
        .where(BackupRun.kind == "backup", BackupRun.actor == SCHEDULER.account)
        .order_by(sa.desc(BackupRun.started_at))
    )
    last = session.exec(query).first()
    return saved.updated_at if last is None else max(last, saved.updated_at)


def _take_request() -> tuple[str, str]:
    """A waiting 立即备份 / 立即校验 (taken, so it runs once) and who asked."""
    with session_scope() as session:
        row = stored_policy(session)
        asked, by = row.requested, row.requested_by
        if asked:
            row.requested, row.requested_by = "", ""
            session.add(row)
    return asked, by


@scheduled(
    name="backup.run",
    label="定时备份与恢复校验",
    trigger=every(minutes=1),
    deadline_seconds=6 * 3600,
    idempotent=False,
)
def backup_when_due(now: datetime) -> str:
    """Back up (then verify by restoring, then prune) when the schedule or a request says so."""
    asked, by = _take_request()
    with session_scope() as session:
        row = stored_policy(session)
        stored = enabled_targets(session)
        since = _schedule_counts_from(session)
        keep = (row.keep_daily, row.keep_weekly, row.keep_monthly)
        cron = row.cron
    if not asked and (since is None or since >= _last_fire(cron, now)):
        upcoming = croniter(cron, now.astimezone(CHINA_TZ)).get_next(datetime)
        return f"未到备份时间（下次 {to_local_text(upcoming)}）"
    if not stored:
        if asked:
            raise JobFailed("未配置备份目标：请在 系统设置 → 备份与恢复 中添加")
        return "未配置备份目标"
    actor = _requester(by) if by else SCHEDULER
    try:
        passphrase = runs.configured_passphrase()
        allowed = outbound_policy()
        targets = [open_stored(t, allowed) for t in stored]
        if asked == "verify":
            outcome = runs.verify_set(
                target=targets[0], set_id="latest", passphrase=passphrase, actor=actor
            )
        else:
            outcome = runs.back_up(
                targets=targets,
                passphrase=passphrase,
                actor=actor,
                then=lambda: _prune(targets, passphrase, keep),
            )
    except UserError as error:
        raise JobFailed(str(error)) from None
    if not outcome.passed:
        raise JobFailed(f"备份集 {outcome.set_id}：{outcome.message}")
    return f"备份集 {outcome.set_id}：{outcome.message}"


def _requester(account: str) -> Actor:
    """Who pressed 立即备份 / 立即校验: named in the run and the operation log."""
    return Actor(
        user_id=0, account=account[:64], display_name=f"{account}（立即执行）", tenant_code="",
        session_id=0,
    )  # fmt: skip


def _prune(targets: list[Target], passphrase: str, keep: tuple[int, int, int]) -> None:
    with session_scope() as session:
        verified = verified_sets(session)
    daily, weekly, monthly = keep
    for target in targets:
        with sets.scratch_dir() as folder:
            scratch = Path(folder)
            key = sets.open_existing(target, passphrase, scratch)
            kept = retention.choose(
                sets.set_ids(target), daily=daily, weekly=weekly, monthly=monthly, verified=verified
            )
            retention.prune(target, key, kept, scratch)


@scheduled(
    name="backup.live",
    label="异地实时备份",
    trigger=every(seconds=15),
    deadline_seconds=10 * 60,
    idempotent=True,
)
def ship_live(now: datetime) -> str:
    """Ship the databases' changes and every new sealed file to the 实时副本 targets."""
    try:
        return live_once()
    except UserError as error:
        raise JobFailed(str(error)) from None


def live_once() -> str:
    """One shipping pass to every enabled 实时副本 target (the job and ``backup-live``).

    Raises:
        UserError: no passphrase, Litestream failed, or a target failed (each named).
    """
    with session_scope() as session:
        stored = [target for target in enabled_targets(session) if target.live]
    if not stored:
        live.stop_replicating(get_settings())  # nothing wants a live copy any more
        return "未启用实时副本"
    try:
        passphrase = runs.configured_passphrase()
        settings = get_settings()
        live.sync_databases(settings)
    except UserError as error:
        _note_live([t.id for t in stored], None, str(error))
        raise
    allowed, done, failed, opened = outbound_policy(), [], [], []
    for row in stored:
        try:
            target = open_stored(row, allowed)
            with sets.scratch_dir(live.live_folder(settings)) as folder:
                scratch = Path(folder)
                key = sets.open_or_create(target, passphrase, scratch)
                shipped = live.ship(target=target, key=key, settings=settings, scratch=scratch)
        except UserError as error:
            _note_live([row.id], None, str(error))
            failed.append(f"{row.name}：{error}")
            continue
        opened.append((target, key))
        _note_live([row.id], shipped.shipped_at, "")
        done.append(f"{row.name} 新增 {shipped.uploaded} 个文件")
    if failed:
        raise UserError("；".join(failed))
    if settings.wal_spool_dir:  # PostgreSQL's archived WAL, once every target is reachable
        segments = wal.ship_spool(opened, Path(settings.wal_spool_dir))
        done.append(f"WAL 段 {segments} 个")
    return "；".join(done)


def _note_live(ids: list[int | None], shipped_at: datetime | None, error: str) -> None:
    """The page's lag and last error per target."""
    with session_scope() as session:
        for target_id in ids:
            row = session.get(BackupTarget, target_id)
            if row is None:
                continue
            if shipped_at is not None:
                row.live_at = shipped_at
            row.live_error = error[:500]
            session.add(row)
