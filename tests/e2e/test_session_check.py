"""A page whose session check gets no answer says so within seconds, never spins for ever."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_a_page_whose_session_check_cannot_answer_says_so_within_seconds(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("e2e_slow_check", "province_supervisor"))
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    # The backend is unreachable: the page's websocket never opens, no answer can come.
    page.route_web_socket(re.compile(r".*/_event.*"), lambda socket: socket.close())
    page.goto(f"{console_server.base_url}/statistics")
    expect(page.get_by_text("正在验证登录状态…")).to_be_visible()
    slow = page.get_by_test_id("session-check-slow")
    expect(slow).to_have_css("opacity", "0")
    expect(slow).to_have_css("opacity", "1", timeout=15_000)
    expect(slow).to_contain_text("刷新页面")
    with page.expect_navigation():  # a plain link: it works with no backend at all
        page.get_by_test_id("session-reload").click()
    expect(page.get_by_text("正在验证登录状态…")).to_be_visible()
