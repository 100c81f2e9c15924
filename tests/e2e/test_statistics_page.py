"""统计分析 in the browser: a supervisor drills from a city to a county to its cases to a trace."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from console.core.db import session_scope
from console.tenancy.models import Tenant
from tests.e2e.conftest import just_now, log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_a_supervisor_drills_from_a_city_bar_to_a_case_trace(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    with session_scope(console_server.db_url) as session:
        for code, name in (("330106", "西湖区"), ("330108", "滨江区")):
            if session.get(Tenant, code) is None:
                session.add(Tenant(code=code, name=name, parent_code="330000"))
    key = console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "统计测试",
        "--streams", "logs.case_event",
    ).strip()  # fmt: skip
    moment = just_now()
    records = [
        {"event_id": f"st-{n}", "ts": moment.isoformat(), "tenant": tenant,
         "case_no": f"ST-{n}", "business_code": "2000402", "registration_type": "200",
         "channel": "window", "step": "accept"}
        for n, tenant in enumerate(("330106", "330106", "330106", "330108"))
    ]  # fmt: skip
    assert console_server.push_logs(key, "case_event", records)["accepted"] == 4
    log_in(page, console_server.base_url, make_user("stats_e2e", "province_supervisor"))
    page.get_by_test_id("nav-statistics").click()
    expect(page.get_by_test_id("stats-chart").locator(".main-svg").first).to_be_visible()
    expect(page.get_by_test_id("stats-text")).to_contain_text("所选期间受理件数共")
    page.get_by_test_id("stats-group-330100").click()
    expect(page.get_by_test_id("stats-city")).to_have_text("杭州市")
    expect(page.get_by_test_id("stats-group-330106")).to_be_visible()
    # Click 西湖区's bar (counties are in code order, so it is the first) in the chart itself.
    # Plotly's drag layer lies over the bars: click where the bar is, as a person would.
    drill = page.get_by_test_id("stats-drill")
    for _ in range(3):  # the city's chart may still be redrawing under the first click
        bar = page.get_by_test_id("stats-chart").locator(".bars .point").first.bounding_box()
        assert bar is not None
        # Rest on the bar first (Plotly draws its hover label), then press and release there.
        page.mouse.move(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)
        page.wait_for_timeout(300)
        page.mouse.down()
        page.mouse.up()
        try:
            drill.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    expect(drill).to_contain_text("西湖区 · 受理件数")
    expect(drill).to_contain_text("ST-")
    drill.get_by_test_id("stats-trace").first.click()
    expect(page).to_have_url(re.compile(r"/audit\?trace=ST-"))
    expect(page.get_by_test_id("trace-timeline")).to_contain_text("办件：受理")


def test_the_time_view_draws_the_trend_and_the_weekday_hour_heatmap(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("stats_time_e2e", "province_supervisor"))
    page.get_by_test_id("nav-statistics").click()
    expect(page.get_by_test_id("stats-chart").locator(".main-svg").first).to_be_visible()
    page.get_by_test_id("stats-dimension").get_by_role("radio", name="时间").click()
    expect(page.get_by_test_id("stats-heatmap").locator(".main-svg").first).to_be_visible()
    expect(page.get_by_test_id("stats-table")).to_contain_text("月")


def test_a_supervisor_saves_a_custom_view_and_reopens_it(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("stats_view_e2e", "province_supervisor"))
    page.get_by_test_id("nav-statistics").click()
    expect(page.get_by_test_id("stats-chart").locator(".main-svg").first).to_be_visible()
    page.get_by_test_id("stats-dimension").get_by_role("radio", name="渠道").click()
    page.get_by_test_id("stats-chart-type").click()
    page.get_by_role("option", name="饼图").click()
    expect(page.get_by_test_id("stats-chart").locator(".pielayer .slice").first).to_be_visible()
    page.get_by_test_id("stats-save-open").click()
    page.get_by_test_id("stats-view-name").fill("各渠道饼图")
    page.get_by_test_id("stats-view-save").click()
    expect(page.get_by_text("已保存视图「各渠道饼图」")).to_be_visible()
    page.get_by_test_id("stats-chart-type").click()
    page.get_by_role("option", name="柱状图").click()
    expect(page.get_by_test_id("stats-chart").locator(".pielayer .slice")).to_have_count(0)
    page.get_by_test_id("stats-views").click()
    page.get_by_role("option", name="各渠道饼图").click()
    expect(page.get_by_test_id("stats-chart").locator(".pielayer .slice").first).to_be_visible()
    expect(page.get_by_test_id("stats-dimension").get_by_role("radio", name="渠道")).to_be_checked()
