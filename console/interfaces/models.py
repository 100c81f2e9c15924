"""API keys of inbound systems (registration systems, 一体化平台, institutions)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

import console.tenancy.models  # noqa: F401  (api keys reference tenant.code)
from console.core.clock import utcnow
from console.core.db import UTCDateTime


class ApiKey(SQLModel, table=True):
    """A key is shown once; we keep its public id and the SM3 digest of its secret."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=16, unique=True, index=True)
    secret_digest: str = Field(max_length=64)
    name: str = Field(max_length=64)
    tenant_code: str = Field(foreign_key="tenant.code", max_length=6, index=True)
    org_id: int | None = Field(default=None, foreign_key="iam_organization.id")
    # Comma-separated operations the key may call, e.g. "iam.sync,logs.operation".
    scopes: str = Field(default="", max_length=255)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))

    @property
    def scope_set(self) -> set[str]:
        """Scopes as a set."""
        return {s for s in self.scopes.split(",") if s}
