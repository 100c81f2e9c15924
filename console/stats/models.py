"""Statistics settings: the saved views of 统计分析."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime


class StatsView(SQLModel, table=True):
    """A saved 统计分析 view: its settings, its owner, and the role it is shared with."""

    __tablename__ = "stats_view"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    owner_id: int = Field(foreign_key="iam_user.id", index=True)
    owner_account: str = Field(max_length=64)
    tenant_code: str = Field(max_length=6, index=True)  # the owner's tenant when saved
    shared_role: str = Field(default="", max_length=64, index=True)
    settings: str = Field(default="{}", max_length=2000)  # JSON of the page's controls
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
