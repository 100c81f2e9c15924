"""报表中心 in the browser: a supervisor generates last month's report and downloads it."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import just_now, log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_a_supervisor_generates_a_monthly_report_and_downloads_it(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    key = console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "报表测试",
        "--streams", "logs.case_event",
    ).strip()  # fmt: skip
    last_month = just_now().replace(day=1) - timedelta(days=10)
    records = [
        {"event_id": f"rp-{n}-{step}", "ts": (last_month + timedelta(hours=n)).isoformat(),
         "tenant": "330000", "case_no": f"RP-{n}", "business_code": "9000101",
         "registration_type": "900", "channel": "online", "step": step}
        for n in range(4) for step in ("accept", "close")
    ]  # fmt: skip
    assert console_server.push_logs(key, "case_event", records)["accepted"] == 8
    log_in(page, console_server.base_url, make_user("reports_e2e", "province_supervisor"))
    page.get_by_test_id("nav-reports").click()
    period = f"{last_month.year}年{last_month.month}月"
    expect(page.get_by_test_id("report-period")).to_contain_text(period)
    expect(page.get_by_test_id("report-scope")).to_contain_text("全省")
    page.get_by_test_id("report-generate").click()

    # Other tests' county reports of the same month may be listed too: this one is 全省.
    row = page.get_by_test_id("report-row").filter(has_text="全省").first
    expect(row).to_contain_text(period)
    expect(row.get_by_test_id("report-status")).to_have_text("已生成", timeout=90_000)
    with page.expect_download() as download_info:
        row.get_by_test_id("report-download-xlsx").click()
    download = download_info.value
    assert download.suggested_filename == f"不动产登记月度监管报表_全省_{period}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    summary = book[book.sheetnames[1]]
    values = {line[0].value: line[1].value for line in summary.iter_rows(min_row=2)}
    assert values["受理件数"] == 4 and values["办结件数"] == 4
    with page.expect_download() as download_info:
        row.get_by_test_id("report-download-html").click()
    html = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert "不动产登记月度监管报表" in html and period in html and "全省" in html
