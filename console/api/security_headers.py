"""Security headers on every HTTP response of the backend: the pages as well as the API.

Pure ASGI, so it wraps Reflex's whole backend (the API, the prod frontend it serves, the
upload and health routes) without touching websocket traffic. The Content-Security-Policy
sent today forbids framing, plugins and foreign ``<base>``; restricting ``script-src`` and
``connect-src`` needs the built frontend measured first (issue #17's next step).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"frame-ancestors 'none'; object-src 'none'; base-uri 'self'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
_NAMES = {name for name, _ in HEADERS}


def with_security_headers(app: ASGIApp) -> ASGIApp:
    """``app`` with the headers added to each HTTP response (replacing any it set itself)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                message["headers"] = [*kept, *HEADERS]
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
