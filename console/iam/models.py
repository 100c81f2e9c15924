"""IAM tables: organisations, roles, users, password history, sessions, tokens, logins, policy."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Column, Field, SQLModel

import console.tenancy.models  # noqa: F401  (users and organisations reference tenant.code)
from console.core.clock import utcnow
from console.core.db import UTCDateTime


def _utc_column(*, nullable: bool = True, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class UserStatus(StrEnum):
    """Stored account status (locked is derived from ``locked_until``)."""

    ACTIVE = "active"
    DISABLED = "disabled"


# Who a user record stands for. Applicants (synced from the one-window platform) never sign
# in to the console: their records exist for lookup, masking and audit.
USER_CATEGORIES = {"staff": "业务人员", "applicant": "申请人", "sharing_contact": "共享部门联系人"}
STAFF, APPLICANT = "staff", "applicant"


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
    SUPERSEDED = "superseded"
    TENANT_SUSPENDED = "tenant_suspended"
    PASSWORD_EXPIRED = "password_expired"
    RATE_LIMITED = "rate_limited"
    SECOND_FACTOR_BOUND = "second_factor_bound"
    SECOND_FACTOR_RESET = "second_factor_reset"
    UNLOCKED = "unlocked"
    MAX_AGE = "max_age"
    ADDRESS_REFUSED = "address_refused"


ORG_KIND_LABELS = {
    "registry": "登记机构",
    "sharing_dept": "共享部门",
    "bank": "银行",
    "developer": "房地产开发企业",
    "broker": "房屋经纪机构",
    "agency": "登记代理机构",
    "other": "其他",
}


class Organization(SQLModel, table=True):
    """A node of a tenant's organisation tree."""

    __tablename__ = "iam_organization"

    id: int | None = Field(default=None, primary_key=True)
    tenant_code: str = Field(foreign_key="tenant.code", max_length=6, index=True)
    parent_id: int | None = Field(default=None, foreign_key="iam_organization.id")
    name: str = Field(max_length=128)
    kind: str = Field(max_length=16)
    uscc: str | None = Field(default=None, max_length=18, index=True)
    status: str = Field(default="active", max_length=16)
    sort_order: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class Role(SQLModel, table=True):
    """Role metadata; its permissions live in Casbin's policy rows."""

    __tablename__ = "iam_role"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=64)
    category: str = Field(max_length=8)
    scope: str = Field(default="tenant", max_length=16)
    tenant_code: str | None = Field(default=None, max_length=6)
    description: str = Field(default="", max_length=255)
    builtin: bool = False
    # Holders must sign in with a second factor (always so for the three administrators).
    require_second_factor: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class User(SQLModel, table=True):
    """A console account; name, ID number and phone are SM4-GCM ciphertext plus HMAC-SM3."""

    __tablename__ = "iam_user"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=64, unique=True, index=True)
    real_name_enc: str = Field(max_length=255)
    real_name_digest: str = Field(max_length=64, index=True)
    id_type: str | None = Field(default=None, max_length=4)
    id_number_enc: str | None = Field(default=None, max_length=255)
    id_number_digest: str | None = Field(default=None, max_length=64, index=True)
    phone_enc: str | None = Field(default=None, max_length=255)
    phone_digest: str | None = Field(default=None, max_length=64, index=True)
    org_id: int | None = Field(default=None, foreign_key="iam_organization.id")
    post: str = Field(default="", max_length=64)
    category: str = Field(default=STAFF, max_length=16, index=True)  # USER_CATEGORIES
    allow_multi_session: bool = False
    # Used only through personal access tokens: no interactive sign-in, no password to change.
    token_only: bool = False
    # Shown once at the next sign-in: who reset this account's password or second factor.
    security_notice: str = Field(default="", max_length=500)
    # Why the account is disabled when the system did it ("inactive"); "" otherwise.
    disabled_reason: str = Field(default="", max_length=16)
    password_hash: str = Field(max_length=255)
    must_change_password: bool = True
    status: str = Field(default=UserStatus.ACTIVE.value, max_length=16)
    tenant_code: str = Field(foreign_key="tenant.code", max_length=6, index=True)
    failed_login_count: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=_utc_column())
    password_changed_at: datetime | None = Field(default=None, sa_column=_utc_column())
    last_login_at: datetime | None = Field(default=None, sa_column=_utc_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class PasswordHistory(SQLModel, table=True):
    """Earlier password hashes, so a new password cannot repeat the last few."""

    __tablename__ = "iam_password_history"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="iam_user.id", index=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class LoginSession(SQLModel, table=True):
    """A server-side session; the browser holds only the random token, we keep its digest."""

    __tablename__ = "iam_session"

    id: int | None = Field(default=None, primary_key=True)
    token_digest: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="iam_user.id", index=True)
    client_ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)
    # Province-level users may narrow their view to one tenant; None = all tenants.
    context_tenant: str | None = Field(default=None, max_length=6)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=_utc_column())
    end_reason: str | None = Field(default=None, max_length=32)


class PersonalToken(SQLModel, table=True):
    """A personal access token: shown once; we keep its public id and its secret's SM3 digest."""

    __tablename__ = "iam_personal_token"

    id: int | None = Field(default=None, primary_key=True)
    token_id: str = Field(max_length=16, unique=True, index=True)
    secret_digest: str = Field(max_length=64)
    user_id: int = Field(foreign_key="iam_user.id", index=True)
    name: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    expires_at: datetime = Field(sa_column=_utc_column(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=_utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=_utc_column())


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
    user_agent: str = Field(default="", max_length=255)


class SecurityPolicy(SQLModel, table=True):
    """Login and password rules as 安全管理员 set them (one row; absent = the BDC_* defaults)."""

    __tablename__ = "system_security_policy"

    id: int = Field(default=1, primary_key=True)
    session_idle_minutes: int
    login_max_failures: int
    login_lock_minutes: int
    password_min_length: int
    password_history: int
    password_max_age_days: int
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class AdminNetwork(SQLModel, table=True):
    """The networks an administrator (系统/安全/审计) may sign in from; absent = the default."""

    __tablename__ = "iam_admin_network"

    admin: str = Field(primary_key=True, max_length=16)
    networks: str = Field(max_length=2000)
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class SecondFactor(SQLModel, table=True):
    """An account's TOTP seed (SM4-GCM ciphertext) and the last time step it accepted."""

    __tablename__ = "iam_second_factor"

    user_id: int = Field(foreign_key="iam_user.id", primary_key=True)
    secret_enc: str = Field(max_length=255)
    # Steps up to this one are spent: a code is never accepted twice, in any process.
    last_step: int = 0
    confirmed_at: datetime | None = Field(default=None, sa_column=_utc_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class RecoveryCode(SQLModel, table=True):
    """One single-use recovery code, kept as its keyed HMAC-SM3 digest."""

    __tablename__ = "iam_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="iam_user.id", index=True)
    code_digest: str = Field(max_length=64, unique=True)
    used_at: datetime | None = Field(default=None, sa_column=_utc_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))


class AdminResetRequest(SQLModel, table=True):
    """An administrator's password or second-factor reset, waiting for a second administrator."""

    __tablename__ = "iam_admin_reset_request"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="iam_user.id", index=True)
    kind: str = Field(max_length=16)  # password | second_factor
    status: str = Field(default="waiting", max_length=16, index=True)  # waiting | done
    requested_by_id: int
    requested_by: str = Field(max_length=64)
    requested_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column(nullable=False))
    confirmed_by: str = Field(default="", max_length=64)
    confirmed_at: datetime | None = Field(default=None, sa_column=_utc_column())
