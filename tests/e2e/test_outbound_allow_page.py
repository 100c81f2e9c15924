"""对外访问白名单 in the browser: the system administrator's card on 系统设置, checked as typed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import delete

from console.core.db import session_scope
from console.iam.outbound_models import OutboundAllowList
from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def empty_list(console_server: ConsoleServer) -> Iterator[None]:
    """The shared server's list is put back to empty afterwards."""
    yield
    with session_scope(console_server.db_url) as session:
        session.exec(delete(OutboundAllowList))  # type: ignore[call-overload]


def test_the_system_administrator_keeps_the_list_and_others_do_not_see_it(
    page: Page,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
    empty_list: None,
) -> None:
    base = console_server.base_url
    log_in(page, base, make_user("out_system", "sys_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.goto(f"{base}/settings")
    field = page.get_by_test_id("outbound-entries")
    expect(field).to_be_visible()
    field.fill("10.20.0.0/16, 169.254.169.254")
    expect(page.get_by_test_id("outbound-error")).to_contain_text("元数据")
    field.fill("10.20.0.0/16, gw.example.gov.cn")
    expect(page.get_by_test_id("outbound-error")).to_have_count(0)
    page.get_by_test_id("outbound-save").click()
    expect(page.get_by_text("对外访问白名单已保存")).to_be_visible()
    with session_scope(console_server.db_url) as session:
        row = session.get(OutboundAllowList, 1)
    assert row is not None and row.entries == "10.20.0.0/16, gw.example.gov.cn"
    page.reload()
    expect(page.get_by_test_id("outbound-entries")).to_have_value("10.20.0.0/16, gw.example.gov.cn")

    page.context.clear_cookies()
    log_in(page, base, make_user("out_security", "sec_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.goto(f"{base}/settings")
    expect(page.get_by_test_id("networks-sec_admin")).to_be_visible()  # the page is there
    expect(page.get_by_test_id("outbound-entries")).to_have_count(0)  # the card is not
