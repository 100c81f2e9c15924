"""An alert's life: grouped notifications, the bell, acknowledgement, silences, maintenance,
escalation, the quiet period, and the auditor's confirmation for integrity alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from console.alerts import engine, service
from console.alerts.models import (
    Alert,
    AlertEvent,
    AlertRule,
    MaintenanceWindow,
    Notification,
    NotifyChannel,
)
from console.alerts.rule_service import save_window
from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import Forbidden, NotFound
from console.core.paging import PageRequest
from console.logs.models import Verification
from console.tenancy.models import Tenant
from tests.support.world import BINJIANG, XIHU, World
from tests.unit.alerts.conftest import add_rule, alerts_of, call, push


def _now() -> datetime:
    return datetime.now(UTC)


def _channel(name: str = "值班邮箱") -> int:
    with session_scope() as session:
        channel = NotifyChannel(name=name, kind="email")
        session.add(channel)
        session.flush()
        return channel.id or 0


def _route(rule_id: int, channel_id: int, **changes: object) -> None:
    with session_scope() as session:
        rule = session.get(AlertRule, rule_id)
        assert rule is not None
        rule.channel_ids = str(channel_id)
        for name, value in changes.items():
            setattr(rule, name, value)
        session.add(rule)


def _notifications(purpose: str = "fired") -> list[Notification]:
    with session_scope() as session:
        found = session.exec(select(Notification).where(Notification.purpose == purpose)).all()
        session.expunge_all()
        return list(found)


def _silent_counties(count: int) -> int:
    """A rule that finds ``count`` counties silent (the world has 2; more are added)."""
    with session_scope() as session:
        for n in range(count - 2):
            session.add(Tenant(code=f"3301{20 + n}", name=f"测试县{n}", parent_code="330000"))
        for tenant in session.exec(select(Tenant)).all():
            tenant.created_at = _now() - timedelta(days=30)
            session.add(tenant)
    return add_rule("tenant_silent", stream="any", hours=1, age=timedelta(days=30))


def test_counties_that_stop_together_are_one_message_and_one_bell_item_each(
    province: World,
) -> None:
    rule = _silent_counties(5)
    channel = _channel()
    _route(rule, channel)

    engine.evaluate(now=_now())
    engine.evaluate(now=_now())  # persisting: nothing new to say

    (message,) = _notifications()
    assert message.channel_id == channel
    assert "等 5 项" in message.title and message.title.startswith("【重要】区县停止推送")
    assert message.body.count("· ") == 5
    assert message.link == f"/alerts?rule={rule}"
    sys_admin = province.actor("sys_admin")
    county = province.actor("county_admin")  # 西湖区
    with session_scope() as session:
        assert service.inbox(session=session, actor=sys_admin)[0] == 5
        unread, items = service.inbox(session=session, actor=county)
        assert unread == 1 and "西湖区" in items[0].title
        assert service.mark_read(session=session, actor=county) == 1
        assert service.inbox(session=session, actor=county)[0] == 0
        assert service.inbox(session=session, actor=sys_admin)[0] == 5  # each their own


def test_a_county_reads_only_its_own_alerts(province: World) -> None:
    _silent_counties(2)
    engine.evaluate(now=_now())
    binjiang = province.actor("binjiang_admin")
    with session_scope() as session:
        page = service.list_alerts(session=session, actor=binjiang,
                                   where=service.AlertFilter(), request=PageRequest())  # fmt: skip
        assert [row.tenant for row in page.items] == [BINJIANG]
        xihu_alert = session.exec(select(Alert).where(Alert.tenant_code == XIHU)).one()
        with pytest.raises(NotFound):
            service.history(session=session, actor=binjiang, alert_id=xihu_alert.id or 0)
        with pytest.raises(NotFound):
            service.acknowledge(session=session, actor=binjiang, alert_id=xihu_alert.id or 0)


def test_a_supervisor_reads_but_cannot_acknowledge_and_the_denial_is_logged(
    province: World,
) -> None:
    _silent_counties(2)
    engine.evaluate(now=_now())
    supervisor = province.actor("province_supervisor")
    with session_scope() as session:
        alert_id = session.exec(select(Alert.id)).first() or 0
        assert service.list_alerts(session=session, actor=supervisor, where=service.AlertFilter(),
                                   request=PageRequest()).total == 2  # fmt: skip
    with session_scope() as session, pytest.raises(Forbidden):
        service.acknowledge(session=session, actor=supervisor, alert_id=alert_id)
    with session_scope() as session:
        denial = session.exec(
            select(OperationLog).where(OperationLog.object == "ops.alerts",
                                       OperationLog.outcome == "denied")
        ).first()  # fmt: skip
        assert denial is not None


def test_acknowledging_stops_escalation_and_unacknowledged_alerts_escalate_once(
    province: World,
) -> None:
    rule = _silent_counties(2)
    first, boss = _channel("值班群"), _channel("主任手机")
    _route(rule, first, escalate_minutes=30, escalate_channel_ids=str(boss))
    engine.evaluate(now=_now())
    sys_admin = province.actor("sys_admin")
    with session_scope() as session:
        xihu = session.exec(select(Alert).where(Alert.tenant_code == XIHU)).one()
        service.acknowledge(session=session, actor=sys_admin, alert_id=xihu.id or 0, note="在查")

    later = _now() + timedelta(minutes=31)
    assert engine.evaluate(now=later).escalated == 1
    assert engine.evaluate(now=later + timedelta(minutes=5)).escalated == 0
    (escalation,) = _notifications("escalated")
    assert escalation.channel_id == boss and escalation.title.startswith("【升级】")
    assert "滨江区" in escalation.body and "西湖区" not in escalation.body


def test_a_silenced_subject_is_recorded_but_not_messaged(province: World) -> None:
    rule = add_rule("interface_health", interface="", minutes=10, min_success=90, p95_ms=0,
                    min_calls=5)  # fmt: skip
    _route(rule, _channel(), quiet_minutes=0)
    push("interface_call", [call("GA_ID", tenant=XIHU, ok=False) for _ in range(10)])
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    with session_scope() as session:
        service.silence(session=session, actor=province.actor("sys_admin"), alert_id=alert.id or 0,
                        hours=2, reason="公安接口计划内升级", whole_rule=False)  # fmt: skip
    later = _now() + timedelta(minutes=15)  # resolves (no calls in the window) ...
    engine.evaluate(now=later)
    push(
        "interface_call",
        [call("GA_ID", tenant=XIHU, ok=False, ts=later) for _ in range(10)],
        now=later,
    )
    engine.evaluate(now=later)  # ... and fires again, as a new alert, during the silence
    assert len(alerts_of(rule)) == 2
    assert len(_notifications()) == 1  # only the first firing was messaged
    with session_scope() as session:
        held = session.exec(select(AlertEvent).where(AlertEvent.kind == "held")).one()
        assert "静默中" in held.detail


def test_within_the_quiet_period_a_flapping_alert_reopens_instead_of_messaging_again(
    province: World,
) -> None:
    rule = add_rule("interface_health", interface="", minutes=10, min_success=90, p95_ms=0,
                    min_calls=5)  # fmt: skip
    _route(rule, _channel(), quiet_minutes=60)
    push("interface_call", [call("GA_ID", tenant=XIHU, ok=False) for _ in range(10)])
    engine.evaluate(now=_now())
    later = _now() + timedelta(minutes=15)
    engine.evaluate(now=later)
    push(
        "interface_call",
        [call("GA_ID", tenant=XIHU, ok=False, ts=later) for _ in range(10)],
        now=later,
    )
    cycle = engine.evaluate(now=later)
    assert cycle.reopened == 1 and len(alerts_of(rule)) == 1
    assert alerts_of(rule)[0].state == "firing"
    assert len(_notifications()) == 1


def test_a_maintenance_window_holds_messages_but_not_the_record(province: World) -> None:
    rule = _silent_counties(2)
    _route(rule, _channel())
    with session_scope() as session:
        save_window(session=session, actor=province.actor("sys_admin"), name="机房搬迁",
                    tenant_code="", starts_at=_now() - timedelta(minutes=1),
                    ends_at=_now() + timedelta(hours=2), reason="停机维护")  # fmt: skip
    engine.evaluate(now=_now())
    assert len(alerts_of(rule)) == 2 and _notifications() == []
    with session_scope() as session:
        assert session.exec(select(MaintenanceWindow)).one().name == "机房搬迁"


def _chain_alert(province: World) -> int:
    rule = add_rule("chain_break", severity="critical")
    with session_scope() as session:
        session.add(Verification(checked_by="系统", parts=3, breaks=1, summary="文件被改动"))
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    return alert.id or 0


def test_an_integrity_alert_is_resolved_only_with_the_auditors_confirmation(
    province: World,
) -> None:
    alert_id = _chain_alert(province)
    sys_admin, auditor = province.actor("sys_admin"), province.actor("audit_admin")
    with session_scope() as session:
        row = service.resolve(session=session, actor=sys_admin, alert_id=alert_id,
                              reason="误报：校验时磁盘满")  # fmt: skip
        assert row.state == "firing" and row.pending_resolve_by == sys_admin.account
    with session_scope() as session, pytest.raises(Forbidden):
        service.confirm(session=session, actor=sys_admin, alert_id=alert_id)  # not theirs to do
    with session_scope() as session:
        row = service.confirm(session=session, actor=auditor, alert_id=alert_id, note="已核实")
        assert row.state == "resolved"
        lines = [line.what for line in
                 service.history(session=session, actor=auditor, alert_id=alert_id)]  # fmt: skip
        assert lines == ["触发", "申请关闭", "审计管理员确认关闭"]


def test_an_integrity_silence_holds_nothing_until_the_auditor_confirms_it(
    province: World,
) -> None:
    alert_id = _chain_alert(province)
    with session_scope() as session:
        rule_id = session.get(Alert, alert_id).rule_id  # type: ignore[union-attr]
    _route(rule_id, _channel(), quiet_minutes=0)
    with session_scope() as session:
        service.silence(session=session, actor=province.actor("sys_admin"), alert_id=alert_id,
                        hours=4, reason="排查中", whole_rule=True)  # fmt: skip
    with session_scope() as session:  # the alert resolves, and breaks again
        session.add(Verification(checked_by="系统", parts=3, breaks=0, summary=""))
    engine.evaluate(now=_now())
    with session_scope() as session:
        session.add(Verification(checked_by="系统", parts=3, breaks=2, summary="又被改动"))
    engine.evaluate(now=_now())
    assert len(_notifications()) == 1  # the unconfirmed silence held nothing back

    with session_scope() as session:
        newest = session.exec(select(Alert).where(Alert.state == "firing")).one()
        service.confirm(session=session, actor=province.actor("audit_admin"),
                        alert_id=newest.id or 0)  # fmt: skip
        session.add(Verification(checked_by="系统", parts=3, breaks=0, summary=""))
    engine.evaluate(now=_now())
    with session_scope() as session:
        session.add(Verification(checked_by="系统", parts=3, breaks=1, summary="第三次"))
    engine.evaluate(now=_now())
    assert len(_notifications()) == 1  # confirmed: now it holds


def test_a_rule_that_raises_keeps_its_alerts_open_and_the_others_run(
    province: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = _silent_counties(2)
    engine.evaluate(now=_now())
    from console.alerts import evaluators

    def explode(*_args: object) -> list:
        raise RuntimeError("lake unreadable")

    monkeypatch.setitem(evaluators.EVALUATORS, "tenant_silent", explode)
    monkeypatch.setattr(engine, "EVALUATORS", evaluators.EVALUATORS)
    cycle = engine.evaluate(now=_now())
    assert cycle.failed_rules and cycle.resolved == 0
    assert all(a.state == "firing" for a in alerts_of(broken))


def test_a_county_silencing_a_province_rule_silences_only_its_own_county(
    province: World,
) -> None:
    rule = _silent_counties(2)
    _route(rule, _channel(), quiet_minutes=0)
    engine.evaluate(now=_now())
    with session_scope() as session:
        xihu = session.exec(select(Alert).where(Alert.tenant_code == XIHU)).one()
        service.silence(session=session, actor=province.actor("county_admin"),
                        alert_id=xihu.id or 0, hours=4, reason="本县系统迁移",
                        whole_rule=True)  # fmt: skip
    with session_scope() as session:  # both counties push, then stop again
        for alert in session.exec(select(Alert)).all():
            alert.state, alert.resolved_at = "resolved", _now() - timedelta(hours=1)
            session.add(alert)
    engine.evaluate(now=_now())
    again = [n for n in _notifications() if n.created_at > _now() - timedelta(minutes=1)]
    assert len(again) == 2  # the first cycle's and the new one's
    assert "滨江区" in again[-1].body and "西湖区" not in again[-1].body


def test_a_maintenance_window_never_holds_back_a_broken_log_chain(province: World) -> None:
    with session_scope() as session:
        save_window(session=session, actor=province.actor("sys_admin"), name="升级",
                    tenant_code="", starts_at=_now() - timedelta(minutes=1),
                    ends_at=_now() + timedelta(hours=2), reason="升级")  # fmt: skip
    alert_id = _chain_alert(province)
    with session_scope() as session:
        rule_id = session.get(Alert, alert_id).rule_id  # type: ignore[union-attr]
    _route(rule_id, _channel())
    with session_scope() as session:
        session.add(Verification(checked_by="系统", parts=3, breaks=0, summary=""))
    engine.evaluate(now=_now())
    with session_scope() as session:
        session.add(Verification(checked_by="系统", parts=3, breaks=1, summary="又被改动"))
    engine.evaluate(now=_now())  # a new break: reopened? no — integrity is always news
    assert len(_notifications()) == 1
    assert len(alerts_of(rule_id)) == 2
