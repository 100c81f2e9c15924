"""办理时效 in the browser: a late mortgage discharge shows in the table and in the late list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from console.authz import service as authz
from console.core.clock import CHINA_TZ
from console.core.db import session_scope
from console.iam.models import Role
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


def test_a_province_administrator_changes_a_promised_limit_checked_as_typed(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    key = console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "时限测试",
        "--streams", "logs.case_event",
    ).strip()  # fmt: skip
    base = {"tenant": "330000", "case_no": "LIMIT-1", "business_code": "2000402",
            "registration_type": "200", "channel": "window"}  # fmt: skip
    moment = just_now()
    records = [
        base | {"event_id": "limit-1", "ts": moment.isoformat(), "step": "accept"},
        base | {"event_id": "limit-2", "ts": moment.isoformat(), "step": "close"},
    ]
    assert console_server.push_logs(key, "case_event", records)["accepted"] == 2
    # Limits belong to the business definitions: a province role that may edit those and
    # read the dashboards (the built-in system administrator reads no statistics).
    with session_scope(console_server.db_url) as session:
        session.add(Role(code="limits_keeper", name="时限维护员", category="业务",
                         scope="province", builtin=False))  # fmt: skip
        authz.set_role_permissions(
            session,
            role_code="limits_keeper",
            permissions={
                ("dashboards.overview", "read"),
                ("dashboards.statistics", "read"),
                ("workflows.definitions", "write"),
                ("workflows.definitions", "approve"),
            },
        )
    account = make_user("limits_e2e", "limits_keeper")
    log_in(page, console_server.base_url, account)
    page.get_by_test_id("nav-timeliness").click()
    row = page.get_by_test_id("timeliness-2000402")
    row.get_by_test_id("limit-edit-2000402").click()
    days = page.get_by_test_id("limit-days")
    days.fill("45")
    expect(page.get_by_role("dialog")).to_contain_text("应为 0 到 30 之间的整数")
    expect(page.get_by_test_id("limit-save")).to_be_disabled()
    days.fill("3")
    page.get_by_test_id("limit-save").click()
    expect(row).to_contain_text("3 个工作日")
    supervisor = make_user("limits_e2e_reader", "province_supervisor")
    page.context.clear_cookies()
    log_in(page, console_server.base_url, supervisor)
    page.get_by_test_id("nav-timeliness").click()
    expect(page.get_by_test_id("timeliness-2000402")).to_contain_text("3 个工作日")
    expect(page.get_by_test_id("limit-edit-2000402")).to_have_count(0)
