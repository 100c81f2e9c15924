"""Take the README screenshots of the supervision dashboards.

Starts a throwaway console (``python -m console init`` + ``serve``, prod build) on a free
loopback port in a temporary folder, loads the demo province (``seed-demo``: 365 days,
about 7,000 cases), creates a province supervisor, logs in with Debian's Chromium and saves
one PNG per dashboard under ``docs/``:

    docs/screenshot-overview.png           概览
    docs/screenshot-statistics.png         统计分析
    docs/screenshot-timeliness.png         办理时效
    docs/screenshot-interface_monitor.png  共享接口监测
    docs/screenshot-channel_stats.png      机构通道统计
    docs/screenshot-reports.png            报表中心 (after generating one report)
    docs/screenshot-workflows.png          流程配置 (the designer, as a system administrator)

Run from the checkout (``make test`` installs Chromium and the CJK font it needs)::

    .venv/bin/python docs/screenshots.py

The first start builds the frontend (1-3 minutes); the whole run takes a few minutes. The
server and everything it started are stopped at the end, also on failure.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so ``tests.support`` and ``console`` import from the checkout

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from sqlmodel import select  # noqa: E402

from console.core.db import session_scope  # noqa: E402
from console.iam.models import User  # noqa: E402
from console.iam.passwords import hash_password  # noqa: E402
from tests.support.server import ConsoleServer, start_server  # noqa: E402

DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1440, "height": 900}
ACCOUNT = "screenshot_supervisor"
ADMIN = "screenshot_admin"
PASSWORD = "Shot#Password2026"
REPORT_TIMEOUT_MS = 120_000


def log(message: str, started: float) -> None:
    """Print a progress line with the seconds since the start."""
    print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)


def make_account(server: ConsoleServer, account: str, name: str, role: str) -> None:
    """Create a province account with a known password that needs no change."""
    server.console(
        "user", "create", "--account", account, "--name", name,
        "--tenant", "330000", "--role", role,
    )  # fmt: skip
    with session_scope(server.db_url) as session:
        user = session.exec(select(User).where(User.account == account)).one()
        user.password_hash = hash_password(PASSWORD)
        user.must_change_password = False
        session.add(user)


def log_in(page: Page, base_url: str, account: str = ACCOUNT) -> None:
    """Log in through the login page once it is hydrated; wait for the first page."""
    page.goto(f"{base_url}/login")
    expect(page.get_by_test_id("login-form")).to_have_attribute("data-ready", "true")
    page.get_by_test_id("login-account").fill(account)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("header-tenant")).to_be_visible()


def chart_drawn(page: Page, testid: str) -> None:
    """Wait until the Plotly chart in the box with this test id has drawn its SVG."""
    expect(page.get_by_test_id(testid).locator(".main-svg").first).to_be_visible()


def wait_overview(page: Page) -> None:
    """Cards with figures and sparklines, 情况说明 and the 30-day chart."""
    expect(page.get_by_test_id("kpi-value-received_today")).to_contain_text("件")
    expect(page.get_by_test_id("kpi-online_share")).to_contain_text("%")
    expect(page.get_by_test_id("kpi-received").locator("svg").first).to_be_visible()
    expect(page.get_by_test_id("overview-text")).to_contain_text("本月受理")
    chart_drawn(page, "overview-chart")


def wait_statistics(page: Page) -> None:
    """Sentences and the chart of the default breakdown (by region)."""
    expect(page.get_by_test_id("stats-text")).to_contain_text("所选期间受理件数共")
    chart_drawn(page, "stats-chart")


def wait_timeliness(page: Page) -> None:
    """Sentences, the box plot and the per-business table."""
    expect(page.get_by_test_id("timeliness-text")).not_to_be_empty()
    expect(page.get_by_test_id("timeliness-table").locator("tbody tr").first).to_be_visible()
    chart_drawn(page, "timeliness-chart")


def wait_interface_monitor(page: Page) -> None:
    """Sentences, the daily chart and the interfaces table."""
    expect(page.get_by_test_id("monitor-text")).to_contain_text("成功率最低的是")
    expect(page.get_by_test_id("monitor-table").locator("tbody tr").first).to_be_visible()
    chart_drawn(page, "monitor-chart")


def wait_channel_stats(page: Page) -> None:
    """Sentences, the chart and the institutions table."""
    expect(page.get_by_test_id("channel-stats-text")).to_contain_text("经机构通道受理")
    institutions = page.get_by_test_id("channel-stats-institutions")
    expect(institutions.locator("tbody tr").first).to_be_visible()
    chart_drawn(page, "channel-stats-chart")


def wait_reports(page: Page) -> None:
    """Generate the default report (last month, 全省) and wait until it is done."""
    expect(page.get_by_test_id("report-period")).to_contain_text("月")
    page.get_by_test_id("report-generate").click()
    status = page.get_by_test_id("report-row").first.get_by_test_id("report-status")
    expect(status).to_have_text("已生成", timeout=REPORT_TIMEOUT_MS)


PAGES: list[tuple[str, Callable[[Page], None]]] = [
    ("overview", wait_overview),
    ("statistics", wait_statistics),
    ("timeliness", wait_timeliness),
    ("interface_monitor", wait_interface_monitor),
    ("channel_stats", wait_channel_stats),
    ("reports", wait_reports),
]


def shoot_designer(page: Page, started: float) -> Path:
    """流程配置: the general workflow on the canvas with its 审核 step selected."""
    page.get_by_test_id("nav-workflows").click()
    page.get_by_role("radio", name="流程定义").click()
    page.get_by_test_id("open-general").click()
    expect(page.get_by_test_id("editor-ok")).to_be_visible()
    page.get_by_test_id("step-t2").click()
    expect(page.get_by_test_id("step-name")).to_have_value("审核")
    settle(page)
    path = DOCS / "screenshot-workflows.png"
    page.screenshot(path=str(path), full_page=False)
    log(f"{path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)", started)
    return path


def settle(page: Page) -> None:
    """Let web fonts load and Plotly finish its resize before the picture is taken."""
    page.evaluate("document.fonts.ready.then(() => true)")
    page.mouse.move(0, VIEWPORT["height"] - 1)  # no hover tooltip over a chart
    page.wait_for_timeout(800)


def take_screenshots(server: ConsoleServer, started: float) -> list[Path]:
    """Open each dashboard as the supervisor and save its PNG; the paths written."""
    written: list[Path] = []
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="zh-CN", viewport=VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            log_in(page, server.base_url)
            for key, wait in PAGES:
                if key != "overview":
                    page.get_by_test_id(f"nav-{key}").click()
                wait(page)
                settle(page)
                path = DOCS / f"screenshot-{key}.png"
                page.screenshot(path=str(path), full_page=False)
                written.append(path)
                log(f"{path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)", started)
            context.close()
            context = browser.new_context(locale="zh-CN", viewport=VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            log_in(page, server.base_url, ADMIN)
            written.append(shoot_designer(page, started))
        finally:
            browser.close()
    return written


def main() -> int:
    """Start a console with the demo province, take the screenshots, stop the console."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bdc-screenshots-") as workdir:
        log("starting the console (the first start builds the frontend)", started)
        server = start_server(Path(workdir))
        try:
            log(f"serving on {server.base_url}; loading the demo province", started)
            server.console("seed-demo")
            make_account(server, ACCOUNT, "截图监管员", "province_supervisor")
            make_account(server, ADMIN, "截图管理员", "sys_admin")
            log("demo province loaded; taking screenshots", started)
            take_screenshots(server, started)
        finally:
            server.stop()
    log("done", started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
