"""概览 in the browser: a supervisor sees the cards with today's figures, the text and charts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import just_now, log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_a_supervisor_sees_todays_cards_the_text_and_the_charts(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    key = console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "概览测试",
        "--streams", "logs.case_event",
    ).strip()  # fmt: skip
    moment = just_now()
    answer = console_server.push_logs(
        key,
        "case_event",
        [
            {"event_id": f"ov-{n}", "ts": moment.isoformat(), "tenant": "330000",
             "case_no": f"OV-{n}", "business_code": "9000101", "registration_type": "900",
             "channel": "online" if n % 2 else "bank", "step": "accept"}
            for n in range(4)
        ],
    )  # fmt: skip
    assert answer["accepted"] == 4
    log_in(page, console_server.base_url, make_user("overview_e2e", "province_supervisor"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    today = page.get_by_test_id("kpi-value-received_today")
    expect(today).to_contain_text("件")
    assert int(today.inner_text().split()[0].replace(",", "")) >= 4
    expect(page.get_by_test_id("kpi-online_share")).to_contain_text("%")
    expect(page.get_by_test_id("overview-text")).to_contain_text("本月受理")
    chart = page.get_by_test_id("overview-chart")
    expect(chart.locator(".main-svg").first).to_be_visible()
    expect(chart.locator(".xtick").first).to_contain_text("月")  # 11月27日, not "Nov 27"
    expect(page.get_by_test_id("overview-day")).to_have_value(moment.date().isoformat())
    expect(page.get_by_test_id("kpi-received_today")).to_contain_text("昨日")
    expect(page.get_by_test_id("kpi-received").locator("svg").first).to_be_visible()
    page.get_by_test_id("overview-refresh").click()
    expect(today).to_contain_text("件")
