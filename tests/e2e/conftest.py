"""Browser fixtures: one Debian Chromium for the whole run, a fresh context per test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from console.core.clock import CHINA_TZ
from console.core.db import session_scope
from console.iam.models import User
from console.iam.passwords import hash_password
from tests.support.server import ConsoleServer

CHROMIUM = "/usr/bin/chromium"
USER_PASSWORD = "E2e#Password2026"

expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    # Debian's Chromium, never a downloaded one; no background traffic on a closed network.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def make_user(console_server: ConsoleServer) -> Callable[..., str]:
    """Create an account through the CLI, then give it a known password (no forced change)."""

    def make(account: str, *roles: str, tenant: str = "330000", must_change: bool = False) -> str:
        role_args = [arg for role in roles for arg in ("--role", role)]
        console_server.console(
            "user",
            "create",
            "--account",
            account,
            "--name",
            "测试用户",
            "--tenant",
            tenant,
            *role_args,
        )
        with session_scope(console_server.db_url) as session:
            user = session.exec(select(User).where(User.account == account)).one()
            user.password_hash = hash_password(USER_PASSWORD)
            user.must_change_password = must_change
            session.add(user)
        return account

    return make


def wait_until_ready(page: Page) -> None:
    """Wait until the login page is hydrated, so typed input reaches its handlers."""
    expect(page.get_by_test_id("login-form")).to_have_attribute("data-ready", "true")


def log_in(page: Page, base_url: str, account: str, password: str = USER_PASSWORD) -> None:
    """Fill and submit the login form on the current or a fresh login page."""
    if "/login" not in page.url:
        page.goto(f"{base_url}/login")
    wait_until_ready(page)
    page.get_by_test_id("login-account").fill(account)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def just_now() -> datetime:
    """A moment a few seconds ago that is still today in Shanghai (tests run past midnight too)."""
    now = datetime.now(CHINA_TZ).replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    return max(midnight, now - timedelta(seconds=5))
