"""Dictionary types, items (hierarchical, time-bounded, tenant-local) and item history."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel, Text

from console.core.clock import utcnow
from console.core.db import UTCDateTime

PROVINCE_WIDE = ""  # tenant_code of items every tenant sees (not NULL: NULLs escape UNIQUE)


def _utc(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


class DictType(SQLModel, table=True):
    """A dictionary, e.g. 行政区划 or 登记类型."""

    __tablename__ = "dict_type"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=64)
    hierarchical: bool = False
    builtin: bool = False
    tenant_extensible: bool = False
    source: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class DictItem(SQLModel, table=True):
    """One code of a dictionary; ``tenant_code`` set = a local item only that tenant sees."""

    __tablename__ = "dict_item"
    __table_args__ = (sa.UniqueConstraint("type_id", "code", "tenant_code", name="uq_dict_item"),)

    id: int | None = Field(default=None, primary_key=True)
    type_id: int = Field(foreign_key="dict_type.id", index=True)
    code: str = Field(max_length=32, index=True)
    label: str = Field(max_length=128, index=True)
    parent_code: str = Field(default="", max_length=32, index=True)
    level: str = Field(default="", max_length=16)
    sort_order: int = 0
    enabled: bool = True
    remark: str = Field(default="", max_length=500)
    # 所属类别: the code of the item's class in another dictionary (a business code's 登记类型).
    category: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    valid_from: date | None = None
    valid_to: date | None = None
    builtin: bool = False
    # Set once an administrator changes a seeded item: re-loading the seed then reports it
    # instead of overwriting it.
    edited: bool = False
    tenant_code: str = Field(default=PROVINCE_WIDE, max_length=6, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class DictItemHistory(SQLModel, table=True):
    """Who changed an item, when, and what it was before and after."""

    __tablename__ = "dict_item_history"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="dict_item.id", index=True)
    ts: datetime = Field(default_factory=utcnow, sa_column=_utc())
    actor_account: str = Field(max_length=64)
    action: str = Field(max_length=32)
    before: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    after: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class DictVersion(SQLModel, table=True):
    """Bumped with every dictionary change so each process's lookup cache knows to refresh."""

    __tablename__ = "dict_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
