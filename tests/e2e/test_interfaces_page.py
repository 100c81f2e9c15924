"""接口管理 in the browser: give a national interface its address, test it, read its histories."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in
from tests.support.receiver import Receiver
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def gateway() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def test_register_an_address_test_the_connection_and_read_the_histories(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str], gateway: Receiver
) -> None:
    log_in(page, console_server.base_url, make_user("iface_admin", "sys_admin"))
    page.get_by_test_id("nav-interfaces").click()
    page.get_by_test_id("ifaces-keyword").fill("身份核查")
    page.get_by_test_id("ifaces-keyword").press("Enter")
    row = page.get_by_test_id("iface-row-gab.sfhc")
    expect(row).to_contain_text("未登记地址")
    row.get_by_role("button", name="编辑").click()
    endpoint = page.get_by_test_id("iface-endpoint_url")
    endpoint.fill("ftp://gateway")
    expect(page.get_by_text("应为 http:// 或 https:// 开头的完整网址，或留空")).to_be_visible()
    endpoint.fill(gateway.url)
    page.get_by_test_id("iface-save").click()
    expect(row).to_contain_text(gateway.url)

    page.get_by_test_id("iface-probe-gab.sfhc").click()
    expect(row).to_contain_text("正常")
    assert gateway.probes >= 1  # the scheduler may probe it too
    page.get_by_test_id("iface-open-gab.sfhc").click()
    page.get_by_test_id("iface-tab-probes").click()
    expect(page.get_by_test_id("iface-probes")).to_contain_text("手动（iface_admin）")
    page.get_by_role("tab", name="版本历史").click()
    expect(page.get_by_test_id("iface-revisions")).to_contain_text(gateway.url)
