"""IAM tables: users, login sessions, login events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime


def _utc_column(*, nullable: bool = True, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class UserStatus(StrEnum):
    """Account status; labels in Chinese for display."""

    ACTIVE = "active"
    DISABLED = "disabled"

    @property
    def label(self) -> str:
        """Chinese label."""
        return {"active": "正常", "disabled": "停用"}[self.value]


class LoginOutcome(StrEnum):
    """What happened at a login attempt or session end."""

    SUCCESS = "success"
    FAILURE = "failure"
    LOCKED = "locked"
    DISABLED = "disabled"
    LOGOUT = "logout"
    IDLE_TIMEOUT = "idle_timeout"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"


class User(SQLModel, table=True):
    """A console account (personal data columns arrive encrypted with full IAM)."""

    __tablename__ = "iam_user"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    must_change_password: bool = True
    status: str = Field(default=UserStatus.ACTIVE.value, max_length=16)
    tenant_code: str = Field(max_length=6, index=True)
    failed_login_count: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=_utc_column())
    password_changed_at: datetime | None = Field(default=None, sa_column=_utc_column())
    last_login_at: datetime | None = Field(default=None, sa_column=_utc_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class LoginSession(SQLModel, table=True):
    """A server-side session; the browser holds only the random token, we keep its digest."""

    __tablename__ = "iam_session"

    id: int | None = Field(default=None, primary_key=True)
    token_digest: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="iam_user.id", index=True)
    client_ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=_utc_column())
    end_reason: str | None = Field(default=None, max_length=32)


class LoginEvent(SQLModel, table=True):
    """One login attempt or session end, kept for the auditors."""

    __tablename__ = "iam_login_event"

    id: int | None = Field(default=None, primary_key=True)
    ts: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False, index=True))
    account: str = Field(max_length=64, index=True)
    user_id: int | None = Field(default=None, foreign_key="iam_user.id")
    outcome: str = Field(max_length=32)
    reason: str = Field(default="", max_length=255)
    client_ip: str = Field(default="", max_length=64)
