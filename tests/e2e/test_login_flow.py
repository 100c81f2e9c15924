"""Login, forced password change, deep links, logout, 404 — in a real Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from console.audit.models import OperationLog
from console.authz.service import read_seed_policy
from console.core.clock import utcnow
from console.core.db import session_scope
from console.iam.models import LoginSession, User
from console.ui.navigation import SECTIONS
from tests.e2e.conftest import SEEDS, fresh_code, log_in, wait_until_ready
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_wrong_password_shows_a_chinese_error(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    account = make_user("e2e_wrong")
    log_in(page, console_server.base_url, account, "not-the-password")
    expect(page.get_by_test_id("login-error")).to_have_text(
        "账号或密码错误；多次失败请联系安全管理员"
    )
    expect(page).to_have_url(re.compile(r"/login"))


def test_empty_account_is_flagged_as_you_leave_the_field(
    page: Page, console_server: ConsoleServer
) -> None:
    page.goto(f"{console_server.base_url}/login")
    wait_until_ready(page)
    page.get_by_test_id("login-account").focus()
    page.get_by_test_id("login-password").focus()
    expect(page.get_by_role("alert").filter(has_text="请输入账号")).to_be_visible()


def test_first_login_forces_a_password_change_then_returns_to_the_deep_link(
    page: Page, console_server: ConsoleServer
) -> None:
    page.goto(f"{console_server.base_url}/audit")
    expect(page).to_have_url(re.compile(r"/login\?next=/audit"))
    log_in(
        page, console_server.base_url, "auditadmin", console_server.admin_passwords["auditadmin"]
    )

    expect(page).to_have_url(re.compile(r"/change-password\?next=/audit"))
    expect(page.get_by_test_id("pw-forced")).to_be_visible()
    rules = page.get_by_test_id("pw-rules")
    page.get_by_test_id("pw-new").fill("weak")
    expect(rules.locator("[data-passed='false']")).to_have_count(2)
    page.get_by_test_id("pw-new").fill("Auditadmin#2026")
    expect(rules.locator("[data-passed='false']")).to_have_count(1)  # contains the account
    new_password = "Strong#NewPass2026"
    page.get_by_test_id("pw-new").fill(new_password)
    expect(rules.locator("[data-passed='false']")).to_have_count(0)

    page.get_by_test_id("pw-current").fill(console_server.admin_passwords["auditadmin"])
    page.get_by_test_id("pw-confirm").fill(new_password)
    page.get_by_test_id("pw-submit").click()

    # An administrator binds an authenticator before anything else.
    expect(page).to_have_url(re.compile(r"/second-factor\?next=/audit"))
    expect(page.get_by_test_id("mfa-forced")).to_be_visible()
    expect(page.get_by_role("img", name="绑定二维码")).to_be_visible()
    expect(page.get_by_test_id("mfa-secret")).to_have_text(
        re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4})+$")
    )
    secret = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    page.get_by_test_id("mfa-code").fill("12345")
    page.get_by_test_id("mfa-bind").click()
    expect(page.get_by_role("alert").filter(has_text="请输入 6 位数字")).to_be_visible()
    SEEDS["auditadmin"] = secret
    page.get_by_test_id("mfa-code").fill(fresh_code("auditadmin"))
    page.get_by_test_id("mfa-bind").click()
    expect(page.get_by_test_id("mfa-recovery-code")).to_have_count(10)
    page.get_by_test_id("mfa-done").click()

    expect(page).to_have_url(re.compile(r"/audit/?$"))
    expect(page.get_by_role("heading", name="日志审计", level=1)).to_be_visible()
    expect(page.get_by_test_id("header-tenant")).to_have_text(re.compile("全省"))
    expect(page.get_by_role("navigation", name="主导航")).to_be_visible()


def test_password_change_names_the_wrong_field(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    account = make_user("e2e_pw", must_change=True)
    log_in(page, console_server.base_url, account)
    expect(page).to_have_url(re.compile(r"/change-password"))
    page.get_by_test_id("pw-current").fill("wrong-current")
    page.get_by_test_id("pw-new").fill("Another#Pass2026")
    page.get_by_test_id("pw-confirm").fill("Another#Pass2026")
    page.get_by_test_id("pw-submit").click()
    expect(page.get_by_role("alert").filter(has_text="当前密码不正确")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/change-password"))


def test_sidebar_shows_exactly_the_permitted_pages_and_each_opens(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    roles = ("sys_admin",)  # 三员 hold no business roles: a mixed set is refused
    log_in(page, console_server.base_url, make_user("e2e_nav", *roles))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    grants = read_seed_policy()
    readable = {obj for role in roles for obj, act in grants[role] if act == "read"}
    permitted = [section for section in SECTIONS if section.obj in readable]
    assert 0 < len(permitted) < len(SECTIONS)
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link")).to_have_count(len(permitted))
    for section in permitted:
        page.get_by_test_id(f"nav-{section.key}").click()
        path = re.escape(section.route.rstrip("/"))
        expect(page).to_have_url(re.compile(rf"{console_server.base_url}{path}/?$"))
        expect(page.get_by_role("heading", name=section.label, level=1)).to_be_visible()
        expect(page.get_by_test_id(f"nav-{section.key}")).to_have_attribute("aria-current", "page")
        expect(page).to_have_title(re.compile(section.label))


def test_forbidden_page_typed_by_hand_shows_no_permission_and_is_logged(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("e2e_nosy", "window_clerk"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.goto(f"{console_server.base_url}/audit")
    expect(page.get_by_test_id("page-forbidden")).to_contain_text("无权限")
    expect(page.get_by_role("heading", name="日志审计")).to_have_count(0)
    with session_scope(console_server.db_url) as session:
        denials = session.exec(
            select(OperationLog).where(
                OperationLog.actor_account == "e2e_nosy",
                OperationLog.object == "audit.logs",
                OperationLog.outcome == "denied",
            )
        ).all()
    assert len(denials) == 1


def test_logout_ends_the_session_and_pages_need_login_again(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("e2e_logout", "window_clerk"))
    expect(page.get_by_test_id("user-menu")).to_contain_text("测**户")
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-logout").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_test_id("login-notice")).to_have_text("您已安全退出")
    page.goto(f"{console_server.base_url}/users")
    expect(page).to_have_url(re.compile(r"/login\?next=/users"))


def test_unknown_address_shows_the_404_page(page: Page, console_server: ConsoleServer) -> None:
    page.goto(f"{console_server.base_url}/no-such-page")
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    page.get_by_role("link", name="返回首页").click()
    expect(page).to_have_url(re.compile(r"/login"))


def test_deep_link_returns_there_after_login(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    account = make_user("e2e_deep", "window_clerk")
    page.goto(f"{console_server.base_url}/dictionaries")
    expect(page).to_have_url(re.compile(r"/login\?next=/dictionaries"))
    log_in(page, console_server.base_url, account)
    expect(page).to_have_url(re.compile(r"/dictionaries/?$"))
    expect(page.get_by_role("heading", name="数据字典", level=1)).to_be_visible()


def test_idle_session_sends_the_next_click_to_login_with_the_reason(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    account = make_user("e2e_idle", "sys_admin")
    log_in(page, console_server.base_url, account)
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    # Let 概览 finish loading first: its figures arrive from a background event, and one still
    # running when the session ages would send the page to the login form on its own.
    expect(page.get_by_test_id("overview-text")).to_contain_text("截至")
    with session_scope(console_server.db_url) as session:
        user = session.exec(select(User).where(User.account == account)).one()
        for login in session.exec(select(LoginSession).where(LoginSession.user_id == user.id)):
            login.last_seen_at = utcnow() - timedelta(minutes=31)
            session.add(login)
    page.get_by_test_id("nav-tenants").click()
    expect(page).to_have_url(re.compile(r"/login\?next=/tenants"))
    expect(page.get_by_test_id("login-notice")).to_have_text("会话已超时，请重新登录")
