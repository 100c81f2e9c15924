"""机构通道 and 接入密钥 in the browser: close a bank's channel and see its refusal in history."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from console.core.db import session_scope
from console.iam.models import Organization
from console.interfaces.models import Channel
from console.tenancy.models import Tenant
from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def _whoami(server: ConsoleServer, key: str) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/whoami", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["detail"]


def test_an_administrator_closes_a_banks_channel_and_sees_the_refusal_in_its_history(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    with session_scope(console_server.db_url) as session:
        if session.get(Tenant, "330106") is None:
            session.add(Tenant(code="330106", name="西湖区", parent_code="330000"))
            session.flush()
        bank = Organization(tenant_code="330106", name="浏览器测试银行", kind="bank")
        session.add(bank)
        session.flush()
        channel = Channel(
            tenant_code="330106",
            org_id=bank.id,
            name=bank.name,
            kind="bank",
            business_codes="9000101",
        )
        session.add(channel)
        session.flush()
        channel_id = channel.id
    key = console_server.console(
        "apikey", "create", "--tenant", "330106", "--org", "浏览器测试银行", "--streams", "iam.sync"
    ).strip()
    assert _whoami(console_server, key)[0] == 200

    log_in(page, console_server.base_url, make_user("channel_admin", "sys_admin"))
    page.get_by_test_id("nav-channels").click()
    row = page.get_by_test_id(f"channel-row-{channel_id}")
    expect(row).to_contain_text("开通")
    page.get_by_test_id(f"channel-state-{channel_id}").click()
    page.get_by_test_id("channel-state-to").click()
    page.get_by_role("option", name="关闭").click()
    page.get_by_test_id("channel-reason").fill("违规收取抵押登记代办费")
    page.get_by_test_id("channel-state-submit").click()
    expect(row).to_contain_text("关闭")

    assert _whoami(console_server, key) == (403, "机构通道已关闭：违规收取抵押登记代办费")
    page.get_by_test_id(f"channel-history-{channel_id}").click()
    history = page.get_by_test_id("channel-history")
    expect(history).to_contain_text("拒绝调用")
    expect(history).to_contain_text("机构通道已关闭：违规收取抵押登记代办费")
    expect(history).to_contain_text("开通 → 关闭")


def test_a_key_is_shown_once_and_revoked_after_confirmation(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    log_in(page, console_server.base_url, make_user("keys_admin", "sys_admin"))
    page.get_by_test_id("nav-api_keys").click()
    page.get_by_test_id("keys-create").click()
    page.get_by_test_id("key-name").fill("浏览器测试登记系统")
    page.get_by_test_id("key-scope-logs.case_event").click()
    page.get_by_test_id("key-create-submit").click()
    shown = page.get_by_test_id("key-shown")
    expect(shown).to_contain_text("bdc_")
    key = shown.inner_text().strip()
    assert _whoami(console_server, key)[0] == 200
    page.get_by_test_id("key-shown-done").click()
    key_id = key.split("_")[1]
    page.get_by_test_id(f"key-revoke-{key_id}").click()
    page.get_by_test_id("key-revoke-confirm").click()
    expect(page.get_by_test_id(f"key-row-{key_id}")).to_have_count(0)  # only valid keys shown
    assert _whoami(console_server, key) == (401, "接入密钥已吊销")
