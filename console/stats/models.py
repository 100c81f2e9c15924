"""Statistics settings: the statutory time limit of each business, in working days."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime

# 《不动产登记暂行条例》第二十条: registration is completed within 30 working days of
# acceptance. A business without its own (shorter, promised) limit is measured against that.
LEGAL_LIMIT_WORKDAYS = 30


class BusinessTimeLimit(SQLModel, table=True):
    """The promised time limit of one business code, in working days from 受理 to 办结."""

    __tablename__ = "stats_time_limit"

    business_code: str = Field(primary_key=True, max_length=7)
    workdays: int = Field(ge=0, le=LEGAL_LIMIT_WORKDAYS)
    basis: str = Field(default="", max_length=200)
    updated_by: str = Field(default="seed", max_length=64)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


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
