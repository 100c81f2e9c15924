"""The outbound allow-list the system administrator keeps on 系统设置 (one row)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime


class OutboundAllowList(SQLModel, table=True):
    """Networks and host names the console may call beyond the public internet."""

    __tablename__ = "system_outbound_allow"

    id: int = Field(default=1, primary_key=True)
    entries: str = Field(default="", max_length=2000)  # normalised, comma-separated
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
