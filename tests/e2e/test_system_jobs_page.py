"""系统任务 in the browser: from 系统设置 to the jobs, 立即运行, the run shown."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_a_system_administrator_runs_verification_now_and_sees_the_run(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("jobs_e2e", "sys_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.goto(f"{console_server.base_url}/settings")
    page.get_by_test_id("settings-jobs-link").click()
    expect(page).to_have_url(f"{console_server.base_url}/system-jobs")
    jobs = page.get_by_test_id("job-row")
    expect(jobs.filter(has_text="日志封存")).to_have_count(1)
    expect(jobs.filter(has_text="日志完整性校验")).to_have_count(1)
    page.get_by_test_id("job-run-logs.verify").click()
    page.get_by_test_id("job-run-ok").click()
    # The leader picks the request up within seconds; the history shows the finished run.
    page.get_by_test_id("job-filter").click()
    page.get_by_role("option", name="日志完整性校验").click()
    run = page.get_by_test_id("job-run-row").filter(has_text="立即运行").first
    expect(run).to_contain_text("成功", timeout=60_000)


def test_a_clerk_is_refused_the_jobs_page(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("jobs_nosy", "window_clerk"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.goto(f"{console_server.base_url}/system-jobs")
    expect(page.get_by_test_id("page-forbidden")).to_contain_text("无权限")
    expect(page.get_by_test_id("job-row")).to_have_count(0)
