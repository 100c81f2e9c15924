"""The operation log: every write and every denial, with actor, tenant, time, object, outcome."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Column, Field, SQLModel, Text

from console.core.clock import utcnow
from console.core.db import UTCDateTime


class Outcome(StrEnum):
    """Outcome of an operation, as the ingestion contract spells it."""

    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class OperationLog(SQLModel, table=True):
    """One operation of the console's own users (personal data in ``detail`` is masked)."""

    __tablename__ = "audit_operation"

    id: int | None = Field(default=None, primary_key=True)
    ts: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    request_id: str = Field(default="", max_length=64)
    actor_id: int | None = Field(default=None, index=True)
    actor_account: str = Field(max_length=64, index=True)
    tenant_code: str = Field(max_length=6, index=True)
    object: str = Field(max_length=64, index=True)
    action: str = Field(max_length=32)
    target: str = Field(default="", max_length=128)
    outcome: str = Field(max_length=16, index=True)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    client_ip: str = Field(default="", max_length=64)
