"""告警中心 in the browser: the bell, tiles and filters, acknowledge, a silence with its reason
checked as typed, a resolve of an integrity alert asked by the system administrator and
confirmed by the audit administrator."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, col, delete, select

from console.alerts.engine import fingerprint
from console.alerts.models import Alert, AlertEvent, AlertRule, AlertSilence, InboxItem
from console.core.clock import local_day, to_local_text, utcnow
from console.core.db import session_scope
from console.iam.models import User
from console.logs.models import Verification
from console.logs.search import search_url
from console.tenancy.models import Tenant
from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e

COUNTY, COUNTY_NAME = "339961", "告警测试区"
BREAK = "E2E：第 3 段校验链断裂"


@dataclass(frozen=True)
class Seeded:
    """What the fixture wrote into the server's database."""

    silent: int  # a county that stopped pushing (an ordinary alert)
    chain: int  # the built-in chain_break rule's alert (an integrity alert)


def _chain_rule(session: Session) -> AlertRule:
    """The built-in chain_break rule (its alert is the one the server would raise)."""
    rule = session.exec(
        select(AlertRule).where(AlertRule.kind == "chain_break", AlertRule.builtin)
    ).first()
    assert rule is not None and rule.enabled
    return rule


def _alert_ids(session: Session, rule_id: int) -> set[int]:
    return {i for i in session.exec(select(Alert.id).where(Alert.rule_id == rule_id)).all() if i}


def _alert(rule: AlertRule, subject: str, label: str, summary: str, link: str) -> Alert:
    # Exactly what the server's own evaluation finds (the same fingerprint, summary, link):
    # while the test runs, its rule evaluation refreshes these alerts instead of resolving them.
    now = utcnow()
    return Alert(
        rule_id=rule.id or 0, fingerprint=fingerprint(rule.id or 0, subject), kind=rule.kind,
        subject=subject, subject_label=label, tenant_code=rule.tenant_code,
        severity=rule.severity, summary=summary, link=link,
        first_at=now - timedelta(hours=2), last_at=now,
    )  # fmt: skip


@pytest.fixture
def seeded_alerts(console_server: ConsoleServer) -> Iterator[Seeded]:
    """A silent county with its rule and alert, a broken log chain with its alert.

    Everything written here (and whatever the page and the server's evaluation added to
    these alerts) is removed afterwards.
    """
    started, long_ago = utcnow(), utcnow() - timedelta(days=30)
    with session_scope(console_server.db_url) as session:
        session.add(Tenant(code=COUNTY, name=COUNTY_NAME, parent_code="330000",
                           created_at=long_ago))  # fmt: skip
        silent_rule = AlertRule(name="E2E 区县停止推送", kind="tenant_silent", tenant_code=COUNTY,
                                params=json.dumps({"stream": "any", "hours": 1}),
                                severity="major", updated_at=long_ago)  # fmt: skip
        check = Verification(checked_by="系统", parts=3, breaks=1, summary=BREAK)
        session.add_all([silent_rule, check])
        session.flush()
        chain_rule = _chain_rule(session)
        before = _alert_ids(session, chain_rule.id or 0)
        still_open = select(Alert.id).where(
            Alert.rule_id == chain_rule.id, Alert.state != "resolved"
        )
        assert session.exec(still_open).first() is None, "a chain_break alert is open already"
        day = local_day(utcnow())
        silent = _alert(
            silent_rule, COUNTY, COUNTY_NAME,
            f"{COUNTY_NAME}至今在工作时间内超过 1 小时未推送办件进度、接口调用日志",
            search_url("case_event", local_day(long_ago), day, tenant=COUNTY),
        )  # fmt: skip
        chain = _alert(
            chain_rule, "integrity", "日志完整性",
            f"{to_local_text(check.checked_at)} 的日志完整性校验发现 1 处异常：{BREAK}",
            "/log-retention",
        )  # fmt: skip
        session.add_all([silent, chain])
        session.flush()
        session.add_all(
            [
                AlertEvent(alert_id=a.id or 0, kind="fired", detail=a.summary)
                for a in (silent, chain)
            ]
        )
        seeded = Seeded(silent.id or 0, chain.id or 0)
        rule_ids = [silent_rule.id or 0, chain_rule.id or 0]
    yield seeded
    with session_scope(console_server.db_url) as session:
        ids = _alert_ids(session, rule_ids[0]) | (_alert_ids(session, rule_ids[1]) - before)
        for statement in (
            delete(InboxItem).where(col(InboxItem.alert_id).in_(ids)),
            delete(AlertEvent).where(col(AlertEvent.alert_id).in_(ids)),
            delete(Alert).where(col(Alert.id).in_(ids)),
            delete(AlertSilence).where(
                col(AlertSilence.rule_id).in_(rule_ids), col(AlertSilence.created_at) >= started
            ),
            delete(Verification).where(col(Verification.summary) == BREAK),
            delete(AlertRule).where(col(AlertRule.id) == rule_ids[0]),
            delete(Tenant).where(col(Tenant.code) == COUNTY),
        ):
            session.exec(statement)  # type: ignore[call-overload]


def _into_bell(server: ConsoleServer, account: str, seeded: Seeded) -> None:
    """Both alerts in the account's bell, unread (as the evaluation puts new alerts there)."""
    with session_scope(server.db_url) as session:
        user_id = session.exec(select(User.id).where(User.account == account)).one()
        for alert_id, title in ((seeded.silent, "重要：区县停推"), (seeded.chain, "严重：校验链")):
            session.add(
                InboxItem(user_id=user_id, alert_id=alert_id, title=f"{title} {COUNTY_NAME}")
            )


def _row(page: Page, text: str) -> Locator:
    return page.get_by_test_id("alert-row").filter(has_text=text)


def _pick(page: Page, testid: str, option: str) -> None:
    page.get_by_test_id(testid).click()
    page.get_by_role("option", name=option, exact=True).click()


def _system_administrator_handles_the_alerts(page: Page, base: str, seeded: Seeded) -> None:
    expect(page.get_by_test_id("bell-count")).to_have_text("2")
    page.get_by_test_id("bell").click()
    page.get_by_test_id("bell-item").filter(has_text="区县停推").click()
    expect(page).to_have_url(re.compile(rf"/alerts\?alert={seeded.silent}$"))
    history = page.get_by_test_id("alert-history")
    expect(history).to_contain_text("触发")
    expect(page.get_by_role("dialog")).to_contain_text(f"对象：{COUNTY_NAME}")
    expect(page.get_by_test_id("bell-count")).to_have_text("1")
    page.get_by_role("dialog").get_by_role("button", name="关闭").click()

    expect(page.get_by_test_id("alert-tile-critical-count")).not_to_have_text("0")
    expect(page.get_by_test_id("alert-tile-major-count")).not_to_have_text("0")
    expect(_row(page, BREAK)).to_be_visible()
    _pick(page, "alerts-kind-filter", "区县停止推送")
    expect(_row(page, BREAK)).to_have_count(0)
    silent = _row(page, COUNTY_NAME)
    expect(silent).to_contain_text("告警中")
    expect(silent.get_by_test_id("alert-evidence")).to_have_attribute(
        "href", re.compile(f"tenant={COUNTY}")
    )

    silent.get_by_test_id("alert-ack").click()
    page.get_by_test_id("alert-ack-note").fill("已电话联系区县")
    page.get_by_test_id("alert-ack-submit").click()
    expect(silent).to_contain_text("已确认")
    expect(silent.get_by_test_id("alert-ack")).to_have_count(0)

    silent.get_by_test_id("alert-silence").click()
    page.get_by_test_id("alert-silence-submit").click()
    expect(page.get_by_text("请填写原因（至少 2 个字）")).to_be_visible()
    page.get_by_test_id("alert-silence-reason").fill("区县机房停电检修")
    expect(page.get_by_text("请填写原因（至少 2 个字）")).to_have_count(0)
    page.get_by_test_id("alert-silence-submit").click()
    expect(page.get_by_text("已静默 4 小时")).to_be_visible()
    silence = page.get_by_test_id("alert-silence-row").filter(has_text="区县机房停电检修")
    expect(silence).to_contain_text("生效中")
    silence.get_by_test_id("alert-silence-end").click()
    page.get_by_test_id("alert-silence-end-ok").click()
    expect(silence).to_have_count(0)

    _pick(page, "alerts-kind-filter", "全部类型")
    chain = _row(page, BREAK)
    chain.get_by_test_id("alert-resolve").click()
    expect(page.get_by_role("dialog")).to_contain_text("关闭需审计管理员确认")
    page.get_by_test_id("alert-resolve-reason").fill("误")
    expect(page.get_by_text("请填写原因（至少 2 个字）")).to_be_visible()
    page.get_by_test_id("alert-resolve-reason").fill("误报：校验时磁盘已满")
    page.get_by_test_id("alert-resolve-submit").click()
    expect(chain).to_contain_text("待审计确认")
    expect(chain.get_by_test_id("alert-audit")).to_have_count(0)  # not the administrator's

    page.get_by_test_id("bell").click()
    page.get_by_test_id("bell-read-all").click()
    expect(page.get_by_test_id("bell-count")).to_have_count(0)


def test_alerts_are_handled_on_the_page_and_integrity_needs_the_auditor(
    page: Page,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
    seeded_alerts: Seeded,
) -> None:
    base = console_server.base_url
    account = make_user("al_system", "sys_admin")
    _into_bell(console_server, account, seeded_alerts)
    log_in(page, base, account)
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    _system_administrator_handles_the_alerts(page, base, seeded_alerts)

    page.context.clear_cookies()
    log_in(page, base, make_user("al_audit", "audit_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.goto(f"{base}/alerts")
    chain = _row(page, BREAK)
    expect(chain).to_contain_text("待审计确认")
    expect(page.get_by_test_id("alert-resolve")).to_have_count(0)  # read and approve only
    chain.get_by_test_id("alert-audit").click()
    expect(page.get_by_role("dialog")).to_contain_text("al_system 申请关闭")
    page.get_by_test_id("alert-audit-note").fill("已核实为误报")
    page.get_by_test_id("alert-audit-submit").click()
    expect(page.get_by_text("已确认，告警已关闭")).to_be_visible()
    expect(chain.get_by_test_id("alert-audit")).to_have_count(0)
