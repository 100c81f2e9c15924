"""Browser fixtures: one Debian Chromium for the whole run, a fresh context per test."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
import pytest
from playwright.sync_api import BrowserContext, BrowserType, ConsoleMessage, Page, expect

from console.core.clock import CHINA_TZ, utcnow
from console.core.crypto import KeyRing
from console.core.db import session_scope
from console.core.settings import get_settings
from console.iam.models import SecondFactor
from console.iam.passwords import hash_password
from console.iam.role_service import SECOND_FACTOR_BY_DEFAULT
from console.iam.user_service import UserDraft, insert_user
from tests.support.server import ConsoleServer

CHROMIUM = "/usr/bin/chromium"
USER_PASSWORD = "E2e#Password2026"
USER_PASSWORD_HASH = hash_password(USER_PASSWORD)  # Argon2 once, not per account

expect.set_options(timeout=15_000)
# Accounts made with a bound authenticator: their seed, and the newest time step they spent
# (the console accepts each step once, so a second sign-in within 30 s takes the next one).
SEEDS: dict[str, str] = {}
_SPENT: dict[str, int] = {}


def fresh_code(account: str) -> str:
    """A TOTP code of ``account``'s seed the console has not seen yet (waits if need be)."""
    while True:
        now = int(time.time() // 30)
        step = max(_SPENT.get(account, 0) + 1, now)
        if step <= now + 1:  # the console accepts one step either side of its clock
            break
        time.sleep(30 - time.time() % 30 + 0.2)
    _SPENT[account] = step
    return pyotp.TOTP(SEEDS[account]).generate_otp(step)


def _bind_seed(server: ConsoleServer | Any, user_id: int) -> str:
    """Store a known seed for the account, encrypted under the server's own key."""
    keys = server.data_dir / "keys"
    ring = KeyRing(
        sm4_key=bytes.fromhex((keys / "sm4.key").read_text().strip()),
        hmac_key=bytes.fromhex((keys / "hmac.key").read_text().strip()),
    )
    secret = pyotp.random_base32()
    with session_scope(server.db_url) as session:
        session.add(
            SecondFactor(user_id=user_id, secret_enc=ring.encrypt(secret), confirmed_at=utcnow())
        )
    return secret


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


# Reports each Content-Security-Policy violation of a page to the test through its console.
_CSP_PROBE = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP-VIOLATION ${event.violatedDirective} ${event.blockedURI} `
    + `${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture
def csp_violations(context: BrowserContext) -> list[str]:
    """CSP violations reported by any page of the test's browser context."""
    seen: list[str] = []
    _watch_csp(context, seen)
    return seen


def _watch_csp(context: BrowserContext, seen: list[str]) -> None:
    def watch(page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            text = message.text
            if "CSP-VIOLATION" in text or "Content Security Policy" in text:
                seen.append(f"{page.url}: {text}")

        page.on("console", on_console)

    context.add_init_script(_CSP_PROBE)
    context.on("page", watch)


@dataclass
class EnglishBrowser:
    """A page in a Chromium started with ``--lang=en-US``, and the CSP violations it saw."""

    page: Page
    csp_violations: list[str]


@pytest.fixture
def english_browser(
    browser_type: BrowserType, browser_type_launch_args: dict
) -> Iterator[EnglishBrowser]:
    """The browser's own widgets follow its language, not the page's: test in English too."""
    args = [*browser_type_launch_args["args"], "--lang=en-US"]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    try:
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
        seen: list[str] = []
        _watch_csp(context, seen)
        yield EnglishBrowser(context.new_page(), seen)
        assert not seen, "\n".join(seen)
    finally:
        browser.close()


@pytest.fixture(autouse=True)
def no_csp_violations(csp_violations: list[str]) -> Iterator[None]:
    """Every browser test fails if a page it opened broke the Content-Security-Policy."""
    yield
    assert not csp_violations, "\n".join(csp_violations)


@pytest.fixture
def make_user(console_server: ConsoleServer) -> Callable[..., str]:
    """Create an account with a known password (no forced change) in the server's database.

    It goes in the way ``python -m console user create`` puts it (``insert_user``, personal
    data under the server's keys), without a subprocess per account. Roles that require a
    second factor get a bound authenticator whose seed the tests know (``SEEDS``); ``log_in``
    then answers the code step. Binding one in the browser has its own test.
    """

    def make(account: str, *roles: str, tenant: str = "330000", must_change: bool = False) -> str:
        return store_account(console_server, account, roles, tenant=tenant, must_change=must_change)

    return make


def store_account(
    server: ConsoleServer | Any,
    account: str,
    roles: tuple[str, ...],
    *,
    tenant: str = "330000",
    must_change: bool = False,
) -> str:
    """Put an account with the e2e password into a server's database (any with data_dir, db_url).

    A role that asks for a second factor gets an authenticator whose seed ``SEEDS`` keeps.
    """
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BDC_DATA_DIR", str(server.data_dir))
        env.setenv("BDC_DATABASE_URL", server.db_url)
        get_settings.cache_clear()
        try:
            with session_scope(server.db_url) as session:
                draft = UserDraft(
                    account=account, real_name="测试用户", tenant_code=tenant, roles=roles
                )
                user = insert_user(session, draft, password_hash=USER_PASSWORD_HASH)
                user.must_change_password = must_change
                session.add(user)
                session.flush()
                user_id = user.id
        finally:
            get_settings.cache_clear()
    if set(roles) & SECOND_FACTOR_BY_DEFAULT:
        assert user_id is not None
        SEEDS[account] = _bind_seed(server, user_id)
    return account


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
    if account in SEEDS:
        page.get_by_test_id("login-code").fill(fresh_code(account))
        page.get_by_test_id("login-code-submit").click()


def just_now() -> datetime:
    """A moment a few seconds ago that is still today in Shanghai (tests run past midnight too)."""
    now = datetime.now(CHINA_TZ).replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    return max(midnight, now - timedelta(seconds=5))


ENGLISH_MONTH = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b"
)
# What the page shows a person: its text, the charts' SVG text, and the inputs' placeholders.
_SHOWN = """() => [
  document.body.innerText,
  ...Array.from(document.querySelectorAll("svg text"), (t) => t.textContent),
  ...Array.from(document.querySelectorAll("input"), (i) => i.placeholder),
].join("\\n")"""


def english_on(page: Page) -> list[str]:
    """What of the page is not written the Chinese way (English months, mm/dd/yyyy)."""
    shown = page.evaluate(_SHOWN)
    found = ENGLISH_MONTH.findall(shown) + re.findall(r"(?i)mm/dd/yyyy|dd/mm/yyyy", shown)
    if page.locator('input[type="date"]').count():
        found.append('<input type="date">')
    return found
