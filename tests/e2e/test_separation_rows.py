"""三员分立 in the browser: each row of the README's separation table refused as a person sees it.

The two-person reset and the holder's notice are in ``test_admin_separation.py``; the unit-level
denials of every row are in ``tests/unit/iam/test_separation.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from console.audit.models import OperationLog
from console.authz import service as authz
from console.core.db import session_scope
from console.iam.models import User
from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e

SELF_GRANT = "三员分立：不能给自己授予管理员角色"
RECENT_RESET = "三员分立：30 天内设置或重置过该账号密码的人不能授予其管理员角色"
OWNER_KEYS = "三员分立：账号本人须先登录并修改初始密码，才能授予管理员角色"


def _users_page(page: Page, base: str, account: str) -> None:
    log_in(page, base, account)
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.get_by_test_id("nav-users").click()
    expect(page.get_by_role("heading", name="用户管理", level=1)).to_be_visible()


def _search(page: Page, keyword: str) -> None:
    """Narrow the list: other tests add accounts to the shared server."""
    page.get_by_test_id("users-keyword").fill(keyword)
    page.get_by_test_id("users-keyword").press("Enter")
    expect(page.get_by_test_id(f"user-row-{keyword}")).to_be_visible()
    rows = page.locator('[data-testid^="user-row-"]')
    expect(rows.filter(has_not_text=keyword)).to_have_count(0)  # the search's own answer


def _try_to_grant(page: Page, account: str, role: str) -> None:
    """Tick ``role`` for ``account`` in 分配角色 and save."""
    page.get_by_test_id(f"user-actions-{account}").click()
    page.get_by_test_id("action-roles").click()
    expect(page.get_by_role("dialog")).to_contain_text(f"分配角色：{account}")
    page.get_by_test_id(f"role-{role}").click()
    page.get_by_test_id("roles-save").click()


def _reload_row(page: Page, account: str) -> Locator:
    """The account's row after closing any dialog and reloading the page."""
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="用户管理", level=1)).to_be_visible()
    _search(page, account)
    return page.get_by_test_id(f"user-row-{account}")


def _roles_of(db_url: str, account: str) -> set[str]:
    with session_scope(db_url) as session:
        user = session.exec(select(User).where(User.account == account)).one()
        assert user.id is not None
        return set(authz.user_roles(session, user_id=user.id))


def _denials(db_url: str, actor: str, action: str, target: str) -> list[str]:
    """The ``detail`` of each operation-log denial of ``actor`` doing ``action`` on ``target``."""
    with session_scope(db_url) as session:
        rows = session.exec(
            select(OperationLog).where(
                OperationLog.actor_account == actor,
                OperationLog.action == action,
                OperationLog.target == target,
                OperationLog.outcome == "denied",
            )
        ).all()
        return [row.detail for row in rows]


def test_nobody_grants_an_administrator_role_to_themselves(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    me = make_user("rows_self_sec", "sec_admin")
    _users_page(page, console_server.base_url, me)
    _search(page, me)
    _try_to_grant(page, me, "audit_admin")
    expect(page.get_by_text(SELF_GRANT)).to_be_visible()

    row = _reload_row(page, me)
    expect(row).to_contain_text("安全管理员")
    expect(row).not_to_contain_text("审计管理员")
    assert _roles_of(console_server.db_url, me) == {"sec_admin"}
    denials = _denials(console_server.db_url, me, "grant", me)
    assert len(denials) == 1 and SELF_GRANT in denials[0]


def test_whoever_reset_a_password_cannot_make_that_account_an_administrator(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    security = make_user("rows_reset_sec", "sec_admin")
    target = make_user("rows_reset_clerk")
    _users_page(page, console_server.base_url, security)
    _search(page, target)
    page.get_by_test_id(f"user-actions-{target}").click()
    page.get_by_role("menuitem", name="解锁并重置密码").click()
    expect(page.get_by_test_id("one-time-password")).not_to_have_text("")
    page.get_by_test_id("otp-done").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    _try_to_grant(page, target, "audit_admin")
    expect(page.get_by_text(RECENT_RESET)).to_be_visible()

    row = _reload_row(page, target)
    expect(row).not_to_contain_text("审计管理员")
    assert _roles_of(console_server.db_url, target) == set()
    denials = _denials(console_server.db_url, security, "grant", target)
    assert len(denials) == 1 and RECENT_RESET in denials[0]


def test_an_administrator_role_waits_until_the_owner_has_replaced_the_initial_password(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    security = make_user("rows_keys_sec", "sec_admin")
    fresh = make_user("rows_keys_fresh", must_change=True)  # nobody made it from this console
    script = "rows_keys_script"
    console_server.console(
        "user", "create", "--account", script, "--name", "报表脚本", "--tenant", "330000",
        "--token-only",
    )  # fmt: skip
    _users_page(page, console_server.base_url, security)
    for account, role in ((fresh, "sys_admin"), (script, "audit_admin")):
        _search(page, account)
        _try_to_grant(page, account, role)
        expect(page.get_by_text(OWNER_KEYS)).to_be_visible()
        row = _reload_row(page, account)
        expect(row).not_to_contain_text("系统管理员")
        expect(row).not_to_contain_text("审计管理员")
        assert _roles_of(console_server.db_url, account) == set()
        denials = _denials(console_server.db_url, security, "grant", account)
        assert len(denials) == 1 and OWNER_KEYS in denials[0]


def test_a_system_administrator_cannot_disable_an_administrators_account(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    system = make_user("rows_switch_sys", "sys_admin")
    auditor = make_user("rows_switch_auditor", "audit_admin")
    _users_page(page, console_server.base_url, system)
    _search(page, auditor)
    page.get_by_test_id(f"user-actions-{auditor}").click()
    # A system administrator is not offered it for an administrator's account ...
    expect(page.get_by_test_id("action-status")).to_have_count(0)
    page.keyboard.press("Escape")
    # ... and a bulk action that includes one is refused on the server, as 三员分立.
    page.get_by_test_id(f"select-{auditor}").click()
    page.get_by_test_id("bulk-disable").click()
    page.get_by_test_id("bulk-ok").click()
    refusal = "三员分立：只有安全管理员可以启用或停用管理员账号"
    expect(page.get_by_text(refusal)).to_be_visible()

    row = _reload_row(page, auditor)
    expect(row).to_contain_text("正常")
    with session_scope(console_server.db_url) as session:
        stored = session.exec(select(User).where(User.account == auditor)).one()
        assert stored.status == "active"
    denials = _denials(console_server.db_url, system, "disable", auditor)
    assert len(denials) == 1 and refusal in denials[0]


def test_the_security_administrator_disables_an_administrators_account(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    security = make_user("rows_switch_sec", "sec_admin")
    auditor = make_user("rows_switched_auditor", "audit_admin")
    _users_page(page, console_server.base_url, security)
    _search(page, auditor)
    page.get_by_test_id(f"user-actions-{auditor}").click()
    page.get_by_test_id("action-status").click()
    expect(page.get_by_role("alertdialog")).to_contain_text(auditor)
    page.get_by_test_id("confirm-ok").click()
    row = _reload_row(page, auditor)
    expect(row).to_contain_text("停用")
    with session_scope(console_server.db_url) as session:
        stored = session.exec(select(User).where(User.account == auditor)).one()
        assert stored.status == "disabled"


def test_the_security_administrator_is_not_offered_disabling_their_own_account(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    # 停用 is offered for other administrators' accounts only; the server refuses one's own
    # account too ("不能停用自己的账号", tests/unit/iam/test_separation.py).
    me = make_user("rows_own_sec", "sec_admin")
    _users_page(page, console_server.base_url, me)
    _search(page, me)
    page.get_by_test_id(f"user-actions-{me}").click()
    menu = page.get_by_role("menu")
    expect(menu.get_by_role("menuitem", name="分配角色")).to_be_visible()  # the menu is there
    expect(menu.get_by_test_id("action-status")).to_have_count(0)
    page.keyboard.press("Escape")
    page.get_by_test_id(f"select-{me}").click()
    page.get_by_test_id("bulk-disable").click()
    page.get_by_test_id("bulk-ok").click()
    expect(page.get_by_text("不能停用自己的账号")).to_be_visible()
    with session_scope(console_server.db_url) as session:
        stored = session.exec(select(User).where(User.account == me)).one()
        assert stored.status == "active"


def test_no_role_may_be_widened_to_hold_two_administrators_duties(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    code = "rows_grantors"
    log_in(page, console_server.base_url, make_user("rows_role_sec", "sec_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.get_by_test_id("nav-roles").click()
    page.get_by_test_id("roles-create").click()
    page.get_by_test_id("role-new-code").fill(code)
    page.get_by_test_id("role-new-name").fill("授权专员")
    page.get_by_test_id("perm-iam.users:read").click()
    page.get_by_test_id("perm-iam.users:grant").click()  # one administrator's duty: fine
    page.get_by_test_id("role-save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_test_id(f"role-row-{code}")).to_be_visible()

    page.get_by_test_id(f"role-edit-{code}").click()
    page.get_by_test_id("perm-audit.logs:read").click()  # 审计管理员's duty as well
    page.get_by_test_id("role-save").click()
    expect(page.get_by_test_id("role-error")).to_have_text(
        "权限：三员分立：同一角色不能同时具有安全管理员、审计管理员的职责"
    )
    expect(page.get_by_role("dialog")).to_be_visible()  # the form stays open to be corrected

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.reload()
    page.get_by_test_id(f"role-edit-{code}").click()
    expect(page.get_by_test_id("perm-iam.users:grant")).to_be_checked()
    expect(page.get_by_test_id("perm-audit.logs:read")).not_to_be_checked()
    with session_scope(console_server.db_url) as session:
        stored = authz.role_permissions(session, role_code=code)
        changed = session.exec(
            select(OperationLog).where(
                OperationLog.action == "set_permissions", OperationLog.target == code
            )
        ).all()
        denied = session.exec(
            select(OperationLog).where(
                OperationLog.target == code, OperationLog.outcome == "denied"
            )
        ).all()
    assert stored == {("iam.users", "read"), ("iam.users", "grant")}
    assert changed == []
    assert len(denied) == 1  # a separation refusal is a denial in the operation log
