"""数据字典 in the browser: find 西湖区 by typing, add and disable a county's local item."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from console.core.db import session_scope
from console.tenancy.models import Tenant
from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_find_xihu_by_typing_then_add_and_disable_a_local_item(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    with session_scope(console_server.db_url) as session:
        if session.get(Tenant, "330106") is None:
            session.add(Tenant(code="330106", name="西湖区", parent_code="330000"))
    log_in(page, console_server.base_url, make_user("dict_admin", "county_admin", tenant="330106"))
    page.get_by_test_id("nav-dictionaries").click()
    expect(page.get_by_test_id("dict-type-division")).to_be_visible()
    page.get_by_test_id("dict-search").fill("西湖")
    page.get_by_test_id("dict-search").press("Enter")
    expect(page.get_by_test_id("dict-row-330106")).to_contain_text("西湖区")

    page.get_by_test_id("dict-type-business_code").click()
    page.get_by_test_id("dict-add-local").click()
    page.get_by_test_id("dict-code").fill("2000499")
    page.get_by_test_id("dict-label").fill("西湖区特色转移登记")
    page.get_by_test_id("dict-save").click()
    row = page.get_by_test_id("dict-row-2000499")
    expect(row).to_contain_text("本地")
    page.get_by_test_id("dict-toggle-2000499").click()
    expect(row).to_contain_text("停用")
