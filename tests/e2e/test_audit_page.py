"""日志审计 in the browser: an auditor searches by case number, opens the trace, exports CSV."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import just_now, log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e
CASE = "330000-2026-E2E001"
# Far enough back never to fall in "last month", which the report test counts province-wide.
APPLIED = (just_now() - timedelta(days=80)).replace(hour=9, minute=0, second=0)


def _at(days: int, minutes: int) -> str:
    return (APPLIED + timedelta(days=days, minutes=minutes)).isoformat()


def _push(server: ConsoleServer, key: str, stream: str, *records: dict) -> None:
    assert server.push_logs(key, stream, list(records))["rejected"] == []


def _step(event_id: str, ts: str, step: str) -> dict:
    return {
        "event_id": event_id, "ts": ts, "tenant": "330000", "case_no": CASE,
        "business_code": "2000402", "registration_type": "200", "channel": "online",
        "step": step,
    }  # fmt: skip


def test_an_auditor_searches_a_case_opens_its_trace_and_exports_csv(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    key = console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "审计测试",
        "--streams", "logs.case_event,logs.interface_call",
    ).strip()  # fmt: skip
    _push(
        console_server,
        key,
        "case_event",
        _step("e2e-1", _at(0, 0), "apply"),
        _step("e2e-2", _at(0, 30), "accept"),
        _step("e2e-3", _at(6, 420), "register"),
    )
    _push(
        console_server,
        key,
        "interface_call",
        {"event_id": "e2e-c1", "ts": _at(0, 31), "tenant": "330000",
         "case_no": CASE, "interface_code": "gab.sfhc", "department": "公安部",
         "trace_id": "t-e2e", "caller": "reg", "duration_ms": 3000, "result_code": "TIMEOUT",
         "success": False, "error": "超时"},
    )  # fmt: skip
    # Sealed now (they are 80 days old), not by the scheduler while the export reads: a read
    # during sealing can still see a row twice (issue #18, consistent snapshots).
    console_server.console("seal-logs")
    log_in(page, console_server.base_url, make_user("auditor_e2e", "audit_admin"))
    page.get_by_test_id("nav-audit").click()
    page.get_by_test_id("log-filter-case_no").fill(CASE)
    page.get_by_test_id("log-filter-case_no").press("Enter")
    row = page.get_by_test_id("log-row-e2e-3")
    # Names first, the code beside them for the auditor: never a bare code.
    for shown in ("浙江省（330000）", "登簿（register）", "网上（online）", "转移登记（200）"):
        expect(row).to_contain_text(shown)
    expect(row).to_contain_text(re.compile(r"房地产权.*转移登记（2000402）"))
    expect(page.get_by_test_id("pager-text")).to_contain_text("共 3 条")

    page.get_by_test_id("log-trace-e2e-1").click()
    timeline = page.get_by_test_id("trace-timeline")
    expect(timeline).to_contain_text("办件：受理")
    expect(timeline).to_contain_text("共享调用：公安部 gab.sfhc")
    expect(timeline).to_contain_text("距上一步 6 天")
    page.keyboard.press("Escape")

    page.get_by_test_id("log-export").click()
    with page.expect_download() as download_info:
        page.get_by_test_id("log-export-csv").click()
    download = download_info.value
    assert download.suggested_filename == "办件进度.csv"
    lines = Path(download.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 4 and all(CASE in line for line in lines[1:])


def test_the_retention_page_shows_holdings_and_a_clean_integrity_check(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    console_server.console("seal-logs")
    log_in(page, console_server.base_url, make_user("retention_e2e", "audit_admin"))
    page.get_by_test_id("nav-log_retention").click()
    expect(page.get_by_test_id("retention-case_event")).to_contain_text("办件进度")
    page.get_by_test_id("integrity-check").click()
    expect(page.get_by_test_id("integrity-result")).to_contain_text("全部与 SM3 校验链一致")
