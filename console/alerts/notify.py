"""Who is told about new and escalated alerts: grouped per rule, held by silences and windows.

A cycle's new alerts of one rule become one message per channel (twenty counties that stopped
pushing together are one message naming them), queued as ``Notification`` rows that the
dispatch job sends. Every user who may see an alert gets it in the bell. An alert under an
active silence or maintenance window is recorded and shown, but nobody is messaged.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from console.alerts.kinds import BY_KEY
from console.alerts.models import (
    SEVERITIES,
    Alert,
    AlertEvent,
    AlertRule,
    AlertSilence,
    InboxItem,
    MaintenanceWindow,
    Notification,
    NotifyChannel,
)
from console.authz.models import CasbinRule
from console.core.clock import to_local_text
from console.core.settings import get_settings
from console.iam.models import User

OBJ = "ops.alerts"
LISTED = 20  # subjects named in one grouped message; the rest are counted


def ids_of(text: str) -> list[int]:
    """Channel ids from a comma-separated column."""
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


def absolute(link: str) -> str:
    """A console path as the address people open (``BDC_EXTERNAL_URL``), "" without one."""
    base = get_settings().external_url.rstrip("/")
    return f"{base}{link}" if base and link else ""


def fired(session: Session, *, rule: AlertRule, alerts: list[Alert], now: datetime) -> None:
    """Queue the messages for a rule's new alerts and put them in the bell."""
    told = _not_held(session, rule, alerts, now)
    _to_inbox(session, told, "fired")
    _queue(session, rule, told, ids_of(rule.channel_ids), "fired", now)


def escalated(session: Session, *, rule: AlertRule, alerts: list[Alert], now: datetime) -> None:
    """Queue the escalation messages for alerts nobody acknowledged in time."""
    told = _not_held(session, rule, alerts, now)
    _to_inbox(session, told, "escalated")
    _queue(session, rule, told, ids_of(rule.escalate_channel_ids), "escalated", now)


def _not_held(session: Session, rule: AlertRule, alerts: list[Alert], now: datetime) -> list[Alert]:
    """The alerts neither a silence nor a maintenance window holds back (the rest noted)."""
    silences = session.exec(
        select(AlertSilence).where(
            AlertSilence.rule_id == rule.id,
            AlertSilence.ends_at > now,
            AlertSilence.ended_by == "",
        )
    ).all()
    windows = session.exec(
        select(MaintenanceWindow).where(
            MaintenanceWindow.starts_at <= now, MaintenanceWindow.ends_at > now
        )
    ).all()
    told = []
    for alert in alerts:
        why = _held_by(alert, silences, windows)
        if why:
            session.add(AlertEvent(alert_id=alert.id or 0, kind="held", detail=why))
        else:
            told.append(alert)
    return told


def _held_by(alert: Alert, silences: list[AlertSilence], windows: list[MaintenanceWindow]) -> str:
    for silence in silences:
        if silence.needs_confirmation and not silence.confirmed_by:
            continue  # an integrity silence not yet confirmed by the auditor holds nothing
        if silence.subject in ("", alert.subject) and silence.tenant_code in (
            "",
            alert.tenant_code,
        ):
            return f"静默中（至 {to_local_text(silence.ends_at)}，{silence.reason}）：不发送通知"
    kind = BY_KEY.get(alert.kind)
    if kind is not None and kind.integrity:
        return ""  # evidence at risk: a maintenance window never holds it back
    for window in windows:
        if window.tenant_code in ("", alert.tenant_code):
            return f"维护窗口“{window.name}”内（至 {to_local_text(window.ends_at)}）：不发送通知"
    return ""


def _queue(
    session: Session,
    rule: AlertRule,
    alerts: list[Alert],
    channel_ids: list[int],
    purpose: str,
    now: datetime,
) -> None:
    if not alerts:
        return
    for alert in alerts:
        alert.notified_at = now
        session.add(alert)
    if not channel_ids:
        return
    channels = session.exec(
        select(NotifyChannel).where(col(NotifyChannel.id).in_(channel_ids))
    ).all()
    title, body, link = message(rule, alerts, purpose)
    for channel in [c for c in channels if not c.enabled or c.deleted_at is not None]:
        for alert in alerts:  # never a silent drop: the history says who was not told
            session.add(AlertEvent(alert_id=alert.id or 0, kind="held",
                                   detail=f"通知渠道“{channel.name}”已停用，未发送"))  # fmt: skip
    for channel in [c for c in channels if c.enabled and c.deleted_at is None]:
        session.add(Notification(
            channel_id=channel.id or 0, alert_ids=",".join(str(a.id) for a in alerts)[:2000],
            purpose=purpose, title=title, body=body, link=link, severity=rule.severity,
            next_at=now, created_at=now,
        ))  # fmt: skip


def message(rule: AlertRule, alerts: list[Alert], purpose: str) -> tuple[str, str, str]:
    """Title, body and evidence link of one message about ``alerts`` (Chinese)."""
    kind = BY_KEY[rule.kind]
    level = SEVERITIES.get(rule.severity, rule.severity)
    prefix = "【升级】" if purpose == "escalated" else ""
    first = alerts[0]
    subject = first.subject_label or first.subject
    if len(alerts) > 1:
        subject = f"{subject} 等 {len(alerts)} 项"
    title = f"{prefix}【{level}】{kind.label}：{subject}"[:200]
    lines = [f"· {a.summary}" for a in alerts[:LISTED]]
    if len(alerts) > LISTED:
        lines.append(f"……另有 {len(alerts) - LISTED} 项")
    lines += ["", f"规则：{rule.name}（{kind.label}）", f"时间：{to_local_text(first.first_at)}"]
    link = first.link if len(alerts) == 1 and first.link else f"/alerts?rule={rule.id}"
    return title, "\n".join(lines), link


def _to_inbox(session: Session, alerts: list[Alert], purpose: str) -> None:
    if not alerts:
        return
    holders = _alert_readers(session)
    for alert in alerts:
        title = f"{SEVERITIES.get(alert.severity, '')}：{alert.summary}"[:200]
        for user_id, domains in holders.items():
            if "*" in domains or (alert.tenant_code and alert.tenant_code in domains):
                session.add(InboxItem(user_id=user_id, alert_id=alert.id or 0,
                                      purpose=purpose, title=title))  # fmt: skip


def _alert_readers(session: Session) -> dict[int, set[str]]:
    """Active users who may read alerts → the tenants (or "*") they hold that in."""
    roles = set(
        session.exec(
            select(CasbinRule.v0).where(
                CasbinRule.ptype == "p", CasbinRule.v2 == OBJ, CasbinRule.v3 == "read"
            )
        ).all()
    )
    if not roles:
        return {}
    grants = session.exec(
        select(CasbinRule.v0, CasbinRule.v2).where(
            CasbinRule.ptype == "g", col(CasbinRule.v1).in_(sorted(roles))
        )
    ).all()
    active = set(
        session.exec(
            select(User.id).where(User.status == "active")  # type: ignore[attr-defined]
        ).all()
    )
    readers: dict[int, set[str]] = {}
    for subject, domain in grants:
        if not subject.startswith("user:"):
            continue
        user_id = int(subject.removeprefix("user:"))
        if user_id in active:
            readers.setdefault(user_id, set()).add(domain)
    return readers
