"""数据字典 in the browser: search, tree, local items, XLSX export, import with preview."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from console.core.db import session_scope
from console.tenancy.models import Tenant
from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def test_find_xihu_add_and_disable_a_local_item_then_export_the_type_to_xlsx(
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
    page.get_by_test_id("dict-code").fill("20004")
    expect(page.get_by_text("业务代码应为 7 位数字")).to_be_visible()
    page.get_by_test_id("dict-code").fill("2000499")
    expect(page.get_by_text("业务代码应为 7 位数字")).to_have_count(0)
    page.get_by_test_id("dict-label").fill("西湖区特色转移登记")
    page.get_by_test_id("dict-save").click()
    # The 登记类型 comes from the dictionary item, never from the code's first digits.
    expect(page.get_by_test_id("dict-error")).to_contain_text("请填写所属登记类型")
    page.get_by_test_id("dict-category").click()
    page.get_by_role("option", name="转移登记（200）").click()
    page.get_by_test_id("dict-save").click()
    row = page.get_by_test_id("dict-row-2000499")
    expect(row).to_contain_text("本地")
    expect(row).to_contain_text("转移登记")
    page.get_by_test_id("dict-toggle-2000499").click()
    expect(row).to_contain_text("停用")

    with page.expect_download() as download_info:
        page.get_by_test_id("dict-export").click()
        page.get_by_test_id("dict-export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename == "业务代码.xlsx"
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    rows = {
        row[0]: dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert {"1000301", "2000402", "8000101", "9000101", "2000499"} <= set(rows)
    mine = rows["2000499"]
    assert (mine["名称"], mine["状态"]) == ("西湖区特色转移登记", "停用")
    assert (mine["所属类别"], mine["所属类别名称"]) == (
        "200",
        "转移登记",
    )  # a label beside the code


def test_walk_the_division_tree_down_to_xihu(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("tree_admin", "sys_admin"))
    page.get_by_test_id("nav-dictionaries").click()
    page.get_by_test_id("dict-open-330000").click()
    page.get_by_test_id("dict-open-330100").click()
    expect(page.get_by_test_id("dict-row-330106")).to_contain_text("西湖区")
    expect(page.get_by_test_id("dict-crumbs")).to_contain_text("浙江省")
    page.get_by_test_id("dict-crumbs").get_by_text("全部").click()
    expect(page.get_by_test_id("dict-row-110000")).to_be_visible()


def test_an_import_with_a_bad_row_is_held_back_until_the_file_is_fixed(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str], tmp_path: Path
) -> None:
    log_in(page, console_server.base_url, make_user("import_admin", "sys_admin"))
    page.get_by_test_id("nav-dictionaries").click()
    page.get_by_test_id("dict-type-seizure_type").click()
    bad = tmp_path / "bad.csv"
    bad.write_text("代码,名称\n91,浏览器导入查封\n92,\n", encoding="utf-8")
    page.get_by_test_id("dict-import").click()
    page.get_by_test_id("dict-import-file").locator("input[type=file]").set_input_files(bad)
    page.get_by_test_id("dict-import-preview").click()
    expect(page.get_by_test_id("dict-import-problems")).to_contain_text("名称：应为 1 到 128 个字")
    expect(page.get_by_test_id("dict-import-summary")).to_contain_text("新增 1")
    expect(page.get_by_test_id("dict-import-apply")).to_be_disabled()

    good = tmp_path / "good.csv"
    good.write_text("代码,名称\n91,浏览器导入查封\n", encoding="utf-8")
    page.get_by_test_id("dict-import-file").locator("input[type=file]").set_input_files(good)
    page.get_by_test_id("dict-import-preview").click()
    expect(page.get_by_test_id("dict-import-changes")).to_contain_text("浏览器导入查封")
    page.get_by_test_id("dict-import-apply").click()
    expect(page.get_by_test_id("dict-row-91")).to_contain_text("浏览器导入查封")
