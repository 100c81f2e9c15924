"""The API-key gateway: the checks behind every route an external system calls with a key.

``authorize`` answers 401 for a missing, unknown, revoked or expired key; 403 with a Chinese
reason when the key's streams, tenant or channel do not allow the call; 429 with
``Retry-After`` past the rate limit. Every refusal is recorded in the operation log (and, for a
channel, in its history). Routes reach it through the dependencies of ``deps.py``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond

from console.audit.service import record_anonymous_denial, record_denial
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed
from console.core.limiting import limiter
from console.core.settings import get_settings
from console.interfaces import channel_service
from console.interfaces.key_service import (
    KNOWN_SCOPES,
    channel_of,
    key_actor,
    sender_of,
    touch_key,
    verify_key,
)
from console.tenancy.service import tenant_is_active

GATEWAY_OBJ = "api"


class GatewayRefusal(Exception):
    """A refused call: HTTP status, Chinese reason, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's bindings and the actor it acts as."""

    key_id: str
    tenant_code: str
    scopes: frozenset[str]
    org_id: int | None
    channel_id: int | None
    channel_state: str
    channel_business_codes: frozenset[str]
    rate_limit_per_minute: int
    actor: Actor
    # Who sent an event, for duplicate detection: stable across key rotation.
    sender: str


def bearer(request: Request) -> str:
    """The token of an ``Authorization: Bearer`` header, or ""."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _limit_item(per_minute: int) -> RateLimitItem:
    window = get_settings().rate_limit_window_seconds
    if window == 60:
        return RateLimitItemPerMinute(per_minute)
    return RateLimitItemPerSecond(per_minute, window)


def _retry_after(item: RateLimitItem, key_id: str) -> int:
    reset_at, _remaining = limiter().get_window_stats(item, key_id)
    return max(1, math.ceil(reset_at - time.time()))


def authorize(
    request: Request,
    *,
    scope: str | None,
    tenant: str | None = None,
    business_code: str | None = None,
    interface_code: str | None = None,
) -> Caller:
    """Check the key for one call; returns the caller or raises ``GatewayRefusal``.

    Args:
        request: the incoming request (its bearer token and client address).
        scope: the stream/operation the route needs (None: any valid key).
        tenant: the tenant the call acts for, when the route names one.
        business_code: the business the call submits, checked against the key's channel.
        interface_code: the interface the call goes through, checked against the channel.
    """
    client_ip = _client_ip(request)
    target = request.url.path
    # Reads first, in a transaction that writes nothing ...
    with session_scope() as session:
        try:
            key = verify_key(session, bearer(request), touch=False)
        except AuthenticationFailed as refused:
            record_anonymous_denial(reason=refused.message, client_ip=client_ip, target=target)
            raise GatewayRefusal(401, refused.message, {"WWW-Authenticate": "Bearer"}) from None
        actor = key_actor(key, client_ip=client_ip)
        channel = channel_of(session, key)
        sender = sender_of(session, key)
        reason = _forbidden_reason(
            key_scopes=key.scope_set,
            key_tenant=key.tenant_code,
            tenant_active=tenant_is_active(session, key.tenant_code),
            scope=scope,
            tenant=tenant,
        )
    if not reason and channel is not None:
        reason = channel_service.refusal_reason(
            channel, business_code=business_code, interface_code=interface_code
        )
    limit = key.rate_limit_per_minute
    if channel is not None:
        limit = min(limit, channel_service.rate_limit_of(channel))
    retry_after = 0
    if not reason:
        item = _limit_item(limit)
        if not limiter().hit(item, key.key_id):
            retry_after = _retry_after(item, key.key_id)
            reason = f"调用过于频繁：每分钟最多 {limit} 次，请 {retry_after} 秒后重试"
    # ... then the bookkeeping in a transaction that starts with a write (see touch_key).
    with session_scope() as session:
        touch_key(session, key_id=key.key_id, now=utcnow())
        if channel is not None:
            channel_service.count_call(session, channel=channel, refusal=reason)
    caller = Caller(
        key_id=key.key_id,
        tenant_code=key.tenant_code,
        scopes=frozenset(key.scope_set),
        org_id=key.org_id,
        channel_id=channel.id if channel else None,
        channel_state=channel.state if channel else "",
        channel_business_codes=frozenset(
            code for code in (channel.business_codes if channel else "").split(",") if code
        ),
        rate_limit_per_minute=limit,
        actor=actor,
        sender=sender,
    )
    if reason:
        record_denial(
            actor=actor,
            obj=GATEWAY_OBJ,
            action=scope or "call",
            tenant=caller.tenant_code,
            target=target,
            reason=reason,
        )
        if retry_after:
            raise GatewayRefusal(429, reason, {"Retry-After": str(retry_after)})
        raise GatewayRefusal(403, reason)
    return caller


def _forbidden_reason(
    *,
    key_scopes: set[str],
    key_tenant: str,
    tenant_active: bool,
    scope: str | None,
    tenant: str | None,
) -> str:
    if not tenant_active:
        return f"租户 {key_tenant} 已停用，其密钥暂不可用"
    if scope is not None and scope not in key_scopes:
        return f"接入密钥无权调用：{KNOWN_SCOPES.get(scope, scope)}"
    province = get_settings().province_code
    if tenant is not None and tenant != key_tenant and key_tenant != province:
        return f"接入密钥属于租户 {key_tenant}，不能代表租户 {tenant} 调用"
    return ""
