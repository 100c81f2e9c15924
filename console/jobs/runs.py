"""The scheduler's own bookkeeping in the configuration database (no actor: the system)."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from console.core.clock import utcnow
from console.core.db import session_scope
from console.jobs.models import JobRequest, JobRun, RunOutcome, RunTrigger

MAX_ERROR = 2000
MAX_SUMMARY = 500
HOST = socket.gethostname()[:64]


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, keeping its end (a traceback's last line)."""
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def claim(
    *, url: str, job: str, slot: datetime, trigger: RunTrigger, requested_by: str = ""
) -> int | None:
    """Insert the run of ``job`` for ``slot`` (outcome running); None when it was taken."""
    try:
        with session_scope(url) as session:
            run = JobRun(
                job=job,
                slot=slot,
                trigger=trigger,
                host=HOST,
                pid=os.getpid(),
                requested_by=requested_by,
            )
            session.add(run)
            session.flush()
            return run.id
    except sa.exc.IntegrityError:
        return None


def set_worker(*, url: str, run_id: int, worker_pid: int) -> None:
    """Note the worker process the run executes in."""
    with session_scope(url) as session:
        session.execute(
            sa.update(JobRun).where(col(JobRun.id) == run_id).values(worker_pid=worker_pid)
        )


def finish(
    *,
    url: str,
    run_id: int,
    outcome: RunOutcome,
    error: str = "",
    summary: str = "",
    duration_ms: int | None = None,
) -> None:
    """Record how a run ended (only a run still marked running is changed)."""
    with session_scope(url) as session:
        session.execute(
            sa.update(JobRun)
            .where(col(JobRun.id) == run_id, col(JobRun.outcome) == RunOutcome.RUNNING)
            .values(
                outcome=outcome,
                finished_at=utcnow(),
                duration_ms=duration_ms,
                error=clip(error, MAX_ERROR),
                summary=clip(summary, MAX_SUMMARY),
            )
        )


def interrupt_running(*, url: str, reason: str) -> list[JobRun]:
    """Mark every run still ``running`` interrupted (a new leader: their leader is gone)."""
    now = utcnow()
    with session_scope(url) as session:
        runs = list(session.exec(select(JobRun).where(JobRun.outcome == RunOutcome.RUNNING)))
        for run in runs:
            run.outcome, run.finished_at, run.error = RunOutcome.INTERRUPTED, now, reason
            run.duration_ms = int((now - run.started_at).total_seconds() * 1000)
            session.add(run)
    return runs


def last_scheduled_slots(*, url: str) -> dict[str, datetime]:
    """The latest slot each job ran (or began) on its schedule."""
    with session_scope(url) as session:
        rows = session.execute(
            sa.select(JobRun.job, sa.func.max(JobRun.slot))
            .where(col(JobRun.trigger) == RunTrigger.SCHEDULE)
            .group_by(col(JobRun.job))
        ).all()
    return {job: slot for job, slot in rows}


def waiting_requests(*, url: str) -> list[JobRequest]:
    """Run-now requests not picked up yet, oldest first."""
    with session_scope(url) as session:
        requests = list(
            session.exec(
                select(JobRequest)
                .where(col(JobRequest.picked_at).is_(None))
                .order_by(col(JobRequest.id))
            )
        )
        for request in requests:
            session.expunge(request)
    return requests


def take_request(*, url: str, request: JobRequest, slot: datetime) -> int | None:
    """Start the requested run: mark the request picked and claim its run, in one transaction.

    Returns None when another process took the request (or the slot) first.
    """
    try:
        with session_scope(url) as session:
            run = JobRun(
                job=request.job,
                slot=slot,
                trigger=RunTrigger.MANUAL,
                host=HOST,
                pid=os.getpid(),
                requested_by=request.requested_by,
            )
            session.add(run)
            session.flush()
            taken = session.execute(
                sa.update(JobRequest)
                .where(col(JobRequest.id) == request.id, col(JobRequest.picked_at).is_(None))
                .values(picked_at=slot, run_id=run.id)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise _Taken
            return run.id
    except (_Taken, sa.exc.IntegrityError):
        return None


def drop_request(*, url: str, request_id: int) -> None:
    """Close a request no job of this scheduler answers (its job is no longer registered)."""
    with session_scope(url) as session:
        session.execute(
            sa.update(JobRequest)
            .where(col(JobRequest.id) == request_id, col(JobRequest.picked_at).is_(None))
            .values(picked_at=utcnow())
        )


class _Taken(Exception):
    """Someone else picked the request up first."""


def prune(*, url: str, now: datetime, quiet_days: int, kept_days: int) -> int:
    """Delete old run records: plain successes after ``quiet_days``, the rest after ``kept_days``.

    A run still ``running`` is never deleted (a new leader must see it). Returns how many
    records went.
    """
    quiet_before, kept_before = now - timedelta(days=quiet_days), now - timedelta(days=kept_days)
    with session_scope(url) as session:
        done = session.execute(
            sa.delete(JobRun).where(
                sa.or_(
                    sa.and_(
                        col(JobRun.outcome) == RunOutcome.SUCCEEDED,
                        col(JobRun.started_at) < quiet_before,
                    ),
                    sa.and_(
                        col(JobRun.outcome) != RunOutcome.RUNNING,
                        col(JobRun.started_at) < kept_before,
                    ),
                )
            )
        )
        session.execute(sa.delete(JobRequest).where(col(JobRequest.requested_at) < kept_before))
    return int(done.rowcount or 0)  # type: ignore[attr-defined]
