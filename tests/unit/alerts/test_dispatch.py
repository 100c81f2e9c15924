"""From a firing rule to a message received: signed robots, e-mail with the link, retries with
back-off, a channel's hourly cap, failures shown and turned into an alert of their own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header

import pytest
from sqlmodel import select

from console.alerts import dispatch, engine, service
from console.alerts.channel_service import ChannelDraft, save_channel
from console.alerts.models import AlertRule, Notification, NotifyChannel
from console.core.db import session_scope
from console.core.outbound import OutboundPolicy
from console.core.settings import get_settings
from tests.support.receivers import SmtpReceiver, VendorReceiver
from tests.support.world import XIHU, World
from tests.unit.alerts.conftest import add_rule, alerts_of, call, push

# SQLite only: sending is the same on both databases (test_rules, test_lifecycle: both).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LOOPBACK = OutboundPolicy.parse("127.0.0.1")


@pytest.fixture
def vendors() -> Iterator[VendorReceiver]:
    receiver = VendorReceiver()
    try:
        yield receiver
    finally:
        receiver.stop()


def _now() -> datetime:
    return datetime.now(UTC)


def _dingtalk(world: World, vendors: VendorReceiver, secret: str | None = None, **more) -> int:
    with session_scope() as session:
        row = save_channel(
            session=session, actor=world.actor("sys_admin"), policy=LOOPBACK,
            draft=ChannelDraft(name=f"值班群{secret or ''}"[:20], kind="dingtalk",
                               config={"webhook": vendors.dingtalk_url,
                                       "secret": secret or vendors.dingtalk_secret}, **more),
        )  # fmt: skip
        return row.id


def _failing_interface(channel_id: int, **changes: object) -> int:
    rule = add_rule("interface_health", severity="critical", interface="", minutes=10,
                    min_success=90, p95_ms=0, min_calls=5)  # fmt: skip
    with session_scope() as session:
        row = session.get(AlertRule, rule)
        assert row is not None
        row.channel_ids = str(channel_id)
        for name, value in changes.items():
            setattr(row, name, value)
        session.add(row)
    push("interface_call", [call("GA_ID", tenant=XIHU, ok=False) for _ in range(10)])
    return rule


def _notes() -> list[Notification]:
    with session_scope() as session:
        found = session.exec(select(Notification).order_by(Notification.id)).all()
        session.expunge_all()
        return list(found)


def test_a_firing_rule_reaches_the_dingtalk_group_signed_and_the_history_says_so(
    province: World, vendors: VendorReceiver
) -> None:
    rule = _failing_interface(_dingtalk(province, vendors))
    engine.evaluate(now=_now())
    sent = dispatch.send_due(now=_now(), policy=LOOPBACK)
    assert (sent.sent, sent.failed) == (1, 0)
    (got,) = vendors.received  # the receiver checked DingTalk's signature
    assert got.vendor == "dingtalk" and vendors.rejected == []
    assert "【严重】共享接口成功率或时延：GA_ID" in got.body["markdown"]["title"]
    (alert,) = alerts_of(rule)
    with session_scope() as session:
        lines = service.history(session=session, actor=province.actor("sys_admin"),
                                alert_id=alert.id or 0)  # fmt: skip
    said = {line.what: line for line in lines}
    assert "已通知" in said and said["通知"].detail.startswith("已发送，第 1 次尝试")
    assert dispatch.send_due(now=_now(), policy=LOOPBACK).sent == 0  # sent once


def test_a_wrong_secret_fails_at_once_and_three_failures_raise_an_alert(
    province: World, vendors: VendorReceiver
) -> None:
    wrong = "SEC" + "f" * 64
    channel = _dingtalk(province, vendors, secret=wrong)
    _failing_interface(channel)
    watcher = add_rule("channel_failing", times=3)
    engine.evaluate(now=_now())
    assert dispatch.send_due(now=_now(), policy=LOOPBACK).failed == 1
    (note,) = _notes()
    assert (note.state, note.category, note.attempts) == ("failed", "签名校验失败", 1)
    assert wrong not in note.detail
    with session_scope() as session:  # two more failures (e.g. 测试发送) make a streak of 3
        row = session.get(NotifyChannel, channel)
        assert row is not None and row.fail_streak == 1
        row.fail_streak = 3
        session.add(row)
    engine.evaluate(now=_now())
    (alert,) = alerts_of(watcher)
    assert "签名校验失败" in alert.summary


def test_a_rate_limited_send_is_retried_with_back_off_and_then_delivered(
    province: World, vendors: VendorReceiver
) -> None:
    _failing_interface(_dingtalk(province, vendors))
    engine.evaluate(now=_now())
    vendors.mode = "rate_limit"
    now = _now()
    assert dispatch.send_due(now=now, policy=LOOPBACK).retrying == 1
    (note,) = _notes()
    assert note.state == "pending" and note.attempts == 1
    assert note.next_at - now == timedelta(minutes=1)
    assert dispatch.send_due(now=now + timedelta(seconds=30), policy=LOOPBACK).retrying == 0
    vendors.mode = "ok"
    assert dispatch.send_due(now=now + timedelta(minutes=1), policy=LOOPBACK).sent == 1
    assert _notes()[0].attempts == 2


def test_a_channel_over_its_hourly_cap_keeps_the_rest_waiting(
    province: World, vendors: VendorReceiver
) -> None:
    channel = _dingtalk(province, vendors, per_hour="1")
    _failing_interface(channel)
    other = add_rule("exception_burst", count=1, minutes=5)
    with session_scope() as session:
        row = session.get(AlertRule, other)
        assert row is not None
        row.channel_ids = str(channel)
        session.add(row)
    from tests.unit.alerts.conftest import failure

    push("exception", [failure("受理", tenant=XIHU) for _ in range(3)])
    engine.evaluate(now=_now())
    outcome = dispatch.send_due(now=_now(), policy=LOOPBACK)
    assert (outcome.sent, outcome.waiting) == (1, 1)
    assert len(vendors.received) == 1
    waiting = [n for n in _notes() if n.state == "pending"]
    assert len(waiting) == 1 and waiting[0].next_at > _now() + timedelta(minutes=59)


def test_an_email_arrives_in_chinese_with_the_link_to_the_evidence(
    province: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_EXTERNAL_URL", "https://bdc.example.gov.cn")
    get_settings.cache_clear()
    smtp = SmtpReceiver()
    try:
        with session_scope() as session:
            channel = save_channel(
                session=session, actor=province.actor("sys_admin"), policy=LOOPBACK,
                draft=ChannelDraft(
                    name="值班邮箱", kind="email", recipients=("duty@bdc.example.gov.cn",),
                    config={"host": "127.0.0.1", "port": str(smtp.port), "security": "none",
                            "sender": "alert@bdc.example.gov.cn"},
                ),
            )  # fmt: skip
        _failing_interface(channel.id)
        engine.evaluate(now=_now())
        assert dispatch.send_due(now=_now(), policy=LOOPBACK).sent == 1
        ((envelope, message),) = smtp.messages
    finally:
        smtp.stop()
    assert envelope.rcpt_tos == ["duty@bdc.example.gov.cn"]
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject.startswith("【严重】共享接口成功率或时延")
    body = message.get_content()
    assert "https://bdc.example.gov.cn/audit?stream=interface_call" in body
    assert "成功率 0.0%" in body


def test_secrets_and_recipients_are_not_stored_in_the_clear(
    province: World, vendors: VendorReceiver
) -> None:
    channel = _dingtalk(province, vendors, recipients=("13812345678",))
    with session_scope() as session:
        row = session.get(NotifyChannel, channel)
        assert row is not None
        stored = json.dumps(row.model_dump(), default=str)
    assert vendors.dingtalk_secret not in stored and vendors.dingtalk_token not in stored
    assert "13812345678" not in stored
