"""Casbin's policy rows and the version counter that tells every process to reload them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime


class CasbinRule(SQLModel, table=True):
    """One policy line (``p`` or ``g``), in the layout sqlalchemy-adapter reads."""

    __tablename__ = "casbin_rule"

    id: int | None = Field(default=None, primary_key=True)
    ptype: str = Field(max_length=8, index=True)
    v0: str | None = Field(default=None, max_length=128, index=True)
    v1: str | None = Field(default=None, max_length=128)
    v2: str | None = Field(default=None, max_length=128)
    v3: str | None = Field(default=None, max_length=128)
    v4: str | None = Field(default=None, max_length=128)
    v5: str | None = Field(default=None, max_length=128)

    def __str__(self) -> str:
        values = (self.v0, self.v1, self.v2, self.v3, self.v4, self.v5)
        return ", ".join([self.ptype, *(v for v in values if v is not None)])


class PolicyVersion(SQLModel, table=True):
    """Bumped in the same transaction as any policy change; enforcers reload when it moves."""

    __tablename__ = "authz_policy_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
