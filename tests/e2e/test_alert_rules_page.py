"""告警规则 in the browser: a DingTalk channel checked as typed, refused a hostile address and
test-sent to a local robot; a rule with a parameter fixed as typed; a maintenance window
planned and ended; a county administrator kept to their county."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, delete, select

from console.alerts.models import AlertRule, MaintenanceWindow, Notification, NotifyChannel
from console.core.db import session_scope
from console.tenancy.models import Tenant
from tests.e2e.conftest import log_in
from tests.support.receivers import DINGTALK_SECRET, VendorReceiver
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e

CHANNEL = "页面测试钉钉群"
RULE = "页面测试接口成功率"
WINDOW = "页面测试停电检修"
XIHU = "330106"


@pytest.fixture
def vendors() -> Iterator[VendorReceiver]:
    """A DingTalk robot on loopback that checks the signature."""
    receiver = VendorReceiver()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def clean_alert_rules(console_server: ConsoleServer) -> Iterator[None]:
    """西湖区 exists; the test's channel, rule, window and test sends are gone afterwards."""
    with session_scope(console_server.db_url) as session:
        if session.get(Tenant, XIHU) is None:
            session.add(Tenant(code=XIHU, name="西湖区", parent_code="330000"))
    yield
    with session_scope(console_server.db_url) as session:
        ids = session.exec(select(NotifyChannel.id).where(NotifyChannel.name == CHANNEL)).all()
        session.exec(delete(Notification).where(col(Notification.channel_id).in_(ids)))  # type: ignore[call-overload]
        session.exec(delete(AlertRule).where(AlertRule.name == RULE))  # type: ignore[call-overload]
        session.exec(delete(NotifyChannel).where(NotifyChannel.name == CHANNEL))  # type: ignore[call-overload]
        session.exec(delete(MaintenanceWindow).where(MaintenanceWindow.name == WINDOW))  # type: ignore[call-overload]


def _choose(page: Page, select: str, option: str) -> None:
    page.get_by_test_id(select).click()
    page.get_by_role("option", name=option).click()


def _add_channel(page: Page, vendors: VendorReceiver) -> None:
    page.get_by_test_id("channel-new").click()
    page.get_by_test_id("channel-name").fill(CHANNEL)
    _choose(page, "channel-kind", "钉钉群机器人")
    page.get_by_test_id("channel-secret").fill("not-the-signing-key")
    expect(page.get_by_text("应为 SEC 开头")).to_be_visible()
    page.get_by_test_id("channel-secret").fill(DINGTALK_SECRET)
    expect(page.get_by_text("应为 SEC 开头")).to_have_count(0)
    # Cloud metadata: refused on save, when the address is checked against the allow-list.
    page.get_by_test_id("channel-webhook").fill("https://169.254.169.254/robot/send?access_token=x")
    page.get_by_test_id("channel-save").click()
    expect(page.get_by_test_id("channel-error")).to_contain_text(
        "Webhook 地址：地址不在对外访问白名单内"
    )
    page.get_by_test_id("channel-webhook").fill(vendors.dingtalk_url)
    page.get_by_test_id("channel-save").click()
    row = page.get_by_test_id("channel-row").filter(has_text=CHANNEL)
    expect(row).to_contain_text("尚未发送")

    row.get_by_test_id("channel-test").click()
    expect(page.get_by_text(f"测试消息已发送到“{CHANNEL}”")).to_be_visible()
    expect(row.get_by_test_id("channel-status")).to_contain_text("最近一次成功")
    assert [r.vendor for r in vendors.received] == ["dingtalk"]


def _add_rule(page: Page) -> None:
    page.get_by_test_id("rule-new").click()
    page.get_by_test_id("rule-name").fill(RULE)
    _choose(page, "rule-kind", "共享接口成功率或时延")
    page.get_by_test_id("rule-param-min_success").fill("150")
    expect(page.get_by_text("应在 0 到 100% 之间")).to_be_visible()
    page.get_by_test_id("rule-param-min_success").fill("95")
    expect(page.get_by_text("应在 0 到 100% 之间")).to_have_count(0)
    page.get_by_test_id("rule-channels").get_by_text(CHANNEL).click()
    page.get_by_test_id("rule-save").click()
    row = page.get_by_test_id("rule-row").filter(has_text=RULE)
    expect(row).to_contain_text("成功率下限 95 %")
    expect(row).to_contain_text(CHANNEL)
    expect(row).to_contain_text("全省")


def _edit_keeps_secrets_and_a_used_channel_stays(page: Page) -> None:
    channel = page.get_by_test_id("channel-row").filter(has_text=CHANNEL)
    channel.get_by_test_id("channel-edit").click()
    expect(page.get_by_test_id("channel-webhook")).to_have_attribute(
        "placeholder", "已设置，留空保持不变"
    )
    expect(page.get_by_test_id("channel-webhook")).to_have_value("")  # never sent back
    page.get_by_test_id("channel-save").click()  # blanks keep the stored secrets
    expect(page.get_by_test_id("channel-webhook")).to_be_hidden()  # saved: the dialog closed
    # (the first save's notice may still be showing beside this one)
    expect(page.get_by_text("通知渠道已保存").last).to_be_visible()
    channel.get_by_test_id("channel-delete").click()
    page.get_by_test_id("channel-delete-ok").click()
    expect(page.get_by_text(f"规则仍在使用该渠道：{RULE}")).to_be_visible()
    rule = page.get_by_test_id("rule-row").filter(has_text=RULE)
    rule.get_by_test_id("rule-enabled").click()
    expect(page.get_by_text("规则已停用")).to_be_visible()
    expect(rule.get_by_test_id("rule-enabled")).to_have_attribute("data-state", "unchecked")


def _plan_and_end_window(page: Page) -> None:
    page.get_by_test_id("window-new").click()
    page.get_by_test_id("window-name").fill(WINDOW)
    page.get_by_test_id("window-reason").fill("机房断电检修")
    page.get_by_test_id("window-save").click()
    row = page.get_by_test_id("window-row").filter(has_text=WINDOW)
    expect(row.get_by_test_id("window-active")).to_be_visible()
    row.get_by_test_id("window-end").click()
    page.get_by_test_id("window-end-ok").click()
    expect(page.get_by_text("维护窗口已结束")).to_be_visible()
    expect(row).to_have_count(0)


def test_channels_rules_and_windows_are_set_on_the_page(
    page: Page,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
    vendors: VendorReceiver,
    clean_alert_rules: None,
) -> None:
    base = console_server.base_url
    with session_scope(console_server.db_url) as session:
        builtin = session.exec(select(AlertRule.name).where(AlertRule.builtin)).first()
        county_name = session.exec(select(Tenant.name).where(Tenant.code == XIHU)).one()
    assert builtin

    # Tall enough for the three sections, so toasts (bottom right) cover no row's buttons.
    page.set_viewport_size({"width": 1280, "height": 1300})
    log_in(page, base, make_user("ar_system", "sys_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.goto(f"{base}/alert-rules")
    expect(page.get_by_test_id("rule-row").filter(has_text=builtin)).to_be_visible()
    _add_channel(page, vendors)
    _add_rule(page)
    _edit_keeps_secrets_and_a_used_channel_stays(page)
    _plan_and_end_window(page)

    page.context.clear_cookies()
    log_in(page, base, make_user("ar_county", "county_admin", tenant=XIHU))
    page.get_by_test_id("nav-alert_rules").click()
    expect(page.get_by_test_id("rule-new")).to_be_visible()
    expect(page.get_by_test_id("rule-row").filter(has_text=builtin)).to_have_count(0)
    expect(page.get_by_test_id("rule-row").filter(has_text=RULE)).to_have_count(0)
    expect(page.get_by_test_id("channel-row").filter(has_text=CHANNEL)).to_have_count(0)
    page.get_by_test_id("rule-new").click()
    expect(page.get_by_test_id("rule-scope-fixed")).to_have_text(county_name)
    expect(page.get_by_test_id("rule-channels")).not_to_contain_text(CHANNEL)
