"""Chinese dates in a browser set to English: no mm/dd/yyyy, no English month names anywhere.

The browser's own date input and Plotly's default axes follow the browser's language, not the
page's; every page is walked in a Chromium started with ``--lang=en-US``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserType, Page, expect

from console.authz.service import read_seed_policy
from console.ui.navigation import SECTIONS
from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e

WALKERS = ("sys_admin", "sec_admin", "audit_admin", "province_supervisor")
ENGLISH_MONTH = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b"
)
# What the page shows a person: its text, the charts' SVG text, and the inputs' placeholders.
_SHOWN = """() => [
  document.body.innerText,
  ...Array.from(document.querySelectorAll("svg text"), (t) => t.textContent),
  ...Array.from(document.querySelectorAll("input"), (i) => i.placeholder),
].join("\\n")"""


@pytest.fixture
def english_page(browser_type: BrowserType, browser_type_launch_args: dict) -> Iterator[Page]:
    args = [*browser_type_launch_args["args"], "--lang=en-US"]
    browser: Browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    try:
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
        yield context.new_page()
    finally:
        browser.close()


def _english_on(page: Page) -> list[str]:
    shown = page.evaluate(_SHOWN)
    found = ENGLISH_MONTH.findall(shown) + re.findall(r"(?i)mm/dd/yyyy|dd/mm/yyyy", shown)
    if page.locator('input[type="date"]').count():
        found.append('<input type="date">')
    return found


def test_every_page_shows_dates_the_chinese_way_in_an_english_browser(
    english_page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    page, grants, walked = english_page, read_seed_policy(), {}
    for role in WALKERS:
        readable = {obj for obj, act in grants[role] if act == "read"}
        log_in(page, console_server.base_url, make_user(f"e2e_zh_{role}", role))
        expect(page.get_by_test_id("user-menu")).to_be_visible()
        for section in SECTIONS:
            if section.obj not in readable or section.key in walked:
                continue
            page.goto(f"{console_server.base_url}{section.route}")
            expect(page.get_by_role("heading", name=section.label, level=1)).to_be_visible()
            page.wait_for_load_state("networkidle")
            walked[section.key] = _english_on(page)
        page.get_by_test_id("user-menu").click()
        page.get_by_test_id("menu-logout").click()
        expect(page.get_by_test_id("login-notice")).to_have_text("您已安全退出")
    assert set(walked) == {section.key for section in SECTIONS}
    assert {key: found for key, found in walked.items() if found} == {}


def test_a_day_is_typed_or_picked_on_a_calendar_in_chinese_weeks_from_monday(
    english_page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    page = english_page
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
