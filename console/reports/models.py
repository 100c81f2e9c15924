"""Generated reports and the subscriptions that generate them on schedule."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime

PROVINCE_WIDE = ""  # tenant_code of a report over every tenant (the province)


class ReportStatus(StrEnum):
    """Where a report is in its life: queued, being generated, ready, or failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Report(SQLModel, table=True):
    """One generated (or requested) report: template, scope, period, who, and its files."""

    __tablename__ = "report"
    # A subscription makes one report per period, however often the scheduler looks.
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "period_start", name="uq_report_subscription"),
    )

    id: int | None = Field(default=None, primary_key=True)
    definition: str = Field(max_length=40, index=True)
    title: str = Field(max_length=100)
    tenant_code: str = Field(default=PROVINCE_WIDE, max_length=6, index=True)
    scope_label: str = Field(max_length=60)
    period_start: date = Field(index=True)
    period_end: date
    period_label: str = Field(max_length=40)
    status: str = Field(default=ReportStatus.QUEUED, max_length=10, index=True)
    progress: int = Field(default=0, ge=0, le=100)
    trigger: str = Field(default="manual", max_length=10)  # manual | schedule
    requested_by: int = Field(foreign_key="iam_user.id", index=True)
    requested_name: str = Field(max_length=100)
    subscription_id: int | None = Field(default=None, index=True)
    formats: str = Field(default="", max_length=40)  # comma-separated: xlsx,html,pdf
    note: str = Field(default="", max_length=500)  # why a format is missing, or the failure
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class ReportSubscription(SQLModel, table=True):
    """A user's standing order: generate this template for this scope after each period."""

    __tablename__ = "report_subscription"
    __table_args__ = (
        sa.UniqueConstraint("definition", "tenant_code", "user_id", name="uq_report_order"),
    )

    id: int | None = Field(default=None, primary_key=True)
    definition: str = Field(max_length=40)
    tenant_code: str = Field(default=PROVINCE_WIDE, max_length=6)
    user_id: int = Field(foreign_key="iam_user.id", index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
