"""用户管理 by category in the browser: applicants and contacts synced in, listed apart, masked."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def _sync(server: ConsoleServer, records: list[dict]) -> dict:
    key = server.console(
        "apikey", "create", "--tenant", "330000", "--name", "一窗平台同步", "--streams", "iam.sync"
    ).strip()
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/iam/sync",
        method="POST",
        data=json.dumps({"records": records}, ensure_ascii=False).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_applicants_and_contacts_are_listed_by_category_with_their_data_masked(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    report = _sync(
        console_server,
        [
            {"account": "e2e_sq_wang", "real_name": "王小明", "tenant_code": "330000",
             "id_number": "11010519491231002X", "category": "applicant"},
            {"account": "e2e_gx_li", "real_name": "李税务", "tenant_code": "330000",
             "phone": "13600005678", "category": "共享部门联系人"},
        ],
    )  # fmt: skip
    assert (report["created"], report["rejected"]) == (2, 0)
    log_in(page, console_server.base_url, make_user("e2e_categories", "sys_admin"))
    page.get_by_test_id("nav-users").click()
    page.get_by_test_id("users-category-filter").click()
    page.get_by_role("option", name="申请人").click()
    row = page.get_by_test_id("user-row-e2e_sq_wang")
    expect(row).to_contain_text("申请人")
    expect(row).to_contain_text("王*明")
    expect(row).not_to_contain_text("11010519491231002X")
    expect(page.get_by_test_id("user-row-e2e_gx_li")).to_have_count(0)
    page.get_by_test_id("users-category-filter").click()
    page.get_by_role("option", name="共享部门联系人").click()
    expect(page.get_by_test_id("user-row-e2e_gx_li")).to_contain_text("共享部门联系人")
    expect(page.get_by_test_id("user-row-e2e_sq_wang")).to_have_count(0)
