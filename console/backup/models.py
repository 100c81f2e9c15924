"""Backup tables in the configuration database: targets, the policy and every run."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime


class BackupTarget(SQLModel, table=True):
    """Where sets are written: a directory or S3-compatible storage (secret SM4-encrypted)."""

    __tablename__ = "backup_target"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=16)  # directory | s3
    location: str = Field(max_length=500)  # a path, or s3://bucket/prefix
    endpoint: str = Field(default="", max_length=255)
    region: str = Field(default="us-east-1", max_length=64)
    access_key: str = Field(default="", max_length=128)
    secret_enc: str = Field(default="", max_length=512)
    enabled: bool = True
    # 异地实时副本: every change shipped here within seconds (the live job), besides the sets.
    live: bool = False
    live_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    live_error: str = Field(default="", max_length=500)
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class BackupPolicy(SQLModel, table=True):
    """When the scheduled backup runs and how many sets are kept (one row)."""

    __tablename__ = "backup_policy"

    id: int | None = Field(default=None, primary_key=True)
    cron: str = Field(default="30 2 * * *", max_length=64)
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 12
    # 立即备份 / 立即校验 from the page: the scheduler's leader runs it at its next tick.
    requested: str = Field(default="", max_length=16)  # "" | backup | verify
    requested_by: str = Field(default="", max_length=64)
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class BackupRun(SQLModel, table=True):
    """One backup, verification or restore, with what it did and how it ended."""

    __tablename__ = "backup_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)  # backup | verify | restore
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    outcome: str = Field(default="running", max_length=16)  # running | succeeded | failed
    set_id: str = Field(default="", max_length=64, index=True)
    targets: str = Field(default="", max_length=1000)
    files: int = 0
    bytes: int = 0
    new_bytes: int = 0
    seconds: float = 0.0
    message: str = Field(default="", max_length=2000)
    checks: str = Field(default="", max_length=8000)  # JSON list of {name, passed, detail}
    actor: str = Field(default="", max_length=64)
