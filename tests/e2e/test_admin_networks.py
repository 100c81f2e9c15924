"""管理员登录地址限制 in the browser: edited on 系统设置, enforced at sign-in, logged."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import delete, select

from console.core.db import session_scope
from console.iam import service
from console.iam.models import AdminNetwork, LoginEvent
from tests.e2e.conftest import USER_PASSWORD, log_in, wait_until_ready
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def default_lists(console_server: ConsoleServer) -> Iterator[None]:
    """Other tests sign administrators in from 127.0.0.1: put the defaults back afterwards."""
    yield
    with session_scope(console_server.db_url) as session:
        session.exec(delete(AdminNetwork))  # type: ignore[call-overload]


def test_an_administrator_outside_the_list_reads_a_wrong_password_and_the_log_knows(
    page: Page,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
    default_lists: None,
) -> None:
    base = console_server.base_url
    auditor = make_user("net_auditor", "audit_admin")
    log_in(page, base, make_user("net_security", "sec_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.goto(f"{base}/settings")
    field = page.get_by_test_id("networks-audit_admin")
    expect(field).to_have_value(re.compile(r"127\.0\.0\.0/8"))
    field.fill("10.0.0.0/8, intranet")
    expect(page.get_by_test_id("networks-error-audit_admin")).to_contain_text("intranet")
    field.fill("10.0.0.0/8")
    expect(page.get_by_test_id("networks-error-audit_admin")).to_have_count(0)
    page.get_by_test_id("networks-save-audit_admin").click()
    expect(page.get_by_text("允许登录的网段已保存")).to_be_visible()

    # Their own list may not leave out the address they are signed in from.
    own = page.get_by_test_id("networks-sec_admin")
    own.fill("10.0.0.0/8")
    page.get_by_test_id("networks-save-sec_admin").click()
    expect(page.get_by_test_id("networks-error-sec_admin")).to_contain_text("127.0.0.1")

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-logout").click()
    wait_until_ready(page)
    page.get_by_test_id("login-account").fill(auditor)
    page.get_by_test_id("login-password").fill(USER_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text(service.BAD_CREDENTIALS)
    expect(page.get_by_test_id("login-code")).to_have_count(0)  # no second step offered
    with session_scope(console_server.db_url) as session:
        newest = session.exec(
            select(LoginEvent).where(LoginEvent.account == auditor).order_by(LoginEvent.id.desc())  # type: ignore[union-attr]
        ).first()
    assert newest is not None
    assert newest.outcome == "address_refused" and newest.client_ip == "127.0.0.1"
