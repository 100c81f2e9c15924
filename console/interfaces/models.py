"""Interface registry, API keys, institution channels and sharing tasks."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel, Text

import console.iam.models
import console.tenancy.models  # noqa: F401  (api keys reference tenant.code)
from console.core.clock import utcnow
from console.core.db import UTCDateTime


def _utc(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


def _text() -> Column:
    return Column(Text, nullable=False, default="")


DIRECTIONS = {"inbound": "接入（登记系统、一网通办推送）", "outbound": "共享（调用部门接口）"}
SHARING_CLASSES = ("身份核验类", "业务协同类", "信息查核类")
METHODS = ("GET", "POST", "PUT")
PROTOCOLS = ("HTTP/JSON", "WebService/SOAP", "文件交换")
AUTH_KINDS = {
    "none": "无",
    "api_key": "接入密钥",
    "token": "令牌",
    "mutual_tls": "双向证书",
    "sm2_sign": "SM2 签名",
}
HEALTH_LABELS = {"unknown": "未检测", "ok": "正常", "down": "异常"}


class InterfaceDef(SQLModel, table=True):
    """A registered interface: inbound (pushes to the console) or outbound (a sharing service)."""

    __tablename__ = "interface_def"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=128)
    direction: str = Field(max_length=16, index=True)
    # "" = province-wide (the national sharing interfaces); a county code = that county's system.
    tenant_code: str = Field(default="", max_length=6, index=True)
    department: str = Field(default="", max_length=64, index=True)
    sharing_class: str = Field(default="", max_length=16)
    version: str = Field(default="1.0", max_length=32)
    endpoint_url: str = Field(default="", max_length=500)
    method: str = Field(default="POST", max_length=8)
    protocol: str = Field(default="HTTP/JSON", max_length=32)
    auth_kind: str = Field(default="api_key", max_length=16)
    timeout_ms: int = 5000
    rate_limit_per_minute: int = 600
    owner_org_id: int | None = Field(default=None, foreign_key="iam_organization.id")
    enabled: bool = True
    description: str = Field(default="", sa_column=_text())
    request_fields: str = Field(default="", sa_column=_text())
    response_fields: str = Field(default="", sa_column=_text())
    builtin: bool = False
    revision: int = 1
    health: str = Field(default="unknown", max_length=16)
    consecutive_failures: int = 0
    last_probe_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    last_latency_ms: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class InterfaceRevision(SQLModel, table=True):
    """One version of an interface registration: who changed it, when, before and after."""

    __tablename__ = "interface_revision"

    id: int | None = Field(default=None, primary_key=True)
    interface_id: int = Field(foreign_key="interface_def.id", index=True)
    revision: int
    ts: datetime = Field(default_factory=utcnow, sa_column=_utc())
    actor_account: str = Field(max_length=64)
    action: str = Field(max_length=32)
    before: str = Field(default="", sa_column=_text())
    after: str = Field(default="", sa_column=_text())


class ProbeResult(SQLModel, table=True):
    """One connectivity check of an interface's endpoint."""

    __tablename__ = "interface_probe"

    id: int | None = Field(default=None, primary_key=True)
    interface_id: int = Field(foreign_key="interface_def.id", index=True)
    ts: datetime = Field(default_factory=utcnow, sa_column=_utc())
    ok: bool
    status_code: int | None = None
    latency_ms: int
    error: str = Field(default="", max_length=500)
    trigger: str = Field(default="manual", max_length=16)
    actor_account: str = Field(default="", max_length=64)


class ApiKey(SQLModel, table=True):
    """A key is shown once; we keep its public id and the SM3 digest of its secret."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=16, unique=True, index=True)
    secret_digest: str = Field(max_length=64)
    name: str = Field(max_length=64)
    tenant_code: str = Field(foreign_key="tenant.code", max_length=6, index=True)
    org_id: int | None = Field(default=None, foreign_key="iam_organization.id")
    # Comma-separated streams/operations the key may call, e.g. "iam.sync,logs.operation".
    scopes: str = Field(default="", max_length=255)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    rate_limit_per_minute: int = 600
    channel_id: int | None = Field(default=None, foreign_key="channel.id", index=True)
    # Set on the old key when it is rotated: it keeps working until then (the grace period).
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    replaced_by: str = Field(default="", max_length=16)

    @property
    def scope_set(self) -> set[str]:
        """Scopes as a set."""
        return {s for s in self.scopes.split(",") if s}


CHANNEL_KINDS = {"bank": "银行", "developer": "房地产开发企业", "broker": "房屋经纪机构"}
CHANNEL_KINDS |= {"agency": "登记代理机构"}
CHANNEL_STATES = {"open": "开通", "probation": "限流观察", "closed": "关闭"}


class Channel(SQLModel, table=True):
    """An institution's direct channel: what it may submit, through what, and its state."""

    __tablename__ = "channel"
    __table_args__ = (sa.UniqueConstraint("org_id", name="uq_channel_org"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_code: str = Field(foreign_key="tenant.code", max_length=6, index=True)
    org_id: int = Field(foreign_key="iam_organization.id")
    name: str = Field(max_length=128)
    kind: str = Field(max_length=16)
    state: str = Field(default="open", max_length=16, index=True)
    business_codes: str = Field(default="", sa_column=_text())  # comma-separated 7-digit codes
    interface_codes: str = Field(default="", sa_column=_text())  # comma-separated
    rate_limit_per_minute: int = 600
    probation_rate_limit: int = 60
    reason: str = Field(default="", max_length=500)
    effective_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    decided_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class ChannelEvent(SQLModel, table=True):
    """A state change (or refusal) of a channel, for its complete history."""

    __tablename__ = "channel_event"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id", index=True)
    ts: datetime = Field(default_factory=utcnow, sa_column=_utc())
    kind: str = Field(max_length=16)  # "create" | "state" | "edit" | "refusal"
    from_state: str = Field(default="", max_length=16)
    to_state: str = Field(default="", max_length=16)
    reason: str = Field(default="", max_length=500)
    rectification: str = Field(default="", max_length=1000)
    actor_account: str = Field(default="", max_length=64)


class ChannelCounter(SQLModel, table=True):
    """Calls and refusals of a channel per day (Asia/Shanghai), for the dashboards."""

    __tablename__ = "channel_counter"
    __table_args__ = (sa.UniqueConstraint("channel_id", "day", name="uq_channel_counter"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id", index=True)
    day: date
    calls: int = 0
    refusals: int = 0


TASK_STATUS = {
    "running": "运行中",
    "succeeded": "成功",
    "failed": "失败",
}


class SharingTask(SQLModel, table=True):
    """A sharing task: push queued records to a department interface, by hand or on a schedule."""

    __tablename__ = "sharing_task"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=128)
    interface_id: int = Field(foreign_key="interface_def.id")
    tenant_code: str = Field(default="", max_length=6, index=True)
    # Cron expression in Asia/Shanghai time, e.g. "0 2 * * *" for 02:00 nightly; "" = by hand.
    schedule: str = Field(default="", max_length=64)
    batch_size: int = 100
    enabled: bool = True
    description: str = Field(default="", max_length=500)
    last_scheduled_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class SharingOutbox(SQLModel, table=True):
    """A record waiting to be pushed by a sharing task; delivered exactly once."""

    __tablename__ = "sharing_outbox"
    __table_args__ = (sa.UniqueConstraint("task_id", "record_key", name="uq_outbox_record"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="sharing_task.id", index=True)
    record_key: str = Field(max_length=128)
    # The record as the department receives it, SM4-encrypted (it may name people).
    payload: str = Field(sa_column=_text())
    queued_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    delivered_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    run_id: int | None = None
    # Who handed it over: "" for the console itself, else the API key's id and its tenant
    # (a province-wide task's queue shows a county only the records its own keys handed over).
    source: str = Field(default="", max_length=64)
    source_tenant: str = Field(default="", max_length=6, index=True)
    attempts: int = 0  # pushes that failed; a re-queue starts again from 0
    failed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    last_error: str = Field(default="", max_length=500)


class TaskRun(SQLModel, table=True):
    """One execution of a sharing task."""

    __tablename__ = "sharing_task_run"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="sharing_task.id", index=True)
    status: str = Field(default="running", max_length=16, index=True)
    total: int = 0
    processed: int = 0
    error: str = Field(default="", max_length=1000)
    trigger: str = Field(default="manual", max_length=16)  # manual | schedule | rerun
    rerun_of: int | None = None
    actor_account: str = Field(default="", max_length=64)
    started_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    finished_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    duration_ms: int | None = None
