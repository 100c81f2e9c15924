"""共享接口监测 in the browser: the worst interface first, its result codes and daily chart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import just_now, log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def _call(n: int, code: str, department: str, ok: bool, moment: datetime) -> dict:
    return {
        "event_id": f"mon-{code}-{n}", "ts": moment.isoformat(), "tenant": "330000",
        "interface_code": code, "department": department, "trace_id": f"mon-{code}-{n}",
        "caller": "reg", "duration_ms": 150 + n, "result_code": "000" if ok else "504",
        "success": ok,
    }  # fmt: skip


def test_a_supervisor_sees_the_failing_interface_first_with_its_codes(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    key = console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "监测测试",
        "--streams", "logs.interface_call",
    ).strip()  # fmt: skip
    moment = just_now()
    calls = [_call(n, "mzb.hyhy.sf", "民政部", n % 2 == 0, moment) for n in range(10)]
    calls += [_call(n, "zbb.sydw", "中编办", True, moment) for n in range(10)]
    calls += [_call(n, "xx.unregistered", "某厅局", True, moment) for n in range(2)]
    calls += [_call(100 + n, "zbb.sydw", "公安部", True, moment) for n in range(3)]
    assert console_server.push_logs(key, "interface_call", calls)["accepted"] == 25
    log_in(page, console_server.base_url, make_user("monitor_e2e", "province_supervisor"))
    page.get_by_test_id("nav-interface_monitor").click()
    expect(page.get_by_test_id("monitor-text")).to_contain_text("成功率最低的是")
    expect(page.get_by_test_id("monitor-row-mzb.hyhy.sf")).to_contain_text("50.00%")
    # Calls the registry does not account for are not normal traffic.
    expect(page.get_by_test_id("monitor-row-xx.unregistered")).to_contain_text("未登记接口")
    expect(page.get_by_test_id("monitor-text")).to_contain_text("次调用的部门与接口登记的部门不符")
    expect(page.get_by_test_id("monitor-text")).to_contain_text("使用了未登记的接口")
    expect(page.get_by_test_id("monitor-chart").locator(".main-svg").first).to_be_visible()
    page.get_by_test_id("monitor-select-mzb.hyhy.sf").click()
    codes = page.get_by_test_id("monitor-codes")
    expect(codes).to_contain_text("504")
    expect(codes).to_contain_text("失败")
    expect(page.get_by_test_id("monitor-chart")).to_contain_text("婚姻核验（双方）")

    # Drill down: the failed calls of that interface on 日志审计.
    page.get_by_test_id("monitor-row-mzb.hyhy.sf").get_by_test_id("monitor-failures").click()
    expect(page.get_by_role("heading", name="日志审计", level=1)).to_be_visible()
    expect(page.get_by_test_id("log-filter-summary")).to_contain_text("接口代码：mzb.hyhy.sf")
    expect(page.get_by_test_id("pager-text")).to_contain_text("共 5 条")
