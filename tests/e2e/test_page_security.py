"""Pages in a real browser: every page under the CSP with no violation, the HttpOnly cookie.

Every browser test also fails on a CSP violation (``conftest.no_csp_violations``); this file
walks every page on purpose, as the users who may open each, with full page loads so that
each page's own inline scripts are checked against the policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from console.authz.service import read_seed_policy
from console.ui.navigation import SECTIONS
from tests.e2e.conftest import EnglishBrowser, english_on, just_now, log_in
from tests.support.server import ConsoleServer

WALKERS = ("sys_admin", "sec_admin", "audit_admin", "province_supervisor")
# What a bare code looks like in a column that has labels: the page must show the label
# (the code may follow it in parentheses, 西湖区（330106）), never the code alone.
DIVISION, REG_TYPE, BUSINESS = r"\d{6}", r"\d{3}", r"\d{7}"
WORD = r"[a-z][a-z0-9_.]*"  # apply, online, sys_admin, logs.case_event …
CODE_FIELDS: dict[str, dict[str, str]] = {
    "tenants": {"层级": WORD, "状态": WORD},
    "users": {"类别": WORD, "所属租户": DIVISION, "角色": WORD, "状态": WORD},
    "roles": {"类别": WORD, "范围": WORD},
    "interfaces": {"方向": WORD, "部门 / 类别": WORD, "状态": WORD, "健康": WORD},
    "api_keys": {"租户": DIVISION, "范围": WORD, "状态": WORD},
    "sharing_tasks": {"范围": DIVISION},
    "workflows": {"类别": REG_TYPE, "来源": WORD},
    "alert_rules": {"类型": WORD, "适用范围": DIVISION, "级别": WORD, "通知渠道": WORD},
    "system_jobs": {"结果": WORD, "触发": WORD},
    "audit": {
        "租户": DIVISION,
        "业务代码": BUSINESS,
        "登记类型": REG_TYPE,
        "渠道": WORD,
        "环节": WORD,
    },
    "log_retention": {"日志": WORD},
    "login_log": {"结果": WORD},
    "interface_monitor": {"部门": WORD, "接口": WORD, "结果": WORD},
    "channel_stats": {"渠道": WORD, "类型": WORD},
}
# Every cell of the tables on a page, by column header.
_COLUMNS = """() => Array.from(document.querySelectorAll("table")).flatMap((table) => {
  const headers = Array.from(table.querySelectorAll("thead th"), (h) => h.innerText.trim());
  return Array.from(table.querySelectorAll("tbody tr")).flatMap((row) =>
    Array.from(row.querySelectorAll("td"), (cell, i) => [headers[i] || "", cell.innerText.trim()]));
})"""


def codes_on(page: Page, fields: dict[str, str]) -> list[str]:
    """Cells that show a bare code where a label exists, or a value that leaked as None."""
    leaked = re.compile(r"\b(None|undefined|null|NaN)\b")
    return [
        f"{header}: {text}"
        for header, text in page.evaluate(_COLUMNS)
        if leaked.search(text) or (header in fields and re.fullmatch(fields[header], text))
    ]


def _records_to_show(server: ConsoleServer) -> None:
    """A case step and an interface call, so 日志审计 and the monitors have rows to check."""
    key = server.console(
        "apikey", "create", "--tenant", "330000", "--name", "页面巡检",
        "--streams", "logs.case_event,logs.interface_call",
    ).strip()  # fmt: skip
    now = just_now().isoformat()
    case = {
        "event_id": "walk-1", "ts": now, "tenant": "330000", "case_no": "330000-2026-WALK1",
        "business_code": "2000402", "registration_type": "200", "channel": "online",
        "step": "apply",
    }  # fmt: skip
    call = {
        "event_id": "walk-c1", "ts": now, "tenant": "330000", "case_no": "330000-2026-WALK1",
        "interface_code": "gab.sfhc", "department": "公安部", "trace_id": "t-walk",
        "caller": "reg", "duration_ms": 300, "result_code": "OK", "success": True,
    }  # fmt: skip
    assert server.push_logs(key, "case_event", [case])["rejected"] == []
    assert server.push_logs(key, "interface_call", [call])["rejected"] == []


def test_every_page_runs_under_the_policy_and_shows_dates_the_chinese_way_in_english(
    english_browser: EnglishBrowser, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    """Every page, in a Chromium started with --lang=en-US: no CSP violation (checked at
    teardown), no English month name, mm/dd/yyyy placeholder or browser date input, and no
    bare code in a column that has labels (``CODE_FIELDS``)."""
    _records_to_show(console_server)
    page, grants, walked = english_browser.page, read_seed_policy(), {}
    for role in WALKERS:
        readable = {obj for obj, act in grants[role] if act == "read"}
        log_in(page, console_server.base_url, make_user(f"e2e_csp_{role}", role))
        expect(page.get_by_test_id("user-menu")).to_be_visible()
        for section in SECTIONS:
            if section.obj not in readable or section.key in walked:
                continue
            page.goto(f"{console_server.base_url}{section.route}")
            expect(page.get_by_role("heading", name=section.label, level=1)).to_be_visible()
            page.wait_for_load_state("networkidle")
            walked[section.key] = english_on(page) + codes_on(
                page, CODE_FIELDS.get(section.key, {})
            )
        page.goto(f"{console_server.base_url}/account")
        expect(page.get_by_role("heading", name="我的账号", level=1)).to_be_visible()
        page.get_by_test_id("user-menu").click()
        page.get_by_test_id("menu-logout").click()  # a page load through /api/v1/session/end
        expect(page.get_by_test_id("login-notice")).to_have_text("您已安全退出")
    assert set(walked) == {section.key for section in SECTIONS}
    assert {key: found for key, found in walked.items() if found} == {}


def test_a_page_refuses_a_script_the_policy_does_not_name(
    page: Page, console_server: ConsoleServer, csp_violations: list[str]
) -> None:
    """The watcher itself: an injected inline script is refused and reported."""
    page.goto(f"{console_server.base_url}/login")
    expect(page.get_by_test_id("login-form")).to_have_attribute("data-ready", "true")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__injected = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__injected") is None
    assert any("script-src" in line for line in csp_violations)
    csp_violations.clear()  # expected here: keep the teardown check for the other tests


def test_the_session_cookie_is_httponly_strict_and_unreadable_by_script(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("e2e_cookie", "window_clerk"))
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["bdc_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["secure"] is False  # plain HTTP on loopback; Secure over HTTPS
    assert "bdc_session" not in page.evaluate("() => document.cookie")
    assert session["value"] not in page.content()


def test_a_sign_in_ticket_works_once(
    page: Page,
    browser: Browser,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
) -> None:
    tickets: list[str] = []
    page.on(
        "request",
        lambda request: tickets.append(request.url) if "/session/begin" in request.url else None,
    )
    log_in(page, console_server.base_url, make_user("e2e_ticket", "window_clerk"))
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    assert len(tickets) == 1
    other = browser.new_context(locale="zh-CN")
    try:
        thief = other.new_page()
        thief.goto(tickets[0])  # typed or sent from elsewhere: not from the login page
        expect(thief).to_have_url(re.compile(r"/login/?\?"))
        expect(thief.get_by_test_id("login-notice")).to_contain_text("本站登录页")
        # Replayed from a console page itself: the ticket was used once already.
        thief.evaluate("(url) => window.location.assign(url)", tickets[0])
        expect(thief.get_by_test_id("login-notice")).to_contain_text("登录已失效")
        assert "bdc_session" not in {c["name"] for c in other.cookies()}
    finally:
        other.close()
    page.reload()  # the signed-in tab is unaffected
    expect(page.get_by_test_id("user-menu")).to_be_visible()


@pytest.mark.parametrize("path", ["/login", "/users"])
def test_pages_are_not_framed_and_not_sniffed(
    page: Page, console_server: ConsoleServer, path: str
) -> None:
    response = page.goto(f"{console_server.base_url}{path}")
    assert response is not None
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
