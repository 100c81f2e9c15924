"""Sharing tasks: definitions, the outbox, executions with progress, re-runs and schedules.

A task pushes the records queued in its outbox to an outbound interface, in batches. The
worker (``execute_run``) works in short transactions of its own, one per batch, so the
progress of a run is visible while it runs and a failure keeps what was already delivered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from croniter import croniter
from sqlmodel import Session, select

from console.audit.models import Outcome
from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import CHINA_TZ, to_local_text, utcnow
from console.core.db import session_scope
from console.core.errors import NotFound, ValidationFailed
from console.core.outbound import OutboundRefused, fetch
from console.core.paging import Page, PageRequest, contains, paginate
from console.core.settings import get_settings
from console.iam import outbound_service
from console.iam.models import User
from console.interfaces.models import (
    TASK_STATUS,
    InterfaceDef,
    SharingOutbox,
    SharingTask,
    TaskRun,
)
from console.interfaces.outbox import (
    insert_ignoring_duplicates,
    mark_failed,
    open_payload,
    seal_payload,
)
from console.tenancy.models import Tenant
from console.tenancy.scope import ensure_visible, scope_of
from console.tenancy.service import tenant_labels

OBJ = "interfaces.tasks"
PROVINCE_WIDE = ""
SYSTEM_ACCOUNT = "system"
MAX_BATCH_SIZE = 5000
TRIGGERS = {"manual": "手动", "schedule": "定时", "rerun": "重新执行"}
CRON_HINT = "应为 5 段 cron 表达式，如 0 2 * * *（每日 02:00）"
_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_MAX_ERROR = 1000
PUSH_ANSWER_BYTES = 4096  # only the status matters; the rest of the answer is not read


@dataclass(frozen=True)
class TaskDraft:
    """Fields of a new or edited task."""

    code: str
    name: str
    interface_id: int
    schedule: str = ""
    batch_size: int = 100
    enabled: bool = True
    description: str = ""
    tenant_code: str = PROVINCE_WIDE


@dataclass(frozen=True)
class TaskRow:
    """A task as the table shows it."""

    id: int
    code: str
    name: str
    interface_id: int
    interface_name: str
    tenant_code: str
    tenant: str  # 全省, or 名称（代码）
    schedule: str
    batch_size: int
    enabled: bool
    description: str
    last_status: str
    last_status_label: str
    last_run_at: str
    pending: int
    next_run_at: str


@dataclass(frozen=True)
class RunRow:
    """One execution as the monitoring table shows it."""

    id: int
    task_id: int
    task_code: str
    task_name: str
    status: str
    status_label: str
    trigger: str
    trigger_label: str
    rerun_of: int | None
    total: int
    processed: int
    progress: int
    error: str
    actor_account: str
    started_at: str
    finished_at: str
    duration_ms: int | None
    duration: str


# --- validation -------------------------------------------------------------------------


def schedule_problem(schedule: str) -> str:
    """Why ``schedule`` cannot be a task's schedule, or "" (empty = run by hand only)."""
    if not schedule.strip():
        return ""
    # croniter also takes 6-7 fields (seconds, years) and @daily; the page explains 5 fields.
    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        return CRON_HINT
    return ""


def _check_fields(draft: TaskDraft) -> None:
    if not _CODE.fullmatch(draft.code):
        raise ValidationFailed(
            "应为 2-64 位小写字母、数字、点、下划线或连字符，以字母或数字开头", field="编码"
        )
    if not 1 <= len(draft.name.strip()) <= 128:
        raise ValidationFailed("应为 1 到 128 个字", field="名称")
    if problem := schedule_problem(draft.schedule):
        raise ValidationFailed(problem, field="执行计划")
    if not 1 <= draft.batch_size <= MAX_BATCH_SIZE:
        raise ValidationFailed(f"应在 1 到 {MAX_BATCH_SIZE} 之间", field="每批条数")
    if len(draft.description) > 500:
        raise ValidationFailed("最多 500 个字", field="说明")


def _check_interface(session: Session, draft: TaskDraft) -> None:
    interface = session.get(InterfaceDef, draft.interface_id)
    if interface is None:
        raise ValidationFailed("接口不存在", field="接口")
    if interface.direction != "outbound":
        raise ValidationFailed(f"「{interface.name}」是接入接口，不能用于共享推送", field="接口")
    if not interface.endpoint_url.strip():
        raise ValidationFailed("接口未登记地址，无法推送", field="接口")
    if interface.tenant_code not in (PROVINCE_WIDE, draft.tenant_code):
        raise ValidationFailed("只能选择全省或本区县登记的接口", field="接口")


def _check_tenant(session: Session, actor: Actor, tenant_code: str, target: str) -> None:
    """Province-wide tasks belong to the province; a county task to a county in scope."""
    if tenant_code == PROVINCE_WIDE:
        if not scope_of(actor).all_tenants:
            raise ValidationFailed("全省共享任务只能由省级管理员维护和执行", field="适用范围")
        return
    if session.get(Tenant, tenant_code) is None:
        raise ValidationFailed(f"租户 {tenant_code} 不存在", field="适用范围")
    ensure_visible(actor, tenant_code, obj=OBJ, action="write", target=target)


# --- definitions ------------------------------------------------------------------------


def _visible(actor: Actor) -> sa.ColumnElement[bool]:
    """Province-wide tasks plus the tasks of the tenants in the actor's scope."""
    scope = scope_of(actor)
    if scope.all_tenants:
        return sa.true()
    return SharingTask.tenant_code.in_([PROVINCE_WIDE, *sorted(scope.codes)])  # type: ignore[attr-defined]


def task_for(session: Session, actor: Actor | None, task_id: int, action: str) -> SharingTask:
    """The task, after the actor's scope and permission for ``action`` are checked.

    ``actor`` None is the scheduler, which acts for the system and is not checked.
    """
    task = session.get(SharingTask, task_id)
    if task is None:
        raise NotFound("共享任务不存在")
    if actor is None:
        return task
    if task.tenant_code:
        ensure_visible(actor, task.tenant_code, obj=OBJ, action=action, target=task.code)
    elif action != "read" and not scope_of(actor).all_tenants:
        raise ValidationFailed("全省共享任务只能由省级管理员维护和执行", field="适用范围")
    authz.require(actor, OBJ, action, tenant=task.tenant_code or None, target=task.code)
    return task


def _snapshot(task: SharingTask) -> dict[str, object]:
    return {
        "code": task.code,
        "name": task.name,
        "interface_id": task.interface_id,
        "tenant_code": task.tenant_code,
        "schedule": task.schedule,
        "batch_size": task.batch_size,
        "enabled": task.enabled,
        "description": task.description,
    }


def _log(
    session: Session,
    actor: Actor,
    task: SharingTask,
    action: str,
    detail: dict[str, object],
    outcome: Outcome = Outcome.SUCCESS,
) -> None:
    record(
        session,
        actor=actor,
        obj=OBJ,
        action=action,
        outcome=outcome,
        target=task.code,
        tenant=task.tenant_code or None,
        detail=detail,
    )


def create_task(*, session: Session, actor: Actor, draft: TaskDraft) -> TaskRow:
    """Define a task: province-wide, or (``draft.tenant_code``) one county's."""
    # Scope first: another county's code is answered as unknown, like its rows.
    _check_tenant(session, actor, draft.tenant_code, draft.code)
    authz.require(actor, OBJ, "write", tenant=draft.tenant_code or None, target=draft.code)
    _check_fields(draft)
    _check_interface(session, draft)
    if session.exec(select(SharingTask.id).where(SharingTask.code == draft.code)).first():
        raise ValidationFailed(f"编码 {draft.code} 已存在", field="编码")
    task = SharingTask(
        code=draft.code,
        name=draft.name.strip(),
        interface_id=draft.interface_id,
        tenant_code=draft.tenant_code,
        schedule=" ".join(draft.schedule.split()),
        batch_size=draft.batch_size,
        enabled=draft.enabled,
        description=draft.description,
    )
    session.add(task)
    session.flush()
    _log(session, actor, task, "create", {"after": _snapshot(task)})
    return _task_rows(session, [task])[0]


def update_task(*, session: Session, actor: Actor, task_id: int, draft: TaskDraft) -> TaskRow:
    """Edit a task; its code and scope identify it and stay as they are."""
    task = task_for(session, actor, task_id, "write")
    if draft.code != task.code:
        raise ValidationFailed("编码是任务的标识，不能修改", field="编码")
    if draft.tenant_code != task.tenant_code:
        raise ValidationFailed("适用范围不能修改；请在目标区县新建任务", field="适用范围")
    _check_fields(draft)
    _check_interface(session, draft)
    before = _snapshot(task)
    schedule = " ".join(draft.schedule.split())
    if schedule != task.schedule:
        # A new schedule counts from now; otherwise its latest past fire time would run at once.
        task.last_scheduled_at = utcnow()
    task.name, task.interface_id, task.schedule = draft.name.strip(), draft.interface_id, schedule
    # Enabled state changes only through set_enabled: an edit never restarts a stopped task.
    task.batch_size, task.description = draft.batch_size, draft.description
    session.add(task)
    _log(session, actor, task, "update", {"before": before, "after": _snapshot(task)})
    return _task_rows(session, [task])[0]


def set_enabled(*, session: Session, actor: Actor, task_id: int, enabled: bool) -> TaskRow:
    """Stop (or resume) a task: a disabled task neither runs by hand nor on schedule.

    A run already under way finishes; disabling only prevents new ones.
    """
    task = task_for(session, actor, task_id, "write")
    before = _snapshot(task)
    if enabled and not task.enabled:
        # Fire times missed while disabled are skipped, not caught up at the moment of enabling.
        task.last_scheduled_at = utcnow()
    task.enabled = enabled
    session.add(task)
    action = "enable" if enabled else "disable"
    _log(session, actor, task, action, {"before": before, "after": _snapshot(task)})
    return _task_rows(session, [task])[0]


def _last_fire(schedule: str, now: datetime) -> datetime:
    """The latest fire time of ``schedule`` (Asia/Shanghai) at or before ``now``."""
    # croniter's get_prev is strictly before its start; starting at the next whole minute
    # makes a fire time equal to ``now`` count (cron has minute resolution).
    start = now.astimezone(CHINA_TZ).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return croniter(schedule, start).get_prev(datetime)


def _next_fire(task: SharingTask, now: datetime) -> datetime | None:
    if not task.enabled or not task.schedule:
        return None
    return croniter(task.schedule, now.astimezone(CHINA_TZ)).get_next(datetime)


def _last_runs(session: Session, task_ids: list[int]) -> dict[int, TaskRun]:
    latest = (
        sa.select(sa.func.max(TaskRun.id))
        .where(TaskRun.task_id.in_(task_ids))  # type: ignore[attr-defined]
        .group_by(TaskRun.task_id)
    )
    runs = session.exec(select(TaskRun).where(TaskRun.id.in_(latest))).all()  # type: ignore[union-attr]
    return {run.task_id: run for run in runs}


def _pending_counts(session: Session, task_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        sa.select(SharingOutbox.task_id, sa.func.count())
        .where(SharingOutbox.task_id.in_(task_ids))  # type: ignore[attr-defined]
        .where(SharingOutbox.delivered_at.is_(None))  # type: ignore[union-attr]
        .group_by(SharingOutbox.task_id)
    ).all()
    return {task_id: int(count) for task_id, count in rows}


def _task_rows(session: Session, tasks: list[SharingTask]) -> list[TaskRow]:
    ids = [t.id for t in tasks if t.id is not None]
    names = dict(
        session.execute(
            sa.select(InterfaceDef.id, InterfaceDef.name).where(
                InterfaceDef.id.in_({t.interface_id for t in tasks})  # type: ignore[union-attr]
            )
        ).all()
    )
    last_runs, pending, now = _last_runs(session, ids), _pending_counts(session, ids), utcnow()
    tenants = tenant_labels(session, {t.tenant_code for t in tasks if t.tenant_code})
    rows = []
    for task in tasks:
        assert task.id is not None
        last = last_runs.get(task.id)
        rows.append(
            TaskRow(
                id=task.id,
                code=task.code,
                name=task.name,
                interface_id=task.interface_id,
                interface_name=names.get(task.interface_id, ""),
                tenant_code=task.tenant_code,
                tenant=tenants.get(task.tenant_code, "全省"),
                schedule=task.schedule,
                batch_size=task.batch_size,
                enabled=task.enabled,
                description=task.description,
                last_status=last.status if last else "",
                last_status_label=TASK_STATUS.get(last.status, last.status) if last else "未执行",
                last_run_at=to_local_text(last.started_at if last else None),
                pending=pending.get(task.id, 0),
                next_run_at=to_local_text(_next_fire(task, now)),
            )
        )
    return rows


def list_tasks(
    *, session: Session, actor: Actor, search: str = "", page: PageRequest | None = None
) -> Page[TaskRow]:
    """Tasks in the actor's scope (province-wide and its counties'), searched by code or name."""
    authz.require(actor, OBJ, "read")
    page = page or PageRequest()
    statement = select(SharingTask).where(_visible(actor)).order_by(SharingTask.code)
    if search.strip():
        text = search.strip()
        statement = statement.where(
            sa.or_(contains(SharingTask.code, text), contains(SharingTask.name, text))
        )
    tasks, total = paginate(session, statement, page)
    return Page(_task_rows(session, tasks), total, page.page, page.size)


# --- the outbox -------------------------------------------------------------------------


def enqueue(
    *, session: Session, task_code: str, records: list[tuple[str, dict]], source: str = ""
) -> int:
    """Queue (record key, payload) pairs for a task; returns how many were new.

    A key already queued for the task, delivered or not, is skipped: each record is pushed
    once. A changed record that must be pushed again needs a new key (e.g. with a version).

    Raises:
        NotFound: no task has this code.
        ValidationFailed: a record key is empty or longer than 128 characters.
    """
    task = session.exec(select(SharingTask).where(SharingTask.code == task_code)).first()
    if task is None:
        raise NotFound(f"共享任务 {task_code} 不存在")
    unique: dict[str, dict] = {}
    for key, payload in records:
        if not 1 <= len(key) <= 128:
            raise ValidationFailed("应为 1 到 128 个字符", field="记录标识")
        unique.setdefault(key, payload)
    if not unique:
        return 0
    now = utcnow()
    rows = [
        {
            "task_id": task.id,
            "record_key": key,
            "payload": seal_payload(payload),
            "queued_at": now,
            "source": source,
        }
        for key, payload in unique.items()
    ]
    return len(session.execute(insert_ignoring_duplicates(session), rows).all())


def _pending(session: Session, task_id: int) -> int:
    return int(
        session.exec(
            select(sa.func.count())
            .select_from(SharingOutbox)
            .where(SharingOutbox.task_id == task_id, SharingOutbox.delivered_at.is_(None))  # type: ignore[union-attr]
        ).one()
    )


# --- runs -------------------------------------------------------------------------------


def start_run(
    *,
    session: Session,
    actor: Actor | None,
    task_id: int,
    trigger: str = "manual",
    rerun_of: int | None = None,
) -> int:
    """Open a run of the task (status running) and return its id; ``execute_run`` does the work.

    ``actor`` None is the scheduler. The caller commits before handing the id to the worker.

    Raises:
        ValidationFailed: the task is disabled or already running.
    """
    if trigger not in TRIGGERS:
        raise ValidationFailed(f"应为 {'、'.join(TRIGGERS)} 之一", field="触发方式")
    # Lock the task row (PostgreSQL) so two starts cannot both find no running run.
    session.exec(select(SharingTask).where(SharingTask.id == task_id).with_for_update()).first()
    task = task_for(session, actor, task_id, "execute")
    if not task.enabled:
        raise ValidationFailed("任务已停用，不能执行", field="任务")
    running = session.exec(
        select(TaskRun.id).where(TaskRun.task_id == task_id, TaskRun.status == "running")
    ).first()
    if running is not None:
        raise ValidationFailed("任务正在执行，请等待完成", field="任务")
    run = TaskRun(
        task_id=task_id,
        status="running",
        total=_pending(session, task_id),
        trigger=trigger,
        rerun_of=rerun_of,
        actor_account=actor.account if actor else "",
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    if actor is not None:
        detail = {"run_id": run.id, "trigger": trigger, "rerun_of": rerun_of, "total": run.total}
        _log(session, actor, task, "execute", detail)
    return run.id


def rerun(*, session: Session, actor: Actor, run_id: int) -> int:
    """Start a new run for a failed one: it pushes what is still pending, nothing twice.

    Raises:
        NotFound: no such run in the actor's scope.
        ValidationFailed: the run did not fail, or the task is disabled or running.
    """
    failed = session.get(TaskRun, run_id)
    if failed is None:
        raise NotFound("执行记录不存在")
    task_for(session, actor, failed.task_id, "execute")
    if failed.status != "failed":
        raise ValidationFailed("只有失败的执行可以重新执行", field="执行记录")
    return start_run(
        session=session, actor=actor, task_id=failed.task_id, trigger="rerun", rerun_of=run_id
    )


@dataclass(frozen=True)
class _Batch:
    """What the worker needs for one POST, read in a short transaction."""

    task_code: str
    endpoint: str
    timeout_ms: int
    ids: list[int]
    payloads: list[object]
    problem: str = ""


def _unusable(interface: InterfaceDef | None) -> str:
    """Why the interface cannot take a push now (it may have changed since the task was made)."""
    if interface is None:
        return "接口已删除"
    if not interface.endpoint_url.strip():
        return "接口未登记地址，无法推送"
    if not interface.enabled:
        return f"接口「{interface.name}」已停用"
    return ""


def _next_batch(run_id: int, url: str | None) -> _Batch | None:
    """The next pending rows of the run's task; None when the run is no longer running."""
    with session_scope(url) as session:
        run = session.get(TaskRun, run_id)
        if run is None:
            raise NotFound("执行记录不存在")
        if run.status != "running":
            return None
        task = session.get(SharingTask, run.task_id)
        assert task is not None
        interface = session.get(InterfaceDef, task.interface_id)
        if problem := _unusable(interface):
            return _Batch(task.code, "", 0, [], [], problem)
        assert interface is not None
        rows = session.exec(
            select(SharingOutbox)
            .where(SharingOutbox.task_id == task.id, SharingOutbox.delivered_at.is_(None))  # type: ignore[union-attr]
            .order_by(SharingOutbox.id)
            .limit(task.batch_size)
        ).all()
        return _Batch(
            task_code=task.code,
            endpoint=interface.endpoint_url.strip(),
            timeout_ms=interface.timeout_ms,
            ids=[row.id for row in rows if row.id is not None],
            payloads=[open_payload(row.payload) for row in rows],
        )


def _post(batch: _Batch) -> str:
    """POST one batch; the cause of the failure in Chinese, or "" when the receiver took it.

    Through the guarded client: no internal address, one total deadline, and only the
    status of a refusal is kept (never the receiver's text).
    """
    body = {"task": batch.task_code, "records": batch.payloads}
    try:
        answer = fetch(
            "POST",
            batch.endpoint,
            json=body,
            policy=outbound_service.policy(),
            deadline_seconds=batch.timeout_ms / 1000,
            max_bytes=PUSH_ANSWER_BYTES,
        )
    except OutboundRefused as refused:
        if refused.category == "超时":
            return f"接口超时（超过 {batch.timeout_ms} 毫秒未响应）"
        return f"无法连接接口（{refused.category}）"
    if not answer.is_success:
        return f"接口返回状态码 {answer.status_code}"
    return ""


def _mark_delivered(run_id: int, ids: list[int], url: str | None) -> None:
    """Mark the batch delivered and move the run's progress, in one transaction."""
    with session_scope(url) as session:
        marked = session.execute(
            sa.update(SharingOutbox)
            .where(SharingOutbox.id.in_(ids), SharingOutbox.delivered_at.is_(None))  # type: ignore[union-attr]
            .values(delivered_at=utcnow(), run_id=run_id)
        )
        run = session.get(TaskRun, run_id)
        assert run is not None
        run.processed += int(marked.rowcount or 0)
        # Records queued while the run is under way are pushed too; the total follows them
        # so the percentage never passes 100 before the run is done.
        run.total = run.processed + _pending(session, run.task_id)
        session.add(run)


def _run_actor(session: Session, run: TaskRun) -> Actor:
    """Who the operation log names for a finished run: its starter, or the system."""
    user = session.exec(select(User).where(User.account == run.actor_account)).first()
    if user is None or user.id is None:
        # The scheduler, or an account deleted since: the run is the province's.
        return Actor(
            user_id=0,
            account=SYSTEM_ACCOUNT,
            display_name="系统调度",
            tenant_code=get_settings().province_code,
            session_id=0,
        )
    return Actor(
        user_id=user.id,
        account=user.account,
        display_name=user.account,
        tenant_code=user.tenant_code,
        session_id=0,
    )


def _finish(run_id: int, url: str | None, error: str = "") -> None:
    """Close the run (succeeded, or failed with ``error``) and log it once."""
    with session_scope(url) as session:
        run = session.get(TaskRun, run_id)
        if run is None or run.status != "running":
            return
        task = session.get(SharingTask, run.task_id)
        assert task is not None
        now = utcnow()
        run.status = "failed" if error else "succeeded"
        run.error = error[:_MAX_ERROR]
        run.finished_at = now
        run.duration_ms = int((now - run.started_at).total_seconds() * 1000)
        session.add(run)
        detail = {
            "run_id": run.id,
            "trigger": run.trigger,
            "status": run.status,
            "total": run.total,
            "processed": run.processed,
            "duration_ms": run.duration_ms,
            "error": run.error,
        }
        outcome = Outcome.FAILURE if error else Outcome.SUCCESS
        _log(session, _run_actor(session, run), task, "run", detail, outcome)


def execute_run(*, run_id: int, url: str | None = None) -> None:
    """Push the pending records of a started run batch by batch, until none is left or one fails.

    Args:
        run_id: the run ``start_run`` opened (and its caller committed).
        url: database URL; None = the configured database.

    Raises:
        NotFound: no such run.
    """
    batch_number = 0
    try:
        while (batch := _next_batch(run_id, url)) is not None:
            if batch.problem:
                _finish(run_id, url, f"推送前检查失败：{batch.problem}")
                return
            if not batch.ids:
                _finish(run_id, url)
                return
            batch_number += 1
            if problem := _post(batch):
                cause = f"第 {batch_number} 批（{len(batch.ids)} 条）推送失败：{problem}"
                with session_scope(url) as session:
                    mark_failed(session, batch.ids, problem)
                _finish(run_id, url, cause)
                return
            _mark_delivered(run_id, batch.ids, url)
    except Exception as exc:
        # A run left "running" would block its task for good; close it before re-raising.
        _finish(run_id, url, f"第 {batch_number + 1} 批执行中断：{type(exc).__name__}: {exc}")
        raise


def _duration_text(duration_ms: int | None) -> str:
    return "—" if duration_ms is None else f"{duration_ms / 1000:.1f} 秒"


def _progress(run: TaskRun) -> int:
    if run.total <= 0:
        return 100 if run.status == "succeeded" else 0
    return min(100, run.processed * 100 // run.total)


def _run_row(run: TaskRun, task_code: str, task_name: str) -> RunRow:
    assert run.id is not None
    return RunRow(
        id=run.id,
        task_id=run.task_id,
        task_code=task_code,
        task_name=task_name,
        status=run.status,
        status_label=TASK_STATUS.get(run.status, run.status),
        trigger=run.trigger,
        trigger_label=TRIGGERS.get(run.trigger, run.trigger),
        rerun_of=run.rerun_of,
        total=run.total,
        processed=run.processed,
        progress=_progress(run),
        error=run.error,
        actor_account=run.actor_account or SYSTEM_ACCOUNT,
        started_at=to_local_text(run.started_at),
        finished_at=to_local_text(run.finished_at),
        duration_ms=run.duration_ms,
        duration=_duration_text(run.duration_ms),
    )


def list_runs(
    *,
    session: Session,
    actor: Actor,
    task_id: int | None = None,
    status: str | None = None,
    page: PageRequest | None = None,
) -> Page[RunRow]:
    """Executions in the actor's scope, newest first; optionally of one task or one status."""
    authz.require(actor, OBJ, "read")
    if status and status not in TASK_STATUS:
        raise ValidationFailed(f"应为 {'、'.join(TASK_STATUS.values())} 之一", field="状态")
    page = page or PageRequest()
    statement = (
        select(TaskRun, SharingTask.code, SharingTask.name)
        .join(SharingTask, SharingTask.id == TaskRun.task_id)
        .where(_visible(actor))
        .order_by(TaskRun.id.desc())  # type: ignore[union-attr]
    )
    if task_id is not None:
        statement = statement.where(TaskRun.task_id == task_id)
    if status:
        statement = statement.where(TaskRun.status == status)
    rows, total = paginate(session, statement, page)
    return Page([_run_row(*row) for row in rows], total, page.page, page.size)


# --- schedules --------------------------------------------------------------------------


def due_tasks(*, session: Session, now: datetime) -> list[int]:
    """Ids of enabled scheduled tasks whose latest fire time has not been taken yet; takes it.

    A fire time missed while the scheduler was down runs once when it is back.
    """
    # FOR UPDATE (PostgreSQL): two schedulers polling at once cannot both take a fire time.
    tasks = session.exec(
        select(SharingTask)
        .where(SharingTask.enabled == sa.true(), SharingTask.schedule != "")
        .order_by(SharingTask.id)
        .with_for_update()
    ).all()
    due = []
    for task in tasks:
        taken = task.last_scheduled_at or task.created_at
        if _last_fire(task.schedule, now) > taken:
            task.last_scheduled_at = now
            session.add(task)
            due.append(task.id)
    return [task_id for task_id in due if task_id is not None]


def interface_choices(*, session: Session, actor: Actor) -> list[tuple[int, str]]:
    """Outbound interfaces with an address that the actor's tasks may push to."""
    authz.require(actor, OBJ, "write")
    scope = scope_of(actor)
    statement = (
        select(InterfaceDef)
        .where(InterfaceDef.direction == "outbound", InterfaceDef.endpoint_url != "")
        .order_by(InterfaceDef.department, InterfaceDef.code)
    )
    if not scope.all_tenants:
        statement = statement.where(
            InterfaceDef.tenant_code.in_([PROVINCE_WIDE, *sorted(scope.codes)])  # type: ignore[attr-defined]
        )
    return [
        (i.id or 0, f"{i.department} · {i.name}（{i.code}）") for i in session.exec(statement).all()
    ]
