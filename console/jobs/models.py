"""Every run of a system job, and the run-now requests the leader picks up."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime


class RunOutcome(StrEnum):
    """How a run ended (or that it is still going)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"


class RunTrigger(StrEnum):
    """Why a run started: its schedule, a person's 立即运行, or a re-run after a dead leader."""

    SCHEDULE = "schedule"
    MANUAL = "manual"
    RETRY = "retry"


class JobRun(SQLModel, table=True):
    """One run of one job for one slot; inserting the row is how a slot is claimed."""

    __tablename__ = "job_run"
    # A slot runs once: whoever inserts (job, slot) first runs it, anyone else skips it.
    __table_args__ = (sa.UniqueConstraint("job", "slot", name="uq_job_run_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64, index=True)
    slot: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    trigger: str = Field(max_length=10)
    outcome: str = Field(default=RunOutcome.RUNNING, max_length=12, index=True)
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    duration_ms: int | None = None
    error: str = Field(default="", max_length=2000)
    summary: str = Field(default="", max_length=500)
    host: str = Field(default="", max_length=64)
    pid: int = 0  # the scheduler process that ran it (the leader then)
    worker_pid: int | None = None  # the worker process the job ran in
    requested_by: str = Field(default="", max_length=64)  # account behind a 立即运行


class JobRequest(SQLModel, table=True):
    """A 立即运行 asked for on the page, from any process; the leader picks it up."""

    __tablename__ = "job_request"

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64, index=True)
    requested_by: str = Field(max_length=64)
    requested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    picked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    run_id: int | None = None
