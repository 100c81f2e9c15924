"""三员分立 in the browser: resetting an administrator takes two administrators."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def _users_page(page: Page, base: str, account: str, keyword: str) -> None:
    log_in(page, base, account)
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.get_by_test_id("nav-users").click()
    page.get_by_test_id("users-keyword").fill(keyword)
    page.get_by_test_id("users-keyword").press("Enter")


def test_a_password_reset_of_an_administrator_needs_a_second_administrator(
    page: Page,
    browser: Browser,
    browser_context_args: dict,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
) -> None:
    base = console_server.base_url
    target = make_user("sep_auditor", "audit_admin")
    _users_page(page, base, make_user("sep_security", "sec_admin"), target)
    page.get_by_test_id(f"user-actions-{target}").click()
    expect(page.get_by_text("解锁并重置密码")).to_have_count(0)  # not alone for an admin
    page.get_by_test_id("action-reset-password").click()
    page.get_by_test_id("reset-ask-ok").click()
    request = page.get_by_test_id("reset-request").filter(has_text=target)
    expect(request).to_contain_text("须另一名管理员确认")  # the asker cannot confirm

    second = browser.new_context(**browser_context_args).new_page()
    _users_page(second, base, make_user("sep_system", "sys_admin"), target)
    second.get_by_test_id(f"reset-confirm-{target}").click()
    second.get_by_test_id("reset-confirm-ok").click()
    one_time = second.get_by_test_id("reset-one-time")
    expect(one_time).to_have_text(re.compile(r"\S{10,}"))
    password = one_time.inner_text()
    second.context.close()

    holder = browser.new_context(**browser_context_args).new_page()
    log_in(holder, base, target, password)
    expect(holder.get_by_text("sep_security 申请，sep_system")).to_be_visible()
    expect(holder).to_have_url(re.compile(r"/change-password"))
    holder.context.close()


def test_the_security_administrator_sets_which_roles_need_a_second_factor(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("mfa_roles", "sec_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.get_by_test_id("nav-roles").click()
    expect(page.get_by_test_id("role-mfa-audit_admin")).to_be_disabled()  # always on
    expect(page.get_by_test_id("role-mfa-audit_admin")).to_be_checked()
    clerk = page.get_by_test_id("role-mfa-window_clerk")
    expect(clerk).not_to_be_checked()
    clerk.click()
    expect(clerk).to_be_checked()
    page.reload()
    expect(page.get_by_test_id("role-mfa-window_clerk")).to_be_checked()  # stored
    page.get_by_test_id("role-mfa-window_clerk").click()  # the other tests' clerks sign in plainly
    expect(page.get_by_test_id("role-mfa-window_clerk")).not_to_be_checked()
