"""机构通道统计 in the browser: an institution's cases and a refused channel's rate."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import just_now, log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_a_supervisor_sees_institutions_and_their_rejections(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    key = console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "通道统计测试",
        "--streams", "logs.case_event",
    ).strip()  # fmt: skip
    moment = just_now()
    records = [
        {"event_id": f"cs-{n}-{step}", "ts": moment.isoformat(), "tenant": "330000",
         "case_no": f"CS-{n}", "business_code": "9000101", "registration_type": "900",
         "channel": "bank", "step": step, "institution": "示例商业银行"}
        for n in range(3) for step in (("accept", "reject") if n == 0 else ("accept",))
    ]  # fmt: skip
    assert console_server.push_logs(key, "case_event", records)["accepted"] == 4
    log_in(page, console_server.base_url, make_user("channel_stats_e2e", "province_supervisor"))
    page.get_by_test_id("nav-channel_stats").click()
    table = page.get_by_test_id("channel-stats-institutions")
    expect(table).to_contain_text("示例商业银行")
    expect(table).to_contain_text("33.3%")
    expect(page.get_by_test_id("channel-stats-text")).to_contain_text("经机构通道受理")
    expect(page.get_by_test_id("channel-stats-chart").locator(".main-svg").first).to_be_visible()
