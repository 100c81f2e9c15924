"""Tenant table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime


class TenantStatus(StrEnum):
    """启用 / 停用."""

    ACTIVE = "active"
    SUSPENDED = "suspended"

    @property
    def label(self) -> str:
        """Chinese label."""
        return {"active": "启用", "suspended": "停用"}[self.value]


class TenantLevel(StrEnum):
    """The province is the top scope; counties and districts are the tenants under it."""

    PROVINCE = "province"
    COUNTY = "county"


class Tenant(SQLModel, table=True):
    """A county/district (or the province itself); code = 6-digit division code."""

    __tablename__ = "tenant"

    code: str = Field(primary_key=True, max_length=6)
    name: str = Field(max_length=64, index=True)
    parent_code: str | None = Field(default=None, max_length=6)
    level: str = Field(default=TenantLevel.COUNTY.value, max_length=16)
    status: str = Field(default=TenantStatus.ACTIVE.value, max_length=16, index=True)
    contact_name_enc: str | None = Field(default=None, max_length=255)
    contact_phone_enc: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
