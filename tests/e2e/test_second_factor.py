"""Sign-in as an assessor tries it: TOTP, a recovery code, a guessing loop, tokens after a reset."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.settings import get_settings
from console.iam import service
from console.iam.models import User
from tests.e2e.conftest import USER_PASSWORD, fresh_code, log_in, wait_until_ready
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def _submit(page: Page, base_url: str, account: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    wait_until_ready(page)
    page.get_by_test_id("login-account").fill(account)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def test_an_administrator_signs_in_with_a_code_and_a_reused_code_is_refused(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    account = make_user("mfa_sec", "sec_admin")
    _submit(page, console_server.base_url, account, USER_PASSWORD)
    code = fresh_code(account)
    page.get_by_test_id("login-code").fill(code)
    page.get_by_test_id("login-code-submit").click()
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.context.clear_cookies()
    _submit(page, console_server.base_url, account, USER_PASSWORD)
    page.get_by_test_id("login-code").fill(code)  # the same code again
    page.get_by_test_id("login-code-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text(service.BAD_CREDENTIALS)
    with session_scope(console_server.db_url) as session:
        event = service.recent_login_events(session=session, account=account, limit=1)[0]
    assert event.outcome == "failure" and event.reason.startswith("动态验证码错误或已使用")


def test_a_recovery_code_signs_in_once(
    page: Page,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from console.iam.second_factor_service import issue_recovery_codes

    account = make_user("mfa_audit", "audit_admin")
    monkeypatch.setenv("BDC_DATA_DIR", str(console_server.data_dir))  # the server's keys
    get_settings.cache_clear()
    with session_scope(console_server.db_url) as session:
        user_id = session.exec(select(User.id).where(User.account == account)).one()
        codes = issue_recovery_codes(session=session, user_id=user_id)
    get_settings.cache_clear()
    for attempt in ("signed in", "refused"):
        _submit(page, console_server.base_url, account, USER_PASSWORD)
        page.get_by_test_id("login-code").fill(codes[0])
        page.get_by_test_id("login-code-submit").click()
        if attempt == "signed in":
            expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
            page.context.clear_cookies()
        else:
            expect(page.get_by_test_id("login-error")).to_have_text(service.BAD_CREDENTIALS)


def test_a_guessing_loop_locks_and_the_right_password_then_reads_the_same(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    account = make_user("guess_target", "window_clerk")
    answers = []
    for guess in range(5):
        _submit(page, console_server.base_url, account, f"Guess#{guess}2026")
        error = page.get_by_test_id("login-error")
        expect(error).to_be_visible()
        answers.append(error.inner_text())
    _submit(page, console_server.base_url, account, USER_PASSWORD)  # right, but locked
    expect(page.get_by_test_id("login-error")).to_be_visible()
    answers.append(page.get_by_test_id("login-error").inner_text())
    _submit(page, console_server.base_url, "no_such_account", USER_PASSWORD)
    expect(page.get_by_test_id("login-error")).to_be_visible()
    answers.append(page.get_by_test_id("login-error").inner_text())
    assert set(answers) == {service.BAD_CREDENTIALS}
    with session_scope(console_server.db_url) as session:
        user = session.exec(select(User).where(User.account == account)).one()
        assert user.locked_until is not None
        assert user.locked_until - utcnow() <= timedelta(minutes=30)  # the cap
        user.locked_until = utcnow() - timedelta(seconds=1)  # the cap has passed
        session.add(user)
    log_in(page, console_server.base_url, account)
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()


def _read(server: ConsoleServer, token: str) -> tuple[int, str]:
    day = utcnow().date().isoformat()
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/stats/cases?from={day}&to={day}&group_by=tenant",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["detail"]


def test_a_password_reset_suspends_tokens_until_the_owner_changes_it(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    account = make_user("token_owner", "province_supervisor")
    token = console_server.console("token", "create", "--user", account).strip()
    assert _read(console_server, token)[0] == 200
    reset = console_server.console("reset-password", account)
    one_time = re.search(r"一次性密码：(\S+?)（", reset)
    assert one_time is not None, reset
    status, reason = _read(console_server, token)
    assert status == 401 and "访问令牌已暂停" in reason
    log_in(page, console_server.base_url, account, one_time.group(1))
    expect(page).to_have_url(re.compile(r"/change-password"))
    page.get_by_test_id("pw-current").fill(one_time.group(1))
    page.get_by_test_id("pw-new").fill("Owner#Again2026")
    page.get_by_test_id("pw-confirm").fill("Owner#Again2026")
    page.get_by_test_id("pw-submit").click()
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    assert _read(console_server, token)[0] == 200
