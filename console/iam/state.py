"""Reflex states of the login, password-change pages and the session guard."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from urllib.parse import quote, urlencode

import reflex as rx
from sqlmodel import Session

from console.audit.service import record_denial
from console.authz import service as authz
from console.core.actor import Actor
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, UserError
from console.core.logging import request_context
from console.core.settings import get_settings
from console.iam import service, throttle
from console.iam.cookie_service import BEGIN_PATH, END_PATH, cookie_token, sign_in_ticket
from console.iam.passwords import policy_checks
from console.iam.paths import (
    ACCOUNT_ROUTE,
    CHANGE_PASSWORD_ROUTE,
    SECOND_FACTOR_ROUTE,
    login_url,
    safe_next,
)
from console.iam.policy_service import effective_policy
from console.tenancy import service as tenancy
from console.tenancy.models import Tenant
from console.ui.actions import call
from console.ui.effects_state import navigate, toast
from console.ui.navigation import SECTIONS, section_for_path
from console.ui.session import SessionPort, provide_session

# Section key → the page state's ``load`` handler; the guard fires it only once the page is
# known to be permitted (registered by console.console when pages are added).
PAGE_LOADERS: dict[str, object] = {}
# Events fired after the page's loader once the guard let a signed-in user in (the alerts
# bell): never before, so nothing else resolves — and so ends — an idle session first.
AFTER_GUARD: list[object] = []
# The second step of a sign-in must follow the first within this many seconds.
SECOND_STEP_SECONDS = 300


def tenant_label(tenant_code: str, names: dict[str, str]) -> str:
    """Header label of a tenant scope."""
    settings = get_settings()
    if tenant_code == settings.province_code:
        return f"{settings.province_name}（全省）"
    return names.get(tenant_code, tenant_code)


@dataclasses.dataclass(frozen=True)
class TenantOption:
    """One entry of the header's tenant switcher."""

    code: str
    name: str


@dataclasses.dataclass(frozen=True)
class ShellView:
    """What the shell shows for one actor on one page, computed server-side."""

    allowed_sections: list[str]
    page_denied: bool
    tenant_options: list[TenantOption]
    tenant_names: dict[str, str]


def _shell_view(actor: Actor, path: str) -> ShellView:
    with request_context(), session_scope() as session:
        readable = authz.readable(actor, [section.obj for section in SECTIONS])
        options = tenancy.tenant_choices(session=session, actor=actor)
        names = {code: name for code, name in options}
        if actor.tenant_code not in names:
            own = session.get(Tenant, actor.tenant_code)
            names[actor.tenant_code] = own.name if own else actor.tenant_code
    section = section_for_path(path)
    denied = section is not None and section.obj not in readable
    if denied:
        assert section is not None
        record_denial(
            actor=actor,
            obj=section.obj,
            action="read",
            tenant=actor.context_tenant or actor.tenant_code,
            target=path,
            reason=f"无权限访问页面 {section.label}",
        )
    return ShellView(
        allowed_sections=[s.key for s in SECTIONS if s.obj in readable],
        page_denied=denied,
        tenant_options=[TenantOption(code, name) for code, name in options],
        tenant_names=names,
    )


def _check_page(token: str, route: str) -> tuple[Actor, ShellView, str]:
    """Resolve the session, compute what the shell shows on ``route`` and any notice to read.

    The notice (a reset by others) is shown on the first page after signing in; the user row
    is already loaded by the session check, so looking costs no query.
    """
    with request_context(), session_scope() as session:
        actor = service.resolve_session(session=session, token=token)
        notice = service.pop_security_notice(session=session, user_id=actor.user_id)
    return actor, _shell_view(actor, route), notice


GUARD_SECONDS = 8  # a page's session check answers or says why within this


class SessionState(rx.State):
    """The logged-in user as the browser may see it; the token's digest stays server-side."""

    authenticated: bool = False
    user_label: str = ""
    account: str = ""
    tenant_label: str = ""
    allowed_sections: list[str] = []
    page_denied: bool = False
    tenant_options: list[TenantOption] = []
    context_tenant: str = ""
    # Why the session could not be checked in time ("" while checking or once it was).
    check_failed: str = ""

    def _show(self, actor: Actor, view: ShellView | None = None) -> None:
        self.authenticated = True
        self.user_label = actor.display_name
        self.account = actor.account
        names = view.tenant_names if view else {}
        self.context_tenant = actor.context_tenant or ""
        self.tenant_label = tenant_label(actor.context_tenant or actor.tenant_code, names)
        if view is not None:
            self.allowed_sections = view.allowed_sections
            self.page_denied = view.page_denied
            self.tenant_options = view.tenant_options

    @property
    def token(self) -> str:
        """The session token from the HttpOnly cookie sent with this tab's websocket handshake.

        Page script cannot read the cookie, so it is never in the browser-bound state.
        """
        return cookie_token(self.router.headers.cookie)

    def _forget(self) -> None:
        self.authenticated = False
        self.user_label = self.account = self.tenant_label = self.context_tenant = ""
        self.allowed_sections, self.tenant_options, self.page_denied = [], [], False

    def _current_path(self) -> str:
        url = self.router.url
        return f"{url.path}?{url.query}" if url.query else url.path

    @rx.event(background=True)
    async def guard(self):
        """on_load of every protected page: login, forced password change, or show.

        Runs off the event loop: it reads the session, the policy and maybe logs a denial.
        """
        async with self:
            path, route, token = self._current_path(), self.router.url.path, self.token
            self.check_failed = ""
        try:
            actor, view, notice = await asyncio.wait_for(
                asyncio.to_thread(_check_page, token, route), timeout=GUARD_SECONDS
            )
        except TimeoutError:
            # Answer within seconds, busy or not: say so and offer to try again.
            async with self:
                self.check_failed = (
                    f"验证登录状态超过 {GUARD_SECONDS} 秒未完成（服务器繁忙），请重试"
                )
            return
        except AuthenticationFailed as refused:
            reason = "" if refused.message == service.SESSION_INVALID else refused.message
            async with self:
                self._forget()
            yield rx.redirect(login_url(path, reason=reason), replace=True)
            return
        async with self:
            self._show(actor, view)
        if notice:
            yield toast.warning(notice, duration=20_000, close_button=True)
        if route.rstrip("/") == CHANGE_PASSWORD_ROUTE:
            yield ChangePasswordState.load
            return
        if actor.must_change_password:
            yield rx.redirect(
                f"{CHANGE_PASSWORD_ROUTE}?next={quote(safe_next(path), safe='/')}", replace=True
            )
            return
        if actor.must_enrol_second_factor and route.rstrip("/") != SECOND_FACTOR_ROUTE:
            yield rx.redirect(
                f"{SECOND_FACTOR_ROUTE}?next={quote(safe_next(path), safe='/')}", replace=True
            )
            return
        section = section_for_path(route)
        if section is not None and not view.page_denied and section.key in PAGE_LOADERS:
            yield PAGE_LOADERS[section.key]
        elif section is None and route.rstrip("/") in PAGE_LOADERS:
            # Pages every signed-in user has (我的账号) are keyed by their route.
            yield PAGE_LOADERS[route.rstrip("/")]
        for event in AFTER_GUARD:
            yield event

    @rx.event(background=True)
    async def switch_tenant(self, code: str):
        """Narrow (or widen, with ``*``) the province user's view, then reload the page."""
        async with self:
            token, path = self.token, self._current_path()
        tenant = None if code == "*" else code
        outcome = await call(
            token, lambda s, a: service.set_context_tenant(session=s, actor=a, tenant_code=tenant)
        )
        if outcome.relogin:
            yield rx.redirect(login_url(path, reason=outcome.relogin), replace=True)
        elif not outcome.ok:
            yield toast.error(outcome.error)
        else:
            yield rx.redirect(path, replace=True)

    @rx.event
    def logout(self) -> rx.event.EventSpec:
        """Load the route that ends the server-side session and clears the HttpOnly cookie."""
        self._forget()
        return navigate(END_PATH)


def _login(account: str, password: str, client_ip: str, user_agent: str) -> tuple[str, Actor]:
    with request_context(), session_scope() as session:
        return service.authenticate(
            session=session,
            account=account,
            password=password,
            client_ip=client_ip,
            user_agent=user_agent,
        )


def _second_step(user_id: int, code: str, client_ip: str, user_agent: str) -> tuple[str, Actor]:
    with request_context(), session_scope() as session:
        return service.complete_second_factor(
            session=session, user_id=user_id, code=code, client_ip=client_ip, user_agent=user_agent
        )


class LoginState(rx.State):
    """Login form: field checks as you type, Chinese errors, redirect back afterwards.

    An account with a second factor answers a code after its password; who passed the first
    step stays in a backend-only variable, never in the browser.
    """

    notice: str = ""
    error: str = ""
    account_error: str = ""
    password_error: str = ""
    code_error: str = ""
    submitting: bool = False
    step: str = "password"
    _pending_user: int = 0
    _pending_since: float = 0.0

    @rx.event
    def load(self) -> rx.event.EventSpec | None:
        """Show why the user is here; skip the form when the session is still valid."""
        self.error = self.account_error = self.password_error = self.code_error = ""
        self.submitting, self.step = False, "password"
        self._pending_user, self._pending_since = 0, 0.0
        params = self.router.url.query_parameters
        self.notice = params.get("reason", "")[:60]
        return None

    @rx.event
    def check_account(self, value: str) -> None:
        """Live check of the account field."""
        self.account_error = "" if value.strip() else "请输入账号"

    @rx.event
    def check_password(self, value: str) -> None:
        """Live check of the password field."""
        self.password_error = "" if value else "请输入密码"

    @rx.event
    def check_code(self, value: str) -> None:
        """Live check of the code field: six digits, or a recovery code."""
        clean = value.strip().replace(" ", "").replace("-", "")
        valid = (clean.isdigit() and len(clean) == 6) or len(clean) == 10
        self.code_error = "" if valid else "请输入 6 位动态验证码或 10 位恢复码"

    @rx.event
    def restart(self) -> None:
        """Back to the password step."""
        self.step, self.error, self.code_error = "password", "", ""
        self._pending_user, self._pending_since = 0, 0.0

    def _origin(self) -> tuple[str, str]:
        # The peer as the server saw it (Reflex trusts no proxy hops), never a header.
        peer = self.router.session.client_ip
        raw = self.router.headers.raw_headers
        address = throttle.source_address(peer, raw.get("x-forwarded-for", ""))
        return address, self.router.headers.user_agent

    @rx.event(background=True)
    async def submit(self, form: dict[str, str]):
        """Verify credentials off the event loop (Argon2 is deliberately slow)."""
        account, password = form.get("account", ""), form.get("password", "")
        async with self:
            self.check_account(account)
            self.check_password(password)
            if self.account_error or self.password_error:
                return
            self.submitting, self.error, self.notice = True, "", ""
            client_ip, user_agent = self._origin()
        try:
            signed_in = await asyncio.to_thread(_login, account, password, client_ip, user_agent)
        except service.SecondFactorNeeded as needed:
            async with self:
                self.step, self.submitting, self.code_error = "code", False, ""
                self._pending_user, self._pending_since = needed.user_id, time.monotonic()
            return
        except UserError as refused:
            async with self:
                self.error, self.submitting = refused.message, False
            return
        async for event in self._enter(*signed_in):
            yield event

    @rx.event(background=True)
    async def submit_code(self, form: dict[str, str]):
        """The second step: a TOTP code or a recovery code for the account that passed the first."""
        code = form.get("code", "")
        async with self:
            self.check_code(code)
            if self.code_error:
                return
            expired = time.monotonic() - self._pending_since > SECOND_STEP_SECONDS
            if not self._pending_user or expired:
                self.restart()
                self.error = "验证已超时，请重新输入账号和密码"
                return
            self.submitting, self.error = True, ""
            user_id = self._pending_user
            client_ip, user_agent = self._origin()
        try:
            signed_in = await asyncio.to_thread(_second_step, user_id, code, client_ip, user_agent)
        except UserError as refused:
            async with self:
                self.error, self.submitting = refused.message, False
            return
        async for event in self._enter(*signed_in):
            yield event

    async def _enter(self, token: str, _actor: Actor):
        """Hand the session to the browser as an HttpOnly cookie, through an HTTP route.

        The page guard of the target then sends the user on to a forced password change or
        enrolment and shows any notice about the account.
        """
        async with self:
            self.submitting, self.step = False, "password"
            self._pending_user, self._pending_since = 0, 0.0
            target = safe_next(self.router.url.query_parameters.get("next"))
        ticket = sign_in_ticket(token=token)
        yield navigate(f"{BEGIN_PATH}?{urlencode({'ticket': ticket, 'next': target})}")


@dataclasses.dataclass(frozen=True)
class PasswordRule:
    """One password rule and whether the typed password meets it (no password content)."""

    rule: str
    passed: bool


def _password_context(token: str) -> tuple[bool, int]:
    """(change forced?, minimum length) for the password page."""
    with request_context(), session_scope() as session:
        actor = service.resolve_session(session=session, token=token)
        return actor.must_change_password, effective_policy(session).password_min_length


def _rules(password: str, account: str, min_length: int) -> list[PasswordRule]:
    checks = policy_checks(password, account=account, min_length=min_length)
    return [PasswordRule(rule=check.rule, passed=check.passed) for check in checks]


def _change(token: str, current: str, new: str, confirm: str) -> None:
    with request_context(), session_scope() as session:
        actor = service.resolve_session(session=session, token=token)
        service.change_password(
            session=session,
            actor=actor,
            current_password=current,
            new_password=new,
            confirm_password=confirm,
        )


class ChangePasswordState(rx.State):
    """Password change with the policy checked as the user types."""

    rules: list[PasswordRule] = []
    error: str = ""
    error_field: str = ""
    confirm_error: str = ""
    submitting: bool = False
    forced: bool = False
    # Typed values stay backend-only: only the rule outcomes go to the browser.
    _new_password: str = ""
    _min_length: int = 10

    @rx.event(background=True)
    async def load(self):
        """Reset the form; fired by ``SessionState.guard`` once the session is known good."""
        async with self:
            session_state = await self.get_state(SessionState)
            token, account = session_state.token, session_state.account
        try:
            forced, min_length = await asyncio.to_thread(_password_context, token)
        except AuthenticationFailed:
            return
        async with self:
            self.error = self.error_field = self.confirm_error = ""
            self.submitting, self._new_password = False, ""
            self.forced, self._min_length = forced, min_length
            self.rules = _rules("", account, min_length)

    @rx.event
    async def check_new(self, value: str) -> None:
        """Live policy feedback for the new password."""
        self._new_password = value
        session_state = await self.get_state(SessionState)
        self.rules = _rules(value, session_state.account, self._min_length)

    @rx.event
    def check_confirm(self, value: str) -> None:
        """Live check that the confirmation matches."""
        self.confirm_error = "" if value == self._new_password else "两次输入的新密码不一致"

    @rx.event(background=True)
    async def submit(self, form: dict[str, str]):
        """Change the password, then continue where the user was going."""
        async with self:
            self.submitting, self.error, self.error_field = True, "", ""
            token = (await self.get_state(SessionState)).token
            target = safe_next(self.router.url.query_parameters.get("next"))
        try:
            await asyncio.to_thread(
                _change,
                token,
                form.get("current_password", ""),
                form.get("new_password", ""),
                form.get("confirm_password", ""),
            )
        except AuthenticationFailed:
            async with self:
                self.submitting = False
            yield rx.redirect(login_url(CHANGE_PASSWORD_ROUTE, reason=service.SESSION_EXPIRED))
            return
        except UserError as refused:
            async with self:
                self.error, self.error_field = refused.message, refused.field or ""
                self.submitting = False
            return
        async with self:
            self.submitting = False
        yield toast.success("密码已修改", duration=3000)
        yield rx.redirect(target)


def _resolve(session: Session, token: str) -> Actor:
    return service.resolve_session(session=session, token=token)


# IAM provides the shared shell with the session (the UI kit cannot import IAM).
provide_session(
    SessionPort(
        state=SessionState,
        resolve=_resolve,
        login_url=login_url,
        account_route=ACCOUNT_ROUTE,
        change_password_route=CHANGE_PASSWORD_ROUTE,
        token_from_cookie=cookie_token,
    )
)
