"""系统任务 for people: the jobs with their last and next run, the run history, 立即运行."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import CHINA_TZ, utcnow
from console.core.errors import NotFound, ValidationFailed
from console.core.paging import Page, PageRequest, paginate
from console.jobs.models import JobRequest, JobRun, RunOutcome
from console.jobs.registry import REGISTRY, Job, Registry
from console.jobs.timing import describe_seconds, next_fire

OBJ = "system.jobs"
OUTCOME_LABELS = {
    RunOutcome.RUNNING.value: "运行中",
    RunOutcome.SUCCEEDED.value: "成功",
    RunOutcome.FAILED.value: "失败",
    RunOutcome.TIMED_OUT.value: "超时终止",
    RunOutcome.INTERRUPTED.value: "已中断",
}
TRIGGER_LABELS = {"schedule": "定时", "manual": "立即运行", "retry": "接管重跑"}
ERROR_SHOWN = 300  # characters of an error a page row carries (the record keeps 2,000)


@dataclass(frozen=True)
class JobRow:
    """One job as the page lists it."""

    name: str
    label: str
    schedule: str
    deadline: str
    rerun: str
    last_started: str
    last_duration: str
    last_outcome: str
    last_outcome_label: str
    last_error: str
    next_run: str
    waiting: bool  # a 立即运行 request is waiting for the leader


@dataclass(frozen=True)
class RunRow:
    """One run in the history."""

    id: int
    job: str
    label: str
    slot: str
    trigger_label: str
    started: str
    duration: str
    outcome: str
    outcome_label: str
    error: str
    summary: str
    where: str


def when(moment: datetime | None, now: datetime | None = None) -> str:
    """Beijing time in Chinese: ``11月27日 15:48:03``, with the year when it is not this one."""
    if moment is None:
        return "—"
    local = moment.astimezone(CHINA_TZ)
    this_year = (now or utcnow()).astimezone(CHINA_TZ).year
    day = f"{local.month}月{local.day}日 {local:%H:%M:%S}"
    return day if local.year == this_year else f"{local.year}年{day}"


def _duration(run: JobRun) -> str:
    return "—" if run.duration_ms is None else describe_seconds(run.duration_ms / 1000)


def _short(text: str) -> str:
    return text if len(text) <= ERROR_SHOWN else "…" + text[-(ERROR_SHOWN - 1) :]


def _last_runs(session: Session) -> dict[str, JobRun]:
    latest = sa.select(sa.func.max(JobRun.id)).group_by(col(JobRun.job))
    return {run.job: run for run in session.exec(select(JobRun).where(col(JobRun.id).in_(latest)))}


def _waiting(session: Session) -> set[str]:
    statement = select(JobRequest.job).where(col(JobRequest.picked_at).is_(None))
    return set(session.exec(statement))


def _job_row(job: Job, last: JobRun | None, waiting: bool, now: datetime) -> JobRow:
    return JobRow(
        name=job.name,
        label=job.label,
        schedule=job.schedule,
        deadline=describe_seconds(job.deadline_seconds),
        rerun="主节点更换后立即重跑" if job.idempotent else "主节点更换后等下一时段",
        last_started=when(last.started_at, now) if last else "从未运行",
        last_duration=_duration(last) if last else "—",
        last_outcome=last.outcome if last else "",
        last_outcome_label=OUTCOME_LABELS.get(last.outcome, last.outcome) if last else "—",
        last_error=_short(last.error) if last else "",
        next_run=when(next_fire(job.trigger, now), now),
        waiting=waiting,
    )


def list_jobs(
    *, session: Session, actor: Actor, registry: Registry = REGISTRY, now: datetime | None = None
) -> list[JobRow]:
    """Every registered job: schedule, deadline, last run, next fire time."""
    authz.require(actor, OBJ, "read")
    now = now or utcnow()
    last, waiting = _last_runs(session), _waiting(session)
    return [_job_row(job, last.get(job.name), job.name in waiting, now) for job in registry]


def _trigger_label(run: JobRun) -> str:
    label = TRIGGER_LABELS.get(run.trigger, run.trigger)
    return f"{label}（{run.requested_by}）" if run.requested_by else label


def _run_row(run: JobRun, registry: Registry, now: datetime) -> RunRow:
    job = registry.get(run.job)
    return RunRow(
        id=run.id or 0,
        job=run.job,
        label=job.label if job else run.job,
        slot=when(run.slot, now),
        trigger_label=_trigger_label(run),
        started=when(run.started_at, now),
        duration=_duration(run),
        outcome=run.outcome,
        outcome_label=OUTCOME_LABELS.get(run.outcome, run.outcome),
        error=_short(run.error),
        summary=run.summary,
        where=f"{run.host} · 进程 {run.worker_pid or run.pid}",
    )


def list_runs(
    *,
    session: Session,
    actor: Actor,
    job: str = "",
    outcome: str = "",
    page: PageRequest | None = None,
    registry: Registry = REGISTRY,
) -> Page[RunRow]:
    """The run history, newest first, by job and by outcome.

    Raises:
        ValidationFailed: an outcome that does not exist.
    """
    authz.require(actor, OBJ, "read")
    page = page or PageRequest()
    statement = select(JobRun).order_by(col(JobRun.id).desc())
    if job:
        statement = statement.where(JobRun.job == job)
    if outcome:
        if outcome not in OUTCOME_LABELS:
            raise ValidationFailed(f"应为 {'、'.join(OUTCOME_LABELS.values())} 之一", field="结果")
        statement = statement.where(JobRun.outcome == outcome)
    runs, total = paginate(session, statement, page)
    now = utcnow()
    return Page([_run_row(run, registry, now) for run in runs], total, page.page, page.size)


def may_execute(actor: Actor) -> bool:
    """Whether the page shows 立即运行 to this actor (no logging)."""
    return authz.can(actor, OBJ, "execute")


def request_run(*, session: Session, actor: Actor, job: str, registry: Registry = REGISTRY) -> int:
    """Ask the leader to run ``job`` now; it picks the request up within seconds.

    Raises:
        Forbidden: the actor may not run jobs (the refusal is in the operation log).
        NotFound: no such job.
        ValidationFailed: a request for it is already waiting.
    """
    authz.require(actor, OBJ, "execute", target=job)
    found = registry.get(job)
    if found is None:
        raise NotFound(f"系统任务 {job} 不存在")
    if job in _waiting(session):
        raise ValidationFailed("已提交立即运行，正在等待调度器执行", field="任务")
    request = JobRequest(job=job, requested_by=actor.account)
    session.add(request)
    session.flush()
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="execute",
        target=job,
        detail={"request_id": request.id, "job": job, "label": found.label},
    )
    return request.id or 0
