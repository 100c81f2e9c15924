"""Chinese dates in a browser set to English: the date field and its calendar.

The browser's own date input and Plotly's default axes follow the browser's language, not the
page's; ``test_page_security`` walks every page in a Chromium started with ``--lang=en-US``
and fails on what ``english_on`` finds.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ENGLISH_MONTH, EnglishBrowser, log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_a_day_is_typed_or_picked_on_a_calendar_in_chinese_weeks_from_monday(
    english_browser: EnglishBrowser, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    page = english_browser.page
    log_in(page, console_server.base_url, make_user("e2e_zh_day", "province_supervisor"))
    day = page.get_by_test_id("overview-day")
    expect(day).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    page.get_by_test_id("overview-day-calendar").click()
    calendar = page.locator(".rdp-root")
    expect(calendar).to_be_visible()
    weekdays = calendar.locator(".rdp-weekday").all_inner_texts()
    assert weekdays[0] in ("一", "周一") and weekdays[-1] in ("日", "周日"), weekdays
    assert not ENGLISH_MONTH.search(calendar.inner_text())
    first = calendar.locator(".rdp-day:not(.rdp-outside):not(.rdp-disabled) button").first
    first.click()
    expect(calendar).to_be_hidden()
    expect(day).to_have_value(re.compile(r"^\d{4}-\d{2}-01$"))

    day.fill("2026-02-30")
    day.press("Tab")
    expect(page.get_by_role("alert").filter(has_text="应为 年-月-日")).to_be_visible()
    day.fill("2026-11-02")
    day.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="应为 年-月-日")).to_have_count(0)
    expect(day).to_have_value("2026-11-02")
