"""告警中心: read alerts in scope, acknowledge, resolve, silence; the auditor's confirmation.

Integrity and backup alerts (log chain, backups) are evidence that the record may have been
tampered with or lost, so the system administrator alone can neither make them go quiet nor
close them: a silence or a resolve asked for on one waits for the audit administrator
(``ops.alerts`` ``approve``), and the alert stays open and notifying until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from console.alerts.engine import record_event
from console.alerts.kinds import BY_KEY
from console.alerts.models import (
    SEVERITIES,
    STATES,
    Alert,
    AlertEvent,
    AlertRule,
    AlertSilence,
    InboxItem,
    Notification,
    NotifyChannel,
)
from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.core.paging import Page, PageRequest, contains, paginate
from console.tenancy.scope import scope_of
from console.tenancy.service import tenant_names

OBJ = "ops.alerts"
EVENT_LABELS = {
    "fired": "触发", "reopened": "静默期内再次触发", "resolved": "恢复", "acknowledged": "确认",
    "escalated": "升级", "held": "通知暂缓", "silenced": "静默", "silence_asked": "申请静默",
    "silence_confirmed": "审计管理员确认静默", "silence_ended": "结束静默",
    "resolve_asked": "申请关闭", "resolve_confirmed": "审计管理员确认关闭",
    "notified": "已通知", "notify_failed": "通知失败",
}  # fmt: skip
NOTIFICATION_STATES = {"pending": "待发送", "sent": "已发送", "failed": "发送失败"}
MAX_SILENCE = timedelta(days=30)


@dataclass(frozen=True)
class AlertRow:
    """One alert as the list shows it (labels, Beijing times)."""

    id: int
    rule_id: int
    kind_label: str
    subject: str
    tenant: str
    severity: str
    severity_label: str
    state: str
    state_label: str
    summary: str
    link: str
    first_at: str
    last_at: str
    acked: str
    integrity: bool
    pending_resolve_by: str
    resolved: str = ""  # who closed it and when ("" while open)
    tenant_name: str = ""  # the county's name, 全省 for a province-level alert
    handler: str = "—"  # who closed it, else who acknowledged it
    waiting: str = ""  # what waits for the audit administrator ("" = nothing)


@dataclass(frozen=True)
class HistoryLine:
    """One line of an alert's history or one notification sent about it."""

    when: str
    what: str
    who: str
    detail: str


@dataclass(frozen=True)
class AlertFilter:
    """What the list shows: state ("open" = firing or acknowledged), severity, kind, text."""

    state: str = "open"
    severity: str = ""
    kind: str = ""
    rule_id: int = 0
    text: str = ""


def _visible(actor: Actor) -> sa.ColumnElement[bool]:
    """Province users see every alert; a county user its county's (not province-level ones)."""
    scope = scope_of(actor)
    if scope.all_tenants:
        return sa.true()
    return col(Alert.tenant_code).in_(sorted(scope.codes))


def _row(
    alert: Alert, names: dict[str, str] | None = None, waiting: dict[int, str] | None = None
) -> AlertRow:
    kind = BY_KEY.get(alert.kind)
    tenant = (
        (names or {}).get(alert.tenant_code, alert.tenant_code) if alert.tenant_code else "全省"
    )
    acked = f"{alert.acked_by}（{to_local_text(alert.acked_at)}）" if alert.acked_by else ""
    resolved = (
        f"{alert.resolved_by}（{to_local_text(alert.resolved_at)}）" if alert.resolved_by else ""
    )
    return AlertRow(
        id=alert.id or 0, rule_id=alert.rule_id, kind_label=kind.label if kind else alert.kind,
        subject=alert.subject_label or alert.subject, tenant=alert.tenant_code,
        severity=alert.severity, severity_label=SEVERITIES.get(alert.severity, alert.severity),
        state=alert.state, state_label=STATES.get(alert.state, alert.state),
        summary=alert.summary, link=alert.link, first_at=to_local_text(alert.first_at),
        last_at=to_local_text(alert.last_at), acked=acked,
        integrity=bool(kind and kind.integrity), pending_resolve_by=alert.pending_resolve_by,
        resolved=resolved, tenant_name=tenant, handler=resolved or acked or "—",
        waiting=(waiting or {}).get(alert.id or 0, ""),
    )  # fmt: skip


def list_alerts(
    *, session: Session, actor: Actor, where: AlertFilter, request: PageRequest
) -> Page[AlertRow]:
    """Alerts in the actor's scope, newest first, filtered on the server."""
    authz.require(actor, OBJ, "read", target="alerts")
    query = select(Alert).where(_visible(actor))
    if where.state == "open":
        query = query.where(Alert.state != "resolved")
    elif where.state:
        query = query.where(Alert.state == where.state)
    if where.severity:
        query = query.where(Alert.severity == where.severity)
    if where.kind:
        query = query.where(Alert.kind == where.kind)
    if where.rule_id:
        query = query.where(Alert.rule_id == where.rule_id)
    if where.text.strip():
        text = where.text.strip()
        query = query.where(
            sa.or_(contains(col(Alert.summary), text), contains(col(Alert.subject_label), text))
        )
    rows, total = paginate(session, query.order_by(col(Alert.last_at).desc()), request)
    waiting = awaiting(session=session, actor=actor, alert_ids=[a.id or 0 for a in rows])
    names = tenant_names(session=session, actor=actor)
    items = [_row(a, names, waiting) for a in rows]
    return Page(items, total, request.page, request.size)


def counts(*, session: Session, actor: Actor) -> dict[str, int]:
    """Open alerts per severity in the actor's scope (the page's tiles)."""
    authz.require(actor, OBJ, "read", target="alerts")
    rows = session.exec(
        select(Alert.severity, sa.func.count())
        .where(_visible(actor), Alert.state != "resolved")
        .group_by(Alert.severity)
    ).all()
    return dict(rows)


def _alert_for(session: Session, actor: Actor, alert_id: int, action: str) -> Alert:
    """The alert, after permission and scope (outside scope it does not exist)."""
    authz.require(actor, OBJ, action, target=str(alert_id))
    alert = session.exec(select(Alert).where(Alert.id == alert_id, _visible(actor))).first()
    if alert is None:
        raise NotFound("告警不存在或不在您的管辖范围内")
    return alert


def get_alert(*, session: Session, actor: Actor, alert_id: int) -> AlertRow:
    """One alert in scope as the list shows it (the details dialog, a bell item's alert)."""
    return _row(_alert_for(session, actor, alert_id, "read"))


def history(*, session: Session, actor: Actor, alert_id: int) -> list[HistoryLine]:
    """Everything that happened to an alert, with every notification and its outcome."""
    alert = _alert_for(session, actor, alert_id, "read")
    lines = [
        (e.ts, HistoryLine(to_local_text(e.ts), EVENT_LABELS.get(e.kind, e.kind), e.actor,
                           e.detail))
        for e in session.exec(select(AlertEvent).where(AlertEvent.alert_id == alert.id)).all()
    ]  # fmt: skip
    sent = session.exec(
        select(Notification, NotifyChannel.name)
        .join(NotifyChannel, NotifyChannel.id == Notification.channel_id)
        .where(contains(col(Notification.alert_ids), str(alert.id)))
    ).all()
    for note, channel in sent:
        if str(alert.id) not in note.alert_ids.split(","):
            continue  # "12" inside "112"
        state = NOTIFICATION_STATES.get(note.state, note.state)
        outcome = f"{state}，第 {note.attempts} 次尝试"
        if note.category:
            outcome += f"：{note.category}"
        lines.append((note.sent_at or note.created_at, HistoryLine(
            to_local_text(note.sent_at or note.created_at), "通知" if note.purpose != "escalated"
            else "升级通知", f"渠道：{channel}", outcome)))  # fmt: skip
    return [line for _, line in sorted(lines, key=lambda pair: pair[0])]


def acknowledge(*, session: Session, actor: Actor, alert_id: int, note: str = "") -> AlertRow:
    """Someone is on it: escalation stops, the alert stays until the condition clears."""
    alert = _alert_for(session, actor, alert_id, "write")
    if alert.state != "firing":
        raise ValidationFailed("只有告警中的告警可以确认", field="状态")
    alert.state, alert.acked_by, alert.acked_at = "acknowledged", actor.account, utcnow()
    session.add(alert)
    record_event(session, alert, "acknowledged", actor=actor.account, detail=note[:500])
    _log(session, actor, "acknowledge", alert, {"note": note[:500]})
    return _row(alert)


def _integrity(alert: Alert) -> bool:
    kind = BY_KEY.get(alert.kind)
    return bool(kind and kind.integrity)


def resolve(*, session: Session, actor: Actor, alert_id: int, reason: str) -> AlertRow:
    """Close an alert by hand; an integrity alert only with the auditor's confirmation."""
    alert = _alert_for(session, actor, alert_id, "write")
    reason = _reason(reason)
    if alert.state == "resolved":
        raise ValidationFailed("告警已恢复", field="状态")
    if _integrity(alert):
        alert.pending_resolve_by = actor.account
        session.add(alert)
        record_event(session, alert, "resolve_asked", actor=actor.account,
                     detail=f"{reason}（待审计管理员确认）")  # fmt: skip
        _log(session, actor, "request_resolve", alert, {"reason": reason})
        return _row(alert)
    _close(session, alert, actor.account, reason, "resolved")
    _log(session, actor, "resolve", alert, {"reason": reason})
    return _row(alert)


def _close(session: Session, alert: Alert, who: str, reason: str, event: str) -> None:
    alert.state, alert.resolved_at, alert.resolved_by = "resolved", utcnow(), who
    alert.pending_resolve_by = ""
    session.add(alert)
    record_event(session, alert, event, actor=who, detail=reason)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写原因（至少 2 个字）", field="原因")
    return reason[:500]


def silence(
    *, session: Session, actor: Actor, alert_id: int, hours: float, reason: str, whole_rule: bool
) -> int:
    """No notifications for this subject (or the whole rule) for ``hours``; the silence id."""
    alert = _alert_for(session, actor, alert_id, "write")
    reason = _reason(reason)
    if not 1 <= hours <= MAX_SILENCE.total_seconds() / 3600:
        raise ValidationFailed("静默时长应在 1 到 720 小时之间", field="时长")
    integrity = _integrity(alert)
    everywhere = whole_rule and scope_of(actor).all_tenants  # a county silences only its own
    row = AlertSilence(
        rule_id=alert.rule_id, subject="" if whole_rule else alert.subject,
        tenant_code="" if everywhere else alert.tenant_code, reason=reason,
        ends_at=utcnow() + timedelta(hours=hours), created_by=actor.account,
        needs_confirmation=integrity,
    )  # fmt: skip
    session.add(row)
    session.flush()
    until = to_local_text(row.ends_at)
    detail = f"至 {until}：{reason}" + ("（待审计管理员确认后生效）" if integrity else "")
    record_event(session, alert, "silence_asked" if integrity else "silenced",
                 actor=actor.account, detail=detail)  # fmt: skip
    detail_log = {"hours": hours, "reason": reason, "whole_rule": whole_rule, "silence": row.id}
    _log(session, actor, "silence", alert, detail_log)
    return row.id or 0


def confirm(*, session: Session, actor: Actor, alert_id: int, note: str = "") -> AlertRow:
    """The audit administrator confirms what was asked on an integrity alert.

    A waiting resolve closes the alert; waiting silences of its rule take effect. The one who
    asked cannot confirm it themselves.
    """
    alert = _alert_for(session, actor, alert_id, "approve")
    waiting = [s for s in _waiting_silences(session, {alert.rule_id}) if _covers(s, alert)]
    if not alert.pending_resolve_by and not waiting:
        raise ValidationFailed("该告警没有待确认的申请", field="操作")
    if actor.account in {alert.pending_resolve_by, *(s.created_by for s in waiting)}:
        raise Forbidden("不能确认自己提出的申请")
    for row in waiting:
        row.confirmed_by, row.confirmed_at = actor.account, utcnow()
        session.add(row)
        said = f"{row.reason}（至 {to_local_text(row.ends_at)}）{note[:200]}"
        record_event(session, alert, "silence_confirmed", actor=actor.account, detail=said)
    if alert.pending_resolve_by:
        _close(session, alert, f"{alert.pending_resolve_by}，{actor.account} 确认",
               note[:500] or "审计管理员确认关闭", "resolve_confirmed")  # fmt: skip
    _log(session, actor, "confirm", alert, {"silences": [s.id for s in waiting], "note": note})
    return _row(alert)


def end_silence(*, session: Session, actor: Actor, silence_id: int) -> None:
    """Stop a silence before its end."""
    authz.require(actor, OBJ, "write", target=f"silence:{silence_id}")
    row = session.get(AlertSilence, silence_id)
    if row is None or not scope_of(actor).allows(row.tenant_code):
        raise NotFound("静默不存在")
    if row.ended_by or row.ends_at <= utcnow():
        raise ValidationFailed("该静默已结束", field="静默")
    row.ended_by, row.ends_at = actor.account, utcnow()
    session.add(row)
    for alert in session.exec(
        select(Alert).where(Alert.rule_id == row.rule_id, Alert.state != "resolved")
    ).all():
        if _covers(row, alert) and row.tenant_code in ("", alert.tenant_code):
            record_event(session, alert, "silence_ended", actor=actor.account, detail=row.reason)
    record(session, actor=actor, obj=OBJ, action="end_silence", target=str(silence_id),
           tenant=row.tenant_code or None)  # fmt: skip


@dataclass(frozen=True)
class SilenceRow:
    """An active (or waiting) silence as the page lists it."""

    id: int
    rule: str
    subject: str
    reason: str
    until: str
    by: str
    state: str


def list_silences(*, session: Session, actor: Actor) -> list[SilenceRow]:
    """Silences in force or waiting for the auditor, in the actor's scope."""
    authz.require(actor, OBJ, "read", target="silences")
    scope = scope_of(actor)
    rows = session.exec(
        select(AlertSilence, AlertRule.name)
        .join(AlertRule, AlertRule.id == AlertSilence.rule_id)
        .where(AlertSilence.ends_at > utcnow(), AlertSilence.ended_by == "")
        .order_by(col(AlertSilence.ends_at))
    ).all()
    return [
        SilenceRow(
            s.id or 0, name, s.subject or "（全部对象）", s.reason, to_local_text(s.ends_at),
            s.created_by,
            "待审计管理员确认" if s.needs_confirmation and not s.confirmed_by else "生效中",
        )
        for s, name in rows
        if scope.allows(s.tenant_code)
    ]  # fmt: skip


@dataclass(frozen=True)
class Rights:
    """What the actor may do on the page (buttons are hidden otherwise; every call checks)."""

    read: bool
    write: bool
    approve: bool


def permissions(actor: Actor) -> Rights:
    """The actor's ``ops.alerts`` permissions, without logging (for showing the page)."""
    return Rights(*(authz.can(actor, OBJ, act) for act in ("read", "write", "approve")))


def _covers(silence: AlertSilence, alert: Alert) -> bool:
    """A silence of the whole rule, or of this alert's subject."""
    return silence.subject in ("", alert.subject)


def _waiting_silences(session: Session, rule_ids: set[int]) -> list[AlertSilence]:
    """Integrity silences of these rules the auditor has not confirmed yet (still ahead)."""
    if not rule_ids:
        return []
    return list(
        session.exec(
            select(AlertSilence)
            .where(
                col(AlertSilence.rule_id).in_(sorted(rule_ids)),
                AlertSilence.needs_confirmation,
                AlertSilence.confirmed_by == "",
                AlertSilence.ended_by == "",
                AlertSilence.ends_at > utcnow(),
            )
            .order_by(col(AlertSilence.created_at))
        ).all()
    )


def awaiting(*, session: Session, actor: Actor, alert_ids: list[int]) -> dict[int, str]:
    """Alert id → what waits for the audit administrator on it (only alerts with something).

    The same requests ``confirm`` acts on: a resolve asked for on the alert, and the waiting
    silences of its rule.
    """
    authz.require(actor, OBJ, "read", target="alerts")
    if not alert_ids:
        return {}
    alerts = session.exec(
        select(Alert).where(col(Alert.id).in_(sorted(set(alert_ids))), _visible(actor))
    ).all()
    silences = _waiting_silences(session, {a.rule_id for a in alerts})
    found: dict[int, str] = {}
    for alert in alerts:
        parts = [f"{alert.pending_resolve_by} 申请关闭"] if alert.pending_resolve_by else []
        parts += [
            f"{s.created_by} 申请静默至 {to_local_text(s.ends_at)}（{s.reason}）"
            for s in silences
            if s.rule_id == alert.rule_id and _covers(s, alert)
        ]
        if parts:
            found[alert.id or 0] = "；".join(parts)
    return found


def _log(session: Session, actor: Actor, action: str, alert: Alert, detail: dict) -> None:
    record(
        session, actor=actor, obj=OBJ, action=action, target=str(alert.id),
        tenant=alert.tenant_code or None, detail={"alert": alert.summary[:200], **detail},
    )  # fmt: skip


# ---- the bell ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    """One unread (or recent) notification in the bell."""

    id: int
    alert_id: int
    title: str
    when: str
    read: bool


def inbox(*, session: Session, actor: Actor, limit: int = 20) -> tuple[int, list[InboxRow]]:
    """The unread count and the newest items of the actor's bell (their own, nobody else's)."""
    authz.require(actor, OBJ, "read", target="inbox")
    unread = _unread(session, actor.user_id)
    rows = session.exec(
        select(InboxItem)
        .where(InboxItem.user_id == actor.user_id)
        .order_by(col(InboxItem.created_at).desc())
        .limit(limit)
    ).all()
    items = [
        InboxRow(r.id or 0, r.alert_id, r.title, to_local_text(r.created_at), r.read_at is not None)
        for r in rows
    ]
    return int(unread), items


def bell_count(*, session: Session, actor: Actor) -> int | None:
    """The number on the actor's bell, or None when they may not read alerts (no bell)."""
    if not authz.can(actor, OBJ, "read"):
        return None
    return _unread(session, actor.user_id)


def _unread(session: Session, user_id: int) -> int:
    """Unread items of one user's bell."""
    return int(
        session.exec(
            select(sa.func.count())
            .select_from(InboxItem)
            .where(InboxItem.user_id == user_id, col(InboxItem.read_at).is_(None))
        ).one()
    )


def mark_read(*, session: Session, actor: Actor, item_id: int | None = None) -> int:
    """Mark one item (or all) of the actor's bell read; how many changed."""
    authz.require(actor, OBJ, "read", target="inbox")
    query = sa.update(InboxItem).where(
        InboxItem.user_id == actor.user_id,  # type: ignore[arg-type]
        col(InboxItem.read_at).is_(None),
    )
    if item_id is not None:
        query = query.where(InboxItem.id == item_id)  # type: ignore[arg-type]
    changed = session.execute(query.values(read_at=utcnow())).rowcount  # type: ignore[attr-defined]
    return int(changed or 0)
