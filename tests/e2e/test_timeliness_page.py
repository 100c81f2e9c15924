"""办理时效 in the browser: a late mortgage discharge shows in the table and in the late list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from console.core.clock import CHINA_TZ
from tests.e2e.conftest import just_now, log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_a_supervisor_sees_a_late_case_and_opens_its_trace(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    key = console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "时效测试",
        "--streams", "logs.case_event",
    ).strip()  # fmt: skip
    now = datetime.now(CHINA_TZ).replace(microsecond=0)
    base = {"tenant": "330000", "case_no": "LATE-1", "business_code": "4000101",
            "registration_type": "400", "channel": "bank"}  # fmt: skip
    accepted, closed = now - timedelta(days=8), just_now()
    records = [
        base | {"event_id": "late-1", "ts": accepted.isoformat(), "step": "accept"},
        base | {"event_id": "late-2", "ts": closed.isoformat(), "step": "close"},
    ]
    assert console_server.push_logs(key, "case_event", records)["accepted"] == 2
    log_in(page, console_server.base_url, make_user("timeliness_e2e", "province_supervisor"))
    page.get_by_test_id("nav-timeliness").click()
    expect(page.get_by_test_id("timeliness-4000101")).to_contain_text("1 个工作日")
    expect(page.get_by_test_id("timeliness-late")).to_contain_text("LATE-1")
    expect(page.get_by_test_id("timeliness-text")).to_contain_text("超期办结")
    expect(page.get_by_test_id("timeliness-chart").locator(".main-svg").first).to_be_visible()
    page.get_by_test_id("timeliness-late").get_by_role("link", name="追溯").first.click()
    expect(page.get_by_test_id("trace-timeline")).to_contain_text("办件：办结")
