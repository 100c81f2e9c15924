"""Sending the queued notifications: retried with back-off, rate-limited per channel, shown.

A send that may succeed later (timeouts, refusals, the vendor's rate limit) is tried again
after 1, 2, 4, 8 and 16 minutes; one that cannot (a wrong signature or token, a bad
address) fails at once. Either way it is marked with its category and the channel's failure
streak grows — the built-in 通知渠道发送失败 rule turns a streak into an alert of its own.
A channel that has sent its hourly allowance keeps the rest waiting, never drops them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger
from sqlmodel import Session, col, select

from console.alerts import senders
from console.alerts.channel_service import mark_outcome, opened
from console.alerts.models import AlertEvent, Notification, NotifyChannel
from console.alerts.notify import absolute, ids_of
from console.core.db import session_scope
from console.core.outbound import OutboundPolicy

MAX_ATTEMPTS = 6
BATCH = 20  # × the 15 s deadline of a send: well inside the job's 10 minutes


@dataclass
class Sent:
    """What one dispatch round did."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    waiting: int = 0  # held back by a channel's hourly limit

    def text(self) -> str:
        """One line for the job history."""
        return (
            f"发送成功 {self.sent}，失败 {self.failed}，稍后重试 {self.retrying}，"
            f"因频率上限等待 {self.waiting}"
        )


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4, 8, 16 minutes."""
    return timedelta(minutes=2 ** max(0, attempts - 1))


def send_due(*, now: datetime, policy: OutboundPolicy) -> Sent:
    """Send what is due now (each in its own transaction, so one slow send holds no lock)."""
    with session_scope() as session:
        due = session.exec(
            select(Notification.id)
            .where(Notification.state == "pending", Notification.next_at <= now)
            .order_by(col(Notification.next_at))
            .limit(BATCH)
        ).all()
    outcome = Sent()
    for note_id in due:
        try:
            _send_one(note_id or 0, now, policy, outcome)
        except Exception:  # a bug in one send must not keep the others waiting
            logger.opt(exception=True).error("alerts: notification {} failed", note_id)
    return outcome


def _sent_last_hour(session: Session, channel_id: int, now: datetime) -> list[datetime]:
    return list(
        session.exec(
            select(Notification.sent_at)
            .where(Notification.channel_id == channel_id, Notification.state == "sent")
            .where(Notification.sent_at > now - timedelta(hours=1))
            .order_by(col(Notification.sent_at))
        ).all()
    )


def _send_one(note_id: int, now: datetime, policy: OutboundPolicy, outcome: Sent) -> None:
    with session_scope() as session:
        note = session.get(Notification, note_id)
        channel = session.get(NotifyChannel, note.channel_id) if note else None
        if note is None or note.state != "pending":
            return
        if channel is None or not channel.enabled:
            note.state, note.category = "failed", "渠道已停用"
            session.add(note)
            for alert_id in ids_of(note.alert_ids):  # never a silent drop
                session.add(AlertEvent(alert_id=alert_id, kind="notify_failed",
                                       detail="通知渠道已停用，未发送"))  # fmt: skip
            outcome.failed += 1
            return
        recent = _sent_last_hour(session, channel.id or 0, now)
        if len(recent) >= channel.per_hour:
            note.next_at = (recent[0] or now) + timedelta(hours=1)
            session.add(note)
            outcome.waiting += 1
            return
        config, recipients = opened(channel)
    message = senders.Message(
        title=note.title, text=note.body, link=absolute(note.link), severity=note.severity
    )
    result = senders.send(channel.kind, config, recipients, message, policy=policy)
    with session_scope() as session:
        note = session.get(Notification, note_id)
        channel = session.get(NotifyChannel, note.channel_id) if note else None
        if note is None or channel is None:
            return
        note.attempts += 1
        note.category, note.detail = result.category[:64], result.detail[:500]
        if result.ok:
            note.state, note.sent_at = "sent", now
            outcome.sent += 1
        elif result.retry and note.attempts < MAX_ATTEMPTS:
            note.next_at = now + backoff(note.attempts)
            outcome.retrying += 1
        else:
            note.state = "failed"
            outcome.failed += 1
        mark_outcome(channel, result)
        session.add(note)
        session.add(channel)
        _history(session, note, channel, result)


def _history(
    session: Session, note: Notification, channel: NotifyChannel, result: senders.SendResult
) -> None:
    if result.ok:
        kind, detail = "notified", f"已通过“{channel.name}”发送"
    else:
        later = "，稍后重试" if note.state == "pending" else ""
        kind, detail = "notify_failed", f"“{channel.name}”发送失败：{result.category}{later}"
    for alert_id in ids_of(note.alert_ids):
        session.add(AlertEvent(alert_id=alert_id, kind=kind, detail=detail))
