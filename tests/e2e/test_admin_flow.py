"""The administrators' core job in a real browser: tenant → organisation → user → role → login."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from console.audit.models import OperationLog
from console.authz.service import read_seed_policy
from console.core.db import session_scope
from console.iam.models import Organization, Role
from console.tenancy.models import Tenant
from console.ui.navigation import SECTIONS
from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def _pick(page: Page, trigger_testid: str, option: str) -> None:
    page.get_by_test_id(trigger_testid).click()
    page.get_by_role("option", name=option).click()


def _search_users(page: Page, keyword: str) -> None:
    """Narrow the users list: other tests add accounts to the shared server."""
    # Typed once the page's own first load has drawn its rows: a search sent before it could
    # be answered first, and the unfiltered rows drawn over the result.
    expect(page.locator('[data-testid^="user-row-"]').first).to_be_visible()
    # A dialog still closing keeps the focus inside it: Enter would not reach the search box.
    expect(page.get_by_role("dialog")).to_have_count(0)
    box = page.get_by_test_id("users-keyword")
    box.fill(keyword)
    expect(box).to_have_value(keyword)
    expect(box).to_be_focused()
    box.press("Enter")
    # Wait for the search's own answer: a menu opened on a row the first load drew would close
    # when the table is redrawn.
    rows = page.locator('[data-testid^="user-row-"]')
    expect(rows.first).to_be_visible()
    expect(rows.filter(has_not_text=keyword)).to_have_count(0)


def _new_context_page(browser: Browser, browser_context_args: dict) -> Page:
    return browser.new_context(**browser_context_args).new_page()


def test_admins_create_tenant_org_and_user_who_then_sees_only_permitted_pages(
    page: Page,
    browser: Browser,
    browser_context_args: dict,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
) -> None:
    base = console_server.base_url
    log_in(page, base, make_user("e2e_sys", "sys_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()

    page.get_by_test_id("nav-tenants").click()
    page.get_by_test_id("tenants-create").click()
    page.get_by_test_id("tenant-code").fill("330110")
    page.get_by_test_id("tenant-name").fill("余杭区")
    page.get_by_test_id("tenant-save").click()
    expect(page.get_by_test_id("tenant-row-330110")).to_contain_text("余杭区")

    page.get_by_test_id("nav-organizations").click()
    page.get_by_test_id("orgs-create").click()
    page.get_by_role("dialog").get_by_role("combobox").first.click()
    page.get_by_role("option", name="余杭区").click()
    page.get_by_test_id("org-name").fill("余杭区不动产登记中心")
    page.get_by_test_id("org-uscc").fill("91350100M000100Y44")
    page.get_by_test_id("org-name").focus()
    expect(page.get_by_role("alert").filter(has_text="第18位校验码应为3")).to_be_visible()
    page.get_by_test_id("org-uscc").fill("91350100M000100Y43")
    page.get_by_test_id("org-save").click()
    expect(page.get_by_test_id("org-row-余杭区不动产登记中心")).to_contain_text("余杭区")

    page.get_by_test_id("nav-users").click()
    page.get_by_test_id("users-create").click()
    page.get_by_test_id("new-account").fill("yuhang_sup")
    page.get_by_test_id("new-real_name").fill("章小余")
    _pick(page, "new-tenant", "余杭区")
    _pick(page, "org-select", "余杭区不动产登记中心")
    page.get_by_test_id("new-id_number").fill("11010519491231002X")
    page.get_by_test_id("new-phone").fill("13700001111")
    page.get_by_test_id("new-submit").click()
    one_time = page.get_by_test_id("one-time-password").inner_text()
    page.get_by_test_id("otp-done").click()
    _search_users(page, "yuhang_sup")
    row = page.get_by_test_id("user-row-yuhang_sup")
    expect(row).to_contain_text("章*余")
    expect(row).to_contain_text("余杭区不动产登记中心")
    expect(row).to_contain_text("110105********002X")
    expect(row).not_to_contain_text("11010519491231002X")
    page.context.close()

    security = _new_context_page(browser, browser_context_args)
    log_in(security, base, make_user("e2e_sec", "sec_admin"))
    expect(security.get_by_role("heading", name="概览", level=1)).to_be_visible()
    security.get_by_test_id("nav-users").click()
    _search_users(security, "yuhang_sup")
    security.get_by_test_id("user-actions-yuhang_sup").click()
    security.get_by_test_id("action-roles").click()
    security.get_by_test_id("role-county_supervisor").click()
    security.get_by_test_id("roles-save").click()
    expect(security.get_by_test_id("user-row-yuhang_sup")).to_contain_text("县级监管员")
    security.get_by_test_id("user-actions-yuhang_sup").click()
    security.get_by_test_id("action-explain").click()
    verdict = (
        security.get_by_test_id("verdicts").get_by_role("row").filter(has_text="统计分析 · 导出")
    )
    expect(verdict).to_contain_text("可以")
    expect(verdict).to_contain_text("县级监管员")
    security.context.close()

    user = _new_context_page(browser, browser_context_args)
    log_in(user, base, "yuhang_sup", one_time)
    expect(user).to_have_url(re.compile(r"/change-password"))
    user.get_by_test_id("pw-current").fill(one_time)
    user.get_by_test_id("pw-new").fill("Yuhang#Pass2026")
    user.get_by_test_id("pw-confirm").fill("Yuhang#Pass2026")
    user.get_by_test_id("pw-submit").click()
    expect(user.get_by_role("heading", name="概览", level=1)).to_be_visible()
    expect(user.get_by_test_id("header-tenant")).to_have_text(re.compile("余杭区"))
    grants = read_seed_policy()["county_supervisor"]
    permitted = {s.key for s in SECTIONS if (s.obj, "read") in grants}
    nav = user.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link")).to_have_count(len(permitted))
    for key in permitted:
        expect(user.get_by_test_id(f"nav-{key}")).to_be_visible()

    user.goto(f"{base}/users")
    expect(user.get_by_test_id("page-forbidden")).to_contain_text("无权限")
    expect(user.get_by_test_id("user-row-yuhang_sup")).to_have_count(0)
    with session_scope(console_server.db_url) as session:
        denied = session.exec(
            select(OperationLog).where(
                OperationLog.actor_account == "yuhang_sup",
                OperationLog.object == "iam.users",
                OperationLog.outcome == "denied",
            )
        ).all()
        created = session.exec(
            select(OperationLog).where(
                OperationLog.actor_account == "e2e_sys", OperationLog.outcome == "success"
            )
        ).all()
    assert len(denied) == 1, [(d.target, d.detail, d.ts) for d in denied]
    assert {(e.object, e.action) for e in created} >= {
        ("tenancy.tenants", "create"),
        ("iam.organizations", "create"),
        ("iam.users", "create"),
    }


def test_revealing_an_id_number_needs_a_reason_and_is_logged(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    console_server.console(
        "user",
        "create",
        "--account",
        "reveal_me",
        "--name",
        "钱小二",
        "--tenant",
        "330000",
        "--id-number",
        "11010519491231002X",
    )
    log_in(page, console_server.base_url, make_user("e2e_unmask", "sys_admin"))
    page.get_by_test_id("nav-users").click()
    _search_users(page, "reveal_me")
    row = page.get_by_test_id("user-row-reveal_me")
    expect(row).to_contain_text("110105********002X")
    page.get_by_test_id("user-actions-reveal_me").click()
    page.get_by_role("menuitem", name="查看明文信息").click()
    page.get_by_test_id("reveal-submit").click()
    expect(page.get_by_test_id("reveal-error")).to_contain_text("请说明查看原因")
    page.get_by_test_id("reveal-reason").fill("核对登记申请人身份")
    page.get_by_test_id("reveal-submit").click()
    expect(page.get_by_test_id("reveal-value")).to_have_text("11010519491231002X")
    with session_scope(console_server.db_url) as session:
        logged = session.exec(
            select(OperationLog).where(
                OperationLog.actor_account == "e2e_unmask", OperationLog.action == "unmask"
            )
        ).all()
    assert len(logged) == 1 and "核对登记申请人身份" in logged[0].detail


def test_security_admin_tightens_the_lockout_policy(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("e2e_policy", "sec_admin"))
    page.get_by_test_id("nav-settings").click()
    field = page.get_by_test_id("policy-login_max_failures")
    expect(field).to_have_value("5")
    field.fill("3")
    page.get_by_test_id("policy-save").click()
    expect(page.get_by_text("安全策略已保存")).to_be_visible()
    field.fill("99")
    page.get_by_test_id("policy-save").click()
    expect(page.get_by_test_id("policy-error")).to_contain_text("连续登录失败锁定次数")
    field.fill("5")
    page.get_by_test_id("policy-save").click()
    expect(page.get_by_text("安全策略已保存").first).to_be_visible()


def test_sync_file_upload_keeps_good_rows_and_lists_bad_ones(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str], tmp_path
) -> None:
    csv_file = tmp_path / "users.csv"
    csv_file.write_text(
        "account,real_name,tenant_code,phone,status\n"
        "sync_a,孙一,330000,13800000001,active\n"
        "sync_b,孙二,330000,13800000002,active\n"
        "sync_c,孙三,330000,12345,active\n",
        encoding="utf-8",
    )
    log_in(page, console_server.base_url, make_user("e2e_syncer", "sys_admin"))
    page.get_by_test_id("nav-users").click()
    page.get_by_test_id("users-sync").click()
    page.get_by_test_id("sync-file").locator("input[type=file]").set_input_files(str(csv_file))
    page.get_by_test_id("sync-start").click()
    expect(page.get_by_test_id("sync-summary")).to_contain_text("新增 2")
    expect(page.get_by_test_id("sync-summary")).to_contain_text("拒绝 1")
    rejected = page.get_by_test_id("sync-rejected")
    expect(rejected).to_contain_text("sync_c")
    expect(rejected).to_contain_text("手机号")


def test_editing_and_bulk_disabling_users(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    for account in ("bulk_x", "bulk_y"):
        console_server.console(
            "user",
            "create",
            "--account",
            account,
            "--name",
            "冯一",
            "--tenant",
            "330000",
            "--phone",
            "13811110000",
        )
    log_in(page, console_server.base_url, make_user("e2e_editor", "sys_admin"))
    page.get_by_test_id("nav-users").click()
    _search_users(page, "bulk_")
    page.get_by_test_id("user-actions-bulk_x").click()
    page.get_by_test_id("action-edit").click()
    expect(page.get_by_test_id("edit-phone")).to_have_attribute("placeholder", "138****0000")
    page.get_by_test_id("edit-phone").fill("13822223333")
    page.get_by_test_id("edit-save").click()
    expect(page.get_by_test_id("user-row-bulk_x")).to_contain_text("138****3333")
    expect(page.get_by_test_id("user-row-bulk_x")).to_contain_text("冯*")
    page.get_by_test_id("select-bulk_x").click()
    page.get_by_test_id("select-bulk_y").click()
    page.get_by_test_id("bulk-disable").click()
    page.get_by_test_id("bulk-ok").click()
    expect(page.get_by_test_id("user-row-bulk_x")).to_contain_text("停用")
    expect(page.get_by_test_id("user-row-bulk_y")).to_contain_text("停用")


def test_county_admin_pages_show_only_own_county(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    with session_scope(console_server.db_url) as session:
        for code, name in (("330181", "测试甲区"), ("330182", "测试乙区")):
            if session.get(Tenant, code) is None:
                session.add(Tenant(code=code, name=name, parent_code="330000"))
    console_server.console(
        "user", "create", "--account", "jia_person", "--name", "甲某", "--tenant", "330181"
    )
    console_server.console(
        "user", "create", "--account", "yi_person", "--name", "乙某", "--tenant", "330182"
    )
    log_in(page, console_server.base_url, make_user("jia_admin", "county_admin", tenant="330181"))
    expect(page.get_by_test_id("header-tenant")).to_have_text("测试甲区")
    page.get_by_test_id("nav-users").click()
    expect(page.get_by_test_id("user-row-jia_person")).to_be_visible()
    expect(page.get_by_test_id("user-row-yi_person")).to_have_count(0)
    expect(page.get_by_test_id("users-export")).to_have_count(0)
    page.get_by_test_id("users-keyword").fill("yi_person")
    page.get_by_test_id("users-keyword").press("Enter")
    expect(page.get_by_test_id("empty-state")).to_be_visible()


def test_province_admin_narrows_the_view_to_one_tenant_from_the_header(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    with session_scope(console_server.db_url) as session:
        for code, name in (("330183", "测试丙区"), ("330184", "测试丁区")):
            if session.get(Tenant, code) is None:
                session.add(Tenant(code=code, name=name, parent_code="330000"))
    for account, tenant in (("bing_person", "330183"), ("ding_person", "330184")):
        console_server.console(
            "user", "create", "--account", account, "--name", "某人", "--tenant", tenant
        )
    log_in(page, console_server.base_url, make_user("e2e_switcher", "sys_admin"))
    page.get_by_test_id("nav-users").click()
    _search_users(page, "_person")
    expect(page.get_by_test_id("user-row-bing_person")).to_be_visible()
    expect(page.get_by_test_id("user-row-ding_person")).to_be_visible()
    _pick(page, "tenant-switch", "测试丙区")
    expect(page.get_by_test_id("header-tenant")).to_have_text("测试丙区")
    expect(page.get_by_test_id("user-row-bing_person")).to_be_visible()
    expect(page.get_by_test_id("user-row-ding_person")).to_have_count(0)
    _pick(page, "tenant-switch", "全部租户")
    expect(page.get_by_test_id("user-row-ding_person")).to_be_visible()


def test_deleting_an_organisation_and_a_role_after_confirmation(
    page: Page,
    browser: Browser,
    browser_context_args: dict,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
) -> None:
    with session_scope(console_server.db_url) as session:
        session.add(Organization(tenant_code="330000", name="待删除机构", kind="other"))
        session.add(Role(code="to_delete", name="待删除角色", category="业务"))
    log_in(page, console_server.base_url, make_user("e2e_deleter", "sys_admin"))
    page.get_by_test_id("nav-organizations").click()
    page.get_by_test_id("org-row-待删除机构").get_by_role("button", name="删除").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_text("机构已删除")).to_be_visible()
    expect(page.get_by_test_id("org-row-待删除机构")).to_have_count(0)
    page.context.close()

    security = _new_context_page(browser, browser_context_args)
    log_in(security, console_server.base_url, make_user("e2e_role_deleter", "sec_admin"))
    security.get_by_test_id("nav-roles").click()
    security.get_by_test_id("role-row-to_delete").get_by_role("button", name="删除").click()
    security.get_by_test_id("confirm-ok").click()
    expect(security.get_by_text("角色已删除")).to_be_visible()
    expect(security.get_by_test_id("role-row-to_delete")).to_have_count(0)
