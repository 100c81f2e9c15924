"""Log tables in the configuration database: the quarantine of refused pushed lines."""

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
