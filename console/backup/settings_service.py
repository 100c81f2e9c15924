"""备份与恢复 settings: targets (secrets SM4-encrypted), the schedule and retention, the history.

The system administrator keeps them; the audit administrator reads the history. Every
change is in the operation log with what it was and what it became (secrets never shown).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from croniter import croniter
from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.backup.models import BackupPolicy, BackupRun, BackupTarget
from console.backup.targets import DirectoryTarget, S3Target, Target, check_endpoint_allowed
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.crypto import keyring
from console.core.errors import NotFound, ValidationFailed
from console.core.outbound import OutboundPolicy
from console.core.paging import Page, PageRequest, paginate
from console.jobs.models import JobRequest

OBJ = "system.backup"
JOB = "backup.run"
KINDS = {"directory": "目录（第二块磁盘或挂载的共享）", "s3": "S3 兼容对象存储"}
RUN_KINDS = {"backup": "备份", "verify": "恢复校验", "restore": "恢复"}
OUTCOMES = {"running": "进行中", "succeeded": "成功", "failed": "失败"}
CRON_HINT = "请填写 5 段 cron 表达式（分 时 日 月 周），如 30 2 * * * 表示每天 2:30"
_NAME = re.compile(r"^[\w\u4e00-\u9fff（）()\-. ]{1,64}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class TargetDraft:
    """A target as the form sends it; an empty secret keeps the stored one."""

    name: str
    kind: str
    location: str
    endpoint: str = ""
    region: str = "us-east-1"
    access_key: str = ""
    secret: str = ""
    enabled: bool = True
    live: bool = False


@dataclass(frozen=True)
class TargetRow:
    """A target as the page lists it (no secret)."""

    id: int
    name: str
    kind: str
    kind_label: str
    location: str
    endpoint: str
    region: str
    access_key: str
    has_secret: bool
    enabled: bool
    live: bool
    live_state: str  # 实时副本: how long ago it last shipped, or its error
    live_ok: bool
    updated: str


@dataclass(frozen=True)
class PolicyView:
    """The schedule and the retention."""

    cron: str
    keep_daily: int
    keep_weekly: int
    keep_monthly: int
    next_run: str


@dataclass(frozen=True)
class RunRow:
    """One run as the history lists it."""

    id: int
    kind: str
    started: str
    outcome: str
    outcome_code: str
    set_id: str
    targets: str
    files: int
    size: str
    seconds: str
    message: str
    actor: str


def target_problems(draft: TargetDraft) -> dict[str, str]:
    """Field → Chinese reason, for the form as the user types and for the service."""
    problems: dict[str, str] = {}
    if not _NAME.fullmatch(draft.name.strip()):
        problems["名称"] = "请填写 1–64 个字的名称"
    if draft.kind not in KINDS:
        problems["类型"] = "请选择目录或 S3 兼容对象存储"
    if draft.kind == "directory" and not draft.location.startswith("/"):
        problems["位置"] = "请填写绝对路径，如 /mnt/backup/bdc"
    if draft.kind == "s3":
        bucket, _, _prefix = draft.location.removeprefix("s3://").partition("/")
        if not _BUCKET.fullmatch(bucket):
            problems["位置"] = "请填写 桶名/前缀，桶名为 3–63 位小写字母、数字、点或连字符"
        if not re.fullmatch(r"https?://[^\s/]+(:\d+)?/?", draft.endpoint.strip()):
            problems["服务地址"] = "请填写对象存储的服务地址，如 https://oss.example.gov.cn"
        if not draft.access_key.strip():
            problems["访问密钥"] = "请填写访问密钥 ID"
    return problems


def _row(target: BackupTarget) -> TargetRow:
    return TargetRow(
        id=int(target.id or 0),
        name=target.name,
        kind=target.kind,
        kind_label=KINDS.get(target.kind, target.kind),
        location=target.location,
        endpoint=target.endpoint,
        region=target.region,
        access_key=target.access_key,
        has_secret=bool(target.secret_enc),
        enabled=target.enabled,
        live=target.live,
        live_state=_live_state(target),
        live_ok=target.live
        and not target.live_error
        and _lag(target) is not None
        and (_lag(target) or 0) <= LIVE_LAG_ALERT_SECONDS,
        updated=f"{target.updated_by} 于 {to_local_text(target.updated_at)}",
    )


LIVE_LAG_ALERT_SECONDS = 60  # RPO: more than a minute behind is shown in red


def _lag(target: BackupTarget) -> float | None:
    return (utcnow() - target.live_at).total_seconds() if target.live_at else None


def _live_state(target: BackupTarget) -> str:
    if not target.live:
        return ""
    if target.live_error:
        return f"实时副本同步失败：{target.live_error}"
    lag = _lag(target)
    if lag is None:
        return "实时副本：等待首次同步"
    return f"实时副本：{max(0, round(lag))} 秒前同步（{to_local_text(target.live_at)}）"


def list_targets(*, session: Session, actor: Actor) -> list[TargetRow]:
    """Every target."""
    authz.require(actor, OBJ, "read")
    return [_row(t) for t in session.exec(select(BackupTarget).order_by(BackupTarget.name))]


def _snapshot(target: BackupTarget) -> dict:
    return {
        "name": target.name,
        "kind": target.kind,
        "location": target.location,
        "endpoint": target.endpoint,
        "access_key": target.access_key,
        "enabled": target.enabled,
        "live": target.live,
    }


def save_target(
    *, session: Session, actor: Actor, draft: TargetDraft, target_id: int | None = None
) -> TargetRow:
    """Create or change a target; the secret is kept SM4-encrypted."""
    authz.require(actor, OBJ, "write")
    problems = target_problems(draft)
    if problems:
        field, reason = next(iter(problems.items()))
        raise ValidationFailed(reason, field=field)
    target = session.get(BackupTarget, target_id) if target_id else BackupTarget()
    if target is None:
        raise NotFound("备份目标不存在")
    clash = session.exec(
        select(BackupTarget).where(BackupTarget.name == draft.name.strip())
    ).first()
    if clash is not None and clash.id != target.id:
        raise ValidationFailed("已有同名的备份目标", field="名称")
    before = _snapshot(target) if target_id else {}
    location = draft.location.strip()
    if draft.kind == "s3" and not location.startswith("s3://"):
        location = f"s3://{location}"
    target.name, target.kind, target.location = draft.name.strip(), draft.kind, location
    target.endpoint = draft.endpoint.strip().rstrip("/") if draft.kind == "s3" else ""
    target.region = draft.region.strip() or "us-east-1"
    target.access_key = draft.access_key.strip() if draft.kind == "s3" else ""
    if draft.secret:
        target.secret_enc = keyring().encrypt(draft.secret)
    if draft.kind != "s3":
        target.secret_enc = ""
    target.enabled = draft.enabled
    target.live = draft.live
    target.updated_by, target.updated_at = actor.account, utcnow()
    session.add(target)
    if session.get(BackupPolicy, 1) is None:  # the default schedule counts from now on
        session.add(BackupPolicy(id=1, updated_by=actor.account))
    session.flush()
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="update_target" if target_id else "create_target",
        target=target.name,
        detail={"before": before, "after": _snapshot(target), "secret_changed": bool(draft.secret)},
    )
    return _row(target)


def delete_target(*, session: Session, actor: Actor, target_id: int) -> None:
    """Remove a target from the list (the sets already written there stay there)."""
    authz.require(actor, OBJ, "write")
    target = session.get(BackupTarget, target_id)
    if target is None:
        raise NotFound("备份目标不存在")
    record(session, actor=actor, obj=OBJ, action="delete_target", target=target.name,
           detail={"before": _snapshot(target)})  # fmt: skip
    session.delete(target)


def open_stored(target: BackupTarget, policy: OutboundPolicy) -> Target:
    """The live target of a stored row (the endpoint checked against the allow-list)."""
    if target.kind == "directory":
        return DirectoryTarget(Path(target.location))
    check_endpoint_allowed(target.endpoint, policy)
    bucket, _, prefix = target.location.removeprefix("s3://").partition("/")
    secret = keyring().decrypt(target.secret_enc) if target.secret_enc else None
    return S3Target(
        bucket=bucket,
        prefix=prefix,
        endpoint=target.endpoint,
        region=target.region,
        access_key=target.access_key or None,
        secret_key=secret,
    )


def enabled_targets(session: Session) -> list[BackupTarget]:
    """The targets the scheduled backup writes to."""
    query = select(BackupTarget).where(BackupTarget.enabled).order_by(BackupTarget.name)
    return list(session.exec(query))


def stored_policy(session: Session) -> BackupPolicy:
    """The policy row (defaults until the administrator saves one)."""
    return session.get(BackupPolicy, 1) or BackupPolicy(id=1)


def next_run(cron: str, now: datetime | None = None) -> datetime:
    """When the schedule fires next."""
    from console.core.clock import CHINA_TZ

    return croniter(cron, (now or utcnow()).astimezone(CHINA_TZ)).get_next(datetime)


def read_policy(*, session: Session, actor: Actor) -> PolicyView:
    """The schedule and the retention."""
    authz.require(actor, OBJ, "read")
    row = stored_policy(session)
    return PolicyView(
        row.cron, row.keep_daily, row.keep_weekly, row.keep_monthly,
        to_local_text(next_run(row.cron)),
    )  # fmt: skip


def policy_problems(cron: str, daily: int, weekly: int, monthly: int) -> dict[str, str]:
    """Field → Chinese reason."""
    problems = {}
    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        problems["备份时间"] = CRON_HINT
    for label, value, high in (("保留日备份", daily, 90), ("保留周备份", weekly, 52),
                               ("保留月备份", monthly, 120)):  # fmt: skip
        if not 0 <= value <= high:
            problems[label] = f"应在 0 到 {high} 之间"
    if daily + weekly + monthly < 1:
        problems["保留日备份"] = "至少保留一个备份集"
    return problems


def save_policy(
    *, session: Session, actor: Actor, cron: str, daily: int, weekly: int, monthly: int
) -> PolicyView:
    """Change the schedule or the retention."""
    authz.require(actor, OBJ, "write")
    problems = policy_problems(cron.strip(), daily, weekly, monthly)
    if problems:
        field, reason = next(iter(problems.items()))
        raise ValidationFailed(reason, field=field)
    row = stored_policy(session)
    before = {"cron": row.cron, "daily": row.keep_daily, "weekly": row.keep_weekly,
              "monthly": row.keep_monthly}  # fmt: skip
    row.cron, row.keep_daily, row.keep_weekly, row.keep_monthly = (
        cron.strip(),
        daily,
        weekly,
        monthly,
    )
    row.updated_by, row.updated_at = actor.account, utcnow()
    session.add(row)
    after = {"cron": row.cron, "daily": daily, "weekly": weekly, "monthly": monthly}
    record(session, actor=actor, obj=OBJ, action="update_policy", target="backup_policy",
           detail={"before": before, "after": after})  # fmt: skip
    return read_policy(session=session, actor=actor)


def request_now(*, session: Session, actor: Actor, kind: str) -> None:
    """立即备份 / 立即校验: the scheduler's leader starts it within a minute.

    Raises:
        ValidationFailed: one is already waiting, or no target is enabled.
    """
    authz.require(actor, OBJ, "execute", target=kind)
    if kind not in {"backup", "verify"}:
        raise ValidationFailed("未知的操作", field="操作")
    if not enabled_targets(session):
        raise ValidationFailed("请先添加并启用至少一个备份目标", field="备份目标")
    row = stored_policy(session)
    if row.requested:
        raise ValidationFailed("已提交，正在等待调度器执行", field="操作")
    row.requested, row.requested_by = kind, actor.account
    session.add(row)
    # The leader picks a job request up within seconds (not at the job's next minute).
    waiting = select(JobRequest).where(JobRequest.job == JOB, JobRequest.picked_at.is_(None))
    if session.exec(waiting).first() is None:
        session.add(JobRequest(job=JOB, requested_by=actor.account))
    record(session, actor=actor, obj=OBJ, action=f"request_{kind}", target="backup_policy")


def _size(value: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


def _checks(run: BackupRun) -> list[dict]:
    """A verification's checks as recorded (name, passed, detail)."""
    try:
        return json.loads(run.checks) if run.checks else []
    except json.JSONDecodeError:
        return []


def _run_row(run: BackupRun) -> RunRow:
    return RunRow(
        id=int(run.id or 0),
        kind=RUN_KINDS.get(run.kind, run.kind),
        started=to_local_text(run.started_at),
        outcome=OUTCOMES.get(run.outcome, run.outcome),
        outcome_code=run.outcome,
        set_id=run.set_id,
        targets=run.targets,
        files=run.files,
        size=_size(run.bytes),
        seconds=f"{run.seconds:.1f} 秒" if run.finished_at else "—",
        message=run.message,
        actor=run.actor,
    )


def list_runs(
    *, session: Session, actor: Actor, request: PageRequest, kind: str = "", outcome: str = ""
) -> Page[RunRow]:
    """The history, newest first, filtered by kind and outcome."""
    authz.require(actor, OBJ, "read")
    query = select(BackupRun).order_by(sa.desc(BackupRun.started_at), sa.desc(BackupRun.id))
    if kind:
        query = query.where(BackupRun.kind == kind)
    if outcome:
        query = query.where(BackupRun.outcome == outcome)
    rows, total = paginate(session, query, request)
    return Page([_run_row(r) for r in rows], total, request.page, request.size)


@dataclass(frozen=True)
class Overview:
    """The top of the page: can runs happen, and the newest verified restore."""

    passphrase_ready: bool
    passphrase_problem: str
    running: bool
    last_verified: RunRow | None
    last_checks: list[dict]


def overview(*, session: Session, actor: Actor) -> Overview:
    """Whether a passphrase is configured, whether a run is on, the last verified restore."""
    from console.backup.runs import configured_passphrase
    from console.core.errors import UserError

    authz.require(actor, OBJ, "read")
    try:
        configured_passphrase()
        ready, problem = True, ""
    except UserError as error:
        ready, problem = False, str(error)
    running = session.exec(select(BackupRun).where(BackupRun.outcome == "running")).first()
    waiting = bool(stored_policy(session).requested)
    verified = _last_verified(session)
    return Overview(
        ready, problem, running is not None or waiting,
        _run_row(verified) if verified else None, _checks(verified) if verified else [],
    )  # fmt: skip


def _last_verified(session: Session) -> BackupRun | None:
    """The newest verification that passed."""
    query = (
        select(BackupRun)
        .where(BackupRun.kind == "verify", BackupRun.outcome == "succeeded")
        .order_by(sa.desc(BackupRun.started_at))
    )
    return session.exec(query).first()


def verified_sets(session: Session) -> set[str]:
    """Sets a verification passed for (pruning keeps at least one of them)."""
    query = select(BackupRun.set_id).where(
        BackupRun.kind == "verify", BackupRun.outcome == "succeeded"
    )
    return set(session.exec(query))
