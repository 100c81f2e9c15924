"""Log tables in the configuration database: refused lines, the chain heads, verifications."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime


class QuarantinedLine(SQLModel, table=True):
    """A pushed line that was refused, kept SM4-encrypted (it may hold personal data as sent)."""

    __tablename__ = "logs_quarantine"

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    stream: str = Field(max_length=16)
    key_id: str = Field(max_length=64, index=True)
    key_tenant: str = Field(max_length=6, index=True)
    request_id: str = Field(default="", max_length=64)
    line_no: int
    reason: str = Field(max_length=255)
    size: int  # bytes of the line as sent (at most KEPT_LINE_BYTES of it are kept)
    content_enc: str  # SM4-GCM of the line (UTF-8, undecodable bytes as \\x escapes)


class ChainHead(SQLModel, table=True):
    """A stream's chain as of its last seal, kept apart from the lake to catch truncation."""

    __tablename__ = "logs_chain_head"

    stream: str = Field(primary_key=True, max_length=16)
    entries: int
    link: str = Field(max_length=64)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Verification(SQLModel, table=True):
    """One integrity check of the sealed logs: by the daily job or by an auditor."""

    __tablename__ = "logs_verification"

    id: int | None = Field(default=None, primary_key=True)
    checked_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    checked_by: str = Field(max_length=64)  # the account, or 系统 for the daily job
    parts: int
    breaks: int
    summary: str = Field(default="", max_length=2000)  # the first breaks, in Chinese
