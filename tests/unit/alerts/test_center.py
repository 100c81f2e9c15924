"""告警中心's own reads: rights for the buttons, what waits for the auditor, one alert, the bell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from console.alerts import engine, service
from console.alerts.models import Alert
from console.alerts.state import hours_problem, reason_problem
from console.core.db import session_scope
from console.logs.models import Verification
from console.tenancy.models import Tenant
from tests.support.world import XIHU, World
from tests.unit.alerts.conftest import add_rule, alerts_of

# SQLite only: the 告警中心 reads; test_lifecycle runs the same services on PostgreSQL.
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _now() -> datetime:
    return datetime.now(UTC)


def _silent_counties() -> int:
    """A rule that finds both counties of the world silent."""
    with session_scope() as session:
        for tenant in session.exec(select(Tenant)).all():
            tenant.created_at = _now() - timedelta(days=30)
            session.add(tenant)
    rule = add_rule("tenant_silent", stream="any", hours=1, age=timedelta(days=30))
    engine.evaluate(now=_now())
    return rule


def _chain_alert() -> int:
    rule = add_rule("chain_break", severity="critical")
    with session_scope() as session:
        session.add(Verification(checked_by="系统", parts=3, breaks=1, summary="文件被改动"))
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    return alert.id or 0


@SQLITE
def test_rights_follow_the_roles(province: World) -> None:
    rights = {
        role: service.permissions(province.actor(role))
        for role in ("sys_admin", "audit_admin", "province_supervisor", "window_clerk")
    }
    assert rights["sys_admin"] == service.Rights(read=True, write=True, approve=False)
    assert rights["audit_admin"] == service.Rights(read=True, write=False, approve=True)
    assert rights["province_supervisor"] == service.Rights(read=True, write=False, approve=False)
    assert rights["window_clerk"] == service.Rights(read=False, write=False, approve=False)


@SQLITE
def test_what_waits_for_the_auditor_is_named_until_confirmed(province: World) -> None:
    chain = _chain_alert()
    _silent_counties()
    sys_admin, auditor = province.actor("sys_admin"), province.actor("audit_admin")
    with session_scope() as session:
        every = [a.id or 0 for a in session.exec(select(Alert)).all()]
        assert service.awaiting(session=session, actor=auditor, alert_ids=every) == {}
        service.resolve(session=session, actor=sys_admin, alert_id=chain, reason="误报：磁盘满")
        service.silence(session=session, actor=sys_admin, alert_id=chain, hours=2,
                        reason="排查中", whole_rule=True)  # fmt: skip
    with session_scope() as session:
        waiting = service.awaiting(session=session, actor=auditor, alert_ids=every)
        assert list(waiting) == [chain]  # the county alerts have nothing waiting
        assert f"{sys_admin.account} 申请关闭" in waiting[chain]
        assert "申请静默至" in waiting[chain] and "排查中" in waiting[chain]
        county = province.actor("county_admin")  # a province-level alert is not theirs to see
        assert service.awaiting(session=session, actor=county, alert_ids=every) == {}
    with session_scope() as session:
        service.confirm(session=session, actor=auditor, alert_id=chain)
    with session_scope() as session:
        assert service.awaiting(session=session, actor=auditor, alert_ids=every) == {}


@SQLITE
def test_one_alert_reads_as_in_the_list_with_who_closed_it(province: World) -> None:
    _silent_counties()
    sys_admin = province.actor("sys_admin")
    with session_scope() as session:
        xihu = session.exec(select(Alert).where(Alert.tenant_code == XIHU)).one()
        row = service.get_alert(session=session, actor=sys_admin, alert_id=xihu.id or 0)
        assert row.subject == "西湖区" and row.resolved == ""
        service.resolve(session=session, actor=sys_admin, alert_id=row.id, reason="已电话联系")
    with session_scope() as session:
        row = service.get_alert(session=session, actor=sys_admin, alert_id=row.id)
        assert row.state == "resolved" and row.resolved.startswith(sys_admin.account)


@SQLITE
def test_the_bell_counts_unread_items_and_is_absent_without_the_right(province: World) -> None:
    _silent_counties()
    sys_admin, clerk = province.actor("sys_admin"), province.actor("window_clerk")
    with session_scope() as session:
        assert service.bell_count(session=session, actor=sys_admin) == 2
        assert service.bell_count(session=session, actor=clerk) is None
        service.mark_read(session=session, actor=sys_admin)
    with session_scope() as session:
        assert service.bell_count(session=session, actor=sys_admin) == 0


def test_the_forms_say_what_is_wrong_as_the_service_would() -> None:
    assert reason_problem(" 好 ") == "请填写原因（至少 2 个字）"
    assert reason_problem("计划内升级") == ""
    assert hours_problem("0.5") and hours_problem("721") and hours_problem("两")
    assert hours_problem("1") == "" and hours_problem("720") == ""
