"""One evaluation cycle: every rule's findings become alerts, persisting ones stay one alert.

A finding's fingerprint (rule + subject) names its alert: while the condition holds the
alert's ``last_at`` and summary are refreshed; when it no longer holds the alert resolves by
itself. A subject that fires again within the rule's quiet period reopens the alert it had
instead of notifying again. New alerts are grouped per rule into one notification per
channel; alerts unacknowledged past the rule's limit are escalated once. Silences and
maintenance windows hold notifications back, never the record.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from loguru import logger
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from console.alerts import notify
from console.alerts.evaluators import EVALUATORS, Context, Finding
from console.alerts.kinds import BY_KEY, stored
from console.alerts.models import Alert, AlertEvent, AlertRule, Heartbeat
from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.settings import get_settings

SYSTEM = "系统"


def fingerprint(rule_id: int, subject: str) -> str:
    """The identity of one condition on one subject."""
    return hashlib.sha256(f"{rule_id}|{subject}".encode()).hexdigest()[:32]


@dataclass
class Cycle:
    """What one cycle did."""

    rules: int = 0
    fired: list[int] = field(default_factory=list)
    reopened: int = 0
    resolved: int = 0
    escalated: int = 0
    failed_rules: list[str] = field(default_factory=list)
    elapsed_ms: int = 0

    def text(self) -> str:
        """One line for the job history."""
        line = (
            f"评估 {self.rules} 条规则，用时 {self.elapsed_ms} 毫秒：新告警 {len(self.fired)}，"
            f"重新触发 {self.reopened}，已恢复 {self.resolved}，升级 {self.escalated}"
        )
        if self.failed_rules:
            line += f"；评估出错的规则：{'、'.join(self.failed_rules)}"
        return line


def evaluate(*, now: datetime) -> Cycle:
    """Run every enabled rule once and bring the alerts in line with what holds now.

    Every rule is read first and the alerts written after, so the configuration database's
    write lock is held for the writes only, never through the rules' lake reads.
    """
    started = time.perf_counter()
    cycle = Cycle()
    with session_scope() as session:
        rules = session.exec(select(AlertRule).order_by(AlertRule.id)).all()
        open_alerts = {
            a.fingerprint: a
            for a in session.exec(select(Alert).where(Alert.state != "resolved")).all()
        }
        found, held = _findings(session, rules, open_alerts, now, cycle)
        new_by_rule = _apply(session, found, open_alerts, held, now, cycle)
        for print_, alert in open_alerts.items():
            if print_ not in held:
                why = "条件已恢复" if _rule_on(rules, alert) else "规则已停用"
                _resolve(session, alert, now, why)
                cycle.resolved += 1
        session.flush()
        by_id = {rule.id: rule for rule in rules}
        for rule_id, alerts in new_by_rule.items():
            notify.fired(session, rule=by_id[rule_id], alerts=alerts, now=now)
            cycle.fired += [a.id or 0 for a in alerts]
        cycle.escalated = _escalate(session, by_id, now)
        cycle.elapsed_ms = round((time.perf_counter() - started) * 1000)
        _beat(session, now, cycle.elapsed_ms)
    return cycle


def _findings(
    session: Session,
    rules: list[AlertRule],
    open_alerts: dict[str, Alert],
    now: datetime,
    cycle: Cycle,
) -> tuple[list[tuple[AlertRule, list[Finding]]], set[str]]:
    """Each enabled rule's findings (reads only); the open alerts of rules that failed."""
    ctx = Context(now=now, session=session, lake=get_settings().lake_dir)
    found: list[tuple[AlertRule, list[Finding]]] = []
    held: set[str] = set()
    for rule in rules:
        kind = BY_KEY.get(rule.kind)
        if not rule.enabled or rule.deleted_at is not None or kind is None:
            continue
        cycle.rules += 1
        try:
            found.append((rule, EVALUATORS[rule.kind](rule, stored(rule.params, kind), ctx)))
        except Exception:  # one broken rule must not stop the others, nor resolve its alerts
            logger.opt(exception=True).error("alerts: rule {} failed", rule.id)
            cycle.failed_rules.append(rule.name)
            held |= {fp for fp, a in open_alerts.items() if a.rule_id == rule.id}
    return found, held


def _apply(
    session: Session,
    found: list[tuple[AlertRule, list[Finding]]],
    open_alerts: dict[str, Alert],
    held: set[str],
    now: datetime,
    cycle: Cycle,
) -> dict[int, list[Alert]]:
    """Refresh the alerts that persist, open (or reopen) the new ones; new ones by rule."""
    new_by_rule: dict[int, list[Alert]] = {}
    for rule, findings in found:
        for finding in findings:
            print_ = fingerprint(rule.id or 0, finding.subject)
            held.add(print_)
            alert = open_alerts.get(print_)
            if alert is not None:
                _refresh(alert, finding, now)
                session.add(alert)
                continue
            alert, reopened = _open(session, rule, finding, print_, now)
            if reopened:
                cycle.reopened += 1
            else:
                new_by_rule.setdefault(rule.id or 0, []).append(alert)
    return new_by_rule


def _rule_on(rules: list[AlertRule], alert: Alert) -> bool:
    return any(rule.id == alert.rule_id and rule.enabled for rule in rules)


def _refresh(alert: Alert, finding: Finding, now: datetime) -> None:
    alert.last_at, alert.summary, alert.link = now, finding.summary[:1000], finding.link[:500]


def _open(
    session: Session, rule: AlertRule, finding: Finding, print_: str, now: datetime
) -> tuple[Alert, bool]:
    """A new alert, or the one this subject had resolved within the quiet period."""
    quiet_since = now - timedelta(minutes=rule.quiet_minutes)
    integrity = BY_KEY[rule.kind].integrity  # a new break is news, however soon it came
    recent = (
        rule.quiet_minutes
        and not integrity
        and session.exec(
            select(Alert)
            .where(Alert.fingerprint == print_, Alert.state == "resolved")
            .where(col(Alert.resolved_at) >= quiet_since)
            .order_by(col(Alert.resolved_at).desc())
        ).first()
    )
    if recent:
        recent.state, recent.resolved_at, recent.resolved_by = "firing", None, ""
        recent.acked_at, recent.acked_by, recent.escalated_at = None, "", None
        _refresh(recent, finding, now)
        session.add(recent)
        session.flush()
        record_event(
            session, recent, "reopened", detail=f"静默期内再次触发，不重复通知：{finding.summary}"
        )
        return recent, True
    alert = Alert(
        rule_id=rule.id or 0, fingerprint=print_, kind=rule.kind, subject=finding.subject[:128],
        subject_label=finding.label[:200], tenant_code=finding.tenant, severity=rule.severity,
        summary=finding.summary[:1000], link=finding.link[:500], first_at=now, last_at=now,
    )  # fmt: skip
    session.add(alert)
    session.flush()
    record_event(session, alert, "fired", detail=finding.summary)
    return alert, False


def _resolve(session: Session, alert: Alert, now: datetime, why: str) -> None:
    alert.state, alert.resolved_at, alert.resolved_by = "resolved", now, SYSTEM
    alert.pending_resolve_by = ""
    session.add(alert)
    record_event(session, alert, "resolved", detail=why)


def _escalate(session: Session, rules: dict[int | None, AlertRule], now: datetime) -> int:
    """Alerts still firing (not acknowledged) past their rule's limit: told upward once."""
    waiting = session.exec(
        select(Alert).where(Alert.state == "firing", col(Alert.escalated_at).is_(None))
    ).all()
    due: dict[int, list[Alert]] = {}
    for alert in waiting:
        rule = rules.get(alert.rule_id)
        if rule is None or not rule.escalate_minutes or not rule.escalate_channel_ids:
            continue
        if alert.first_at + timedelta(minutes=rule.escalate_minutes) <= now:
            alert.escalated_at = now
            session.add(alert)
            record_event(session, alert, "escalated",
                   detail=f"超过 {rule.escalate_minutes} 分钟未确认，已通知升级对象")  # fmt: skip
            due.setdefault(alert.rule_id, []).append(alert)
    for rule_id, alerts in due.items():
        notify.escalated(session, rule=rules[rule_id], alerts=alerts, now=now)
    return sum(len(alerts) for alerts in due.values())


def record_event(
    session: Session, alert: Alert, kind: str, *, actor: str = SYSTEM, detail: str = ""
) -> None:
    """Add a line to an alert's history."""
    session.add(AlertEvent(alert_id=alert.id or 0, kind=kind, actor=actor, detail=detail[:1000]))


def heartbeat_row(session: Session) -> Heartbeat:
    """Row 1 of the heartbeat, made first if need be by whichever job beats first.

    Evaluation and the heartbeat job run at once in separate processes (and leaders may
    overlap for a moment): the row is inserted with ON CONFLICT DO NOTHING, so neither fails.
    """
    beat = session.get(Heartbeat, 1)
    if beat is not None:
        return beat
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    session.execute(
        insert(Heartbeat).values(id=1, beat_at=utcnow(), evaluation_ms=0, push_error="")
        .on_conflict_do_nothing(index_elements=["id"])
    )  # fmt: skip
    return session.get_one(Heartbeat, 1, populate_existing=True)


def _beat(session: Session, now: datetime, elapsed_ms: int) -> None:
    beat = heartbeat_row(session)
    beat.beat_at, beat.evaluated_at, beat.evaluation_ms = now, now, elapsed_ms
    session.add(beat)
