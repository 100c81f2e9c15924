"""FastAPI dependencies every ``/api/v1`` route but health declares: who calls, what they may touch.

- API keys (registration systems, the 一体化平台): checked by the gateway (``gateway.py``) —
  stream, tenant, channel and rate limit — answering 401, 403 or 429 with ``Retry-After``.
- Personal access tokens (auditors' and supervisors' own tools): the token's owner as the
  actor, with that user's current permissions and tenant scope; 401 for a bad token.
- Download tickets (a page's download link): the browser session sealed in the ticket.
- Sign-in tickets and the session cookie: the browser collecting its HttpOnly cookie after a
  sign-in, and signing out (``routes/session.py``).
- Casbin: ``permitted(obj, act)`` refuses with 403 before the route runs.

Each refusal is a ``GatewayRefusal`` (status, Chinese reason, headers) and is logged in the
operation log. ``is_authenticated`` tells whether a route declares one of the authenticating
dependencies; ``routing.secured_router`` refuses a route that does not.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from sqlmodel import Session

from console.api.gateway import Caller, GatewayRefusal, authorize, bearer
from console.audit.service import record_anonymous_denial
from console.authz import service as authz
from console.core.actor import Actor
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden, NotFound, UserError
from console.core.settings import get_settings
from console.core.tickets import open_ticket
from console.iam.cookie_service import cookie_token, redeem_sign_in_ticket, served_over_https
from console.iam.service import resolve_session
from console.iam.throttle import source_address
from console.iam.token_service import TOKEN_PREFIX, resolve_token
from console.logs.contract import STREAMS
from console.tenancy.scope import Scope

T = TypeVar("T")
PASSWORD_CHANGE_REQUIRED = "请先修改密码后再使用系统"
_AUTHENTICATORS: set[Callable[..., Any]] = set()


def refusal(error: UserError) -> GatewayRefusal:
    """The HTTP answer to a service's refusal, its Chinese message kept."""
    if isinstance(error, AuthenticationFailed):
        return GatewayRefusal(401, error.message)
    if isinstance(error, Forbidden):
        return GatewayRefusal(403, error.message)
    if isinstance(error, NotFound):
        return GatewayRefusal(404, error.message)
    return GatewayRefusal(400, str(error))


def _authenticates(dependency: Callable[..., T]) -> Callable[..., T]:
    """Register ``dependency`` as one that identifies the caller."""
    _AUTHENTICATORS.add(dependency)
    return dependency


def is_authenticated(dependant: Dependant) -> bool:
    """Whether a route (its dependant) declares an authenticating dependency, at any depth."""
    return any(
        sub.call in _AUTHENTICATORS or is_authenticated(sub) for sub in dependant.dependencies
    )


StreamParam = Annotated[str, Path(description="日志流", json_schema_extra={"enum": list(STREAMS)})]


def known_stream(stream: StreamParam) -> str:
    """The ``{stream}`` of a log route; 404 naming the streams there are."""
    if stream not in STREAMS:
        raise GatewayRefusal(404, f"没有日志流 {stream}；可用：{'、'.join(STREAMS)}")
    return stream


# --- API keys -------------------------------------------------------------------------------


@functools.cache
def api_key(scope: str) -> Callable[[Request], Caller]:
    """A dependency: the caller of a key that carries ``scope``."""

    def dependency(request: Request) -> Caller:
        return authorize(request, scope=scope)

    return _authenticates(dependency)


@_authenticates
def any_api_key(
    request: Request,
    tenant: str | None = None,
    business_code: str | None = None,
    interface_code: str | None = None,
) -> Caller:
    """The caller of any valid key that may act for ``tenant``, business and interface named."""
    return authorize(
        request,
        scope=None,
        tenant=tenant,
        business_code=business_code,
        interface_code=interface_code,
    )


@_authenticates
def log_sender(request: Request, stream: StreamParam) -> Caller:
    """The caller of a key that may push ``stream``: the key first, then the stream (404)."""
    if stream not in STREAMS:
        authorize(request, scope=None)  # who it is, before anything about the path is told
    return authorize(request, scope=f"logs.{known_stream(stream)}")


@_authenticates
def any_caller(request: Request) -> str:
    """Any valid API key or personal access token (401 otherwise); what it is, for a log line."""
    if bearer(request).startswith(f"{TOKEN_PREFIX}_"):
        return token_user(request).account
    return authorize(request, scope=None).key_id


@functools.cache
def api_key_for_business(scope: str) -> Callable[..., Caller]:
    """A dependency: a key with ``scope`` acting on ``{business_code}`` for ``tenant``."""

    def dependency(request: Request, business_code: str, tenant: str | None = None) -> Caller:
        return authorize(request, scope=scope, tenant=tenant, business_code=business_code)

    return _authenticates(dependency)


def key_scope(caller: Caller) -> Scope:
    """Tenants a key may touch: every county for the province's key, else its own tenant."""
    province_wide = caller.tenant_code == get_settings().province_code
    return Scope(all_tenants=province_wide, codes=frozenset({caller.tenant_code}))


def acting_tenant(caller: Caller, tenant: str | None) -> str:
    """The tenant a key's call acts for: the one named (already checked), else the key's."""
    return tenant or caller.tenant_code


# --- Users: personal access tokens and download tickets ----------------------------------


def _ready(actor: Actor) -> Actor:
    """Refuse a user who must change the password first (the browser redirect is not enough)."""
    if actor.must_change_password:
        raise AuthenticationFailed(PASSWORD_CHANGE_REQUIRED)
    return actor


def client_address(request: Request) -> str:
    """The caller's address: the peer, or ``X-Forwarded-For`` from a trusted proxy only."""
    peer = request.client.host if request.client else ""
    return source_address(peer, request.headers.get("x-forwarded-for", ""))


@_authenticates
def token_user(request: Request) -> Actor:
    """The user behind an ``Authorization: Bearer`` personal access token; 401 otherwise."""
    client_ip = client_address(request)
    try:
        # Committed before the route's own transaction (the token's last use is written here).
        with session_scope() as session:
            actor = resolve_token(session=session, presented=bearer(request), client_ip=client_ip)
        return _ready(actor)
    except AuthenticationFailed as refused:
        record_anonymous_denial(
            reason=refused.message, client_ip=client_ip, target=request.url.path
        )
        raise GatewayRefusal(401, refused.message, {"WWW-Authenticate": "Bearer"}) from None


@dataclass(frozen=True)
class TicketHolder:
    """The user a download ticket was sealed for, and what the ticket fetches."""

    actor: Actor
    payload: dict[str, Any]


@_authenticates
def ticket_holder(ticket: str) -> TicketHolder:
    """Open a download ticket and resolve the browser session sealed in it; 401 otherwise."""
    try:
        token, payload = open_ticket(ticket, now=time.time())
        # Committed first: a refusal is logged in a transaction of its own.
        with session_scope() as session:
            actor = resolve_session(session=session, token=token)
        return TicketHolder(_ready(actor), payload)
    except UserError as refused:
        raise refusal(refused) from None


@dataclass(frozen=True)
class CookieGrant:
    """The outcome of collecting a sign-in ticket: the new token, or why there is none."""

    token: str
    refused: str
    secure: bool


def served_securely(request: Request) -> bool:
    """True over HTTPS, directly or behind a trusted proxy that says so."""
    return served_over_https(
        scheme=request.url.scheme,
        peer=request.client.host if request.client else "",
        forwarded_proto=request.headers.get("x-forwarded-proto", ""),
    )


CROSS_SITE_SIGN_IN = "登录须在本站登录页完成，请重新登录"


def _started_here(request: Request) -> bool:
    """True when the browser says this page load came from the console's own page.

    Against login CSRF: another site could send a victim's browser here with a ticket of the
    attacker's own account. Browsers send ``Sec-Fetch-Site``; without it, the ``Referer``
    (this site's policy is same-origin) must name this host.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    referer = urlsplit(request.headers.get("referer", ""))
    return bool(referer.netloc) and referer.netloc == request.headers.get("host", "")


@_authenticates
def sign_in_grant(request: Request, ticket: str = "") -> CookieGrant:
    """Redeem a sign-in ticket (once, within a minute); a refusal is logged, not raised.

    The browser is sent back to the login page on a refusal, so no JSON error page is shown.
    """
    secure = served_securely(request)
    if not _started_here(request):
        record_anonymous_denial(
            reason=CROSS_SITE_SIGN_IN, client_ip=client_address(request), target=request.url.path
        )
        return CookieGrant("", CROSS_SITE_SIGN_IN, secure)
    try:
        with session_scope() as session:
            return CookieGrant(redeem_sign_in_ticket(session=session, ticket=ticket), "", secure)
    except AuthenticationFailed as refused:
        record_anonymous_denial(
            reason=refused.message, client_ip=client_address(request), target=request.url.path
        )
        return CookieGrant("", refused.message, secure)


@_authenticates
def cookie_session(request: Request) -> str:
    """The session token in the request's HttpOnly cookie ("" without one).

    SameSite=Strict keeps the cookie off requests another site starts, so a token here means
    the request came from the console's own pages.
    """
    return cookie_token(request.headers.get("cookie", ""))


def permitted(
    obj: str,
    act: str,
    *,
    target: str = "",
    target_param: str = "",
    known: Callable[[str], object] | None = None,
) -> Callable[..., Actor]:
    """A dependency: the token's user, refused with 403 (and logged) without ``obj:act``.

    ``target`` names what is asked for in a denial's log entry; ``target_param`` takes it
    from that path parameter instead. ``known`` refuses an unknown target (404) once the
    caller is identified and before the permission is checked.
    """

    def dependency(request: Request, actor: Annotated[Actor, Depends(token_user)]) -> Actor:
        named = str(request.path_params.get(target_param, "")) if target_param else target
        if known is not None:
            known(named)  # an unknown target is 404 to whoever is signed in, before 403
        try:
            authz.require(actor, obj, act, target=named)
        except Forbidden as refused:
            raise refusal(refused) from None
        return actor

    return dependency


def _run(actor: Actor, work: Callable[[Session, Actor], T]) -> T:
    try:
        with session_scope() as session:
            return work(session, actor)
    except UserError as refused:
        raise refusal(refused) from None


async def run_as(actor: Actor, work: Callable[[Session, Actor], T]) -> T:
    """Run a service call as ``actor`` in its own transaction, off the event loop.

    A service's refusal becomes the matching HTTP answer (401, 403, 404 or 400).
    """
    return await run_in_threadpool(_run, actor, work)
