"""Alert tables: rules, alerts and their history, silences, windows, channels, the inbox.

Also every notification sent and the scheduler leader's heartbeat.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from console.alerts.delivery import SEVERITIES
from console.core.clock import utcnow
from console.core.db import UTCDateTime

__all__ = ["SEVERITIES"]  # the one severity table, owned by the senders (no database there)

STATES = {"firing": "告警中", "acknowledged": "已确认", "resolved": "已恢复"}


def _utc(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


def _text() -> Column:
    return Column(sa.Text(), nullable=False)


class AlertRule(SQLModel, table=True):
    """One rule: a kind with its parameters, for all tenants ("") or one county."""

    __tablename__ = "alert_rule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    kind: str = Field(max_length=32, index=True)
    tenant_code: str = Field(default="", max_length=6, index=True)  # "" = the whole province
    params: str = Field(default="{}", sa_column=_text())  # JSON, checked against the kind
    severity: str = Field(default="major", max_length=16)
    channel_ids: str = Field(default="", max_length=500)  # comma-separated NotifyChannel ids
    # Not acknowledged after this many minutes: the escalation channels are told (0 = never).
    escalate_minutes: int = 0
    escalate_channel_ids: str = Field(default="", max_length=500)
    # No second notification for the same subject within this period (flapping, repeats).
    quiet_minutes: int = 30
    enabled: bool = True
    builtin: bool = False
    # Deleted rules stay (their alerts keep naming them) but are listed and evaluated no more.
    deleted_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class Alert(SQLModel, table=True):
    """One condition on one subject, from firing to resolved; a persisting one stays one row."""

    __tablename__ = "alert"

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="alert_rule.id", index=True)
    fingerprint: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=32, index=True)
    subject: str = Field(max_length=128)
    subject_label: str = Field(default="", max_length=200)
    tenant_code: str = Field(default="", max_length=6, index=True)
    severity: str = Field(max_length=16, index=True)
    state: str = Field(default="firing", max_length=16, index=True)
    summary: str = Field(default="", max_length=1000)
    link: str = Field(default="", max_length=500)  # the evidence, a console path
    first_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    last_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    acked_by: str = Field(default="", max_length=64)
    acked_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    resolved_by: str = Field(default="", max_length=64)
    resolved_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    notified_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    escalated_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    # A resolve asked for by the system administrator on an integrity or backup alert,
    # waiting for the audit administrator.
    pending_resolve_by: str = Field(default="", max_length=64)


class AlertEvent(SQLModel, table=True):
    """The history of an alert: fired, notified, acknowledged, escalated, silenced, resolved."""

    __tablename__ = "alert_event"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    ts: datetime = Field(default_factory=utcnow, sa_column=_utc())
    kind: str = Field(max_length=32)
    actor: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=1000)


class AlertSilence(SQLModel, table=True):
    """No notifications for a rule (and optionally one subject) until ``ends_at``."""

    __tablename__ = "alert_silence"

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="alert_rule.id", index=True)
    subject: str = Field(default="", max_length=128)  # "" = every subject of the rule
    tenant_code: str = Field(default="", max_length=6)
    reason: str = Field(max_length=500)
    ends_at: datetime = Field(sa_column=_utc())
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    # Integrity and backup rules: in force only once the audit administrator confirmed it.
    needs_confirmation: bool = False
    confirmed_by: str = Field(default="", max_length=64)
    confirmed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    ended_by: str = Field(default="", max_length=64)


class MaintenanceWindow(SQLModel, table=True):
    """A planned window: alerts are recorded, notifications held back."""

    __tablename__ = "alert_maintenance"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    tenant_code: str = Field(default="", max_length=6)  # "" = every tenant
    starts_at: datetime = Field(sa_column=_utc())
    ends_at: datetime = Field(sa_column=_utc())
    reason: str = Field(default="", max_length=500)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class NotifyChannel(SQLModel, table=True):
    """Where notifications go: e-mail, a group robot or SMS, with SM4-encrypted secrets."""

    __tablename__ = "alert_channel"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=16)
    tenant_code: str = Field(default="", max_length=6, index=True)
    config: str = Field(default="{}", sa_column=_text())  # JSON without secrets
    secret_enc: str = Field(default="", sa_column=_text())  # SM4: JSON of the secret keys
    recipients_enc: str = Field(default="", sa_column=_text())  # SM4: JSON list
    enabled: bool = True
    per_hour: int = 30  # at most this many notifications an hour; the rest held and counted
    fail_streak: int = 0
    last_ok_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    last_error: str = Field(default="", max_length=500)
    # Deleted channels stay (past notifications name them), their secrets wiped.
    deleted_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc())


class Notification(SQLModel, table=True):
    """One message to one channel (a group of alerts), with its attempts and outcome."""

    __tablename__ = "alert_notification"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="alert_channel.id", index=True)
    alert_ids: str = Field(default="", max_length=2000)  # comma-separated, "" for a test send
    purpose: str = Field(default="fired", max_length=16)  # fired | escalated | test
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_column=_text())
    link: str = Field(default="", max_length=500)
    severity: str = Field(default="major", max_length=16)
    state: str = Field(default="pending", max_length=16, index=True)  # pending|sent|failed|held
    attempts: int = 0
    next_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    category: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    sent_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class InboxItem(SQLModel, table=True):
    """The bell: one alert for one user who may see it, until read."""

    __tablename__ = "alert_inbox"
    __table_args__ = (sa.UniqueConstraint("user_id", "alert_id", "purpose", name="uq_alert_inbox"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    purpose: str = Field(default="fired", max_length=16)
    title: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    read_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class Heartbeat(SQLModel, table=True):
    """The scheduler leader's last sign of life, and the last push to the external monitor."""

    __tablename__ = "alert_heartbeat"

    id: int | None = Field(default=None, primary_key=True)
    beat_at: datetime = Field(default_factory=utcnow, sa_column=_utc())
    evaluated_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    evaluation_ms: int = 0
    pushed_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))
    push_error: str = Field(default="", max_length=500)
