"""Security headers on every HTTP response of the backend: the pages as well as the API.

Pure ASGI, so it wraps Reflex's whole backend (the API, the prod frontend it serves, the
upload and health routes) without touching websocket traffic.

The Content-Security-Policy is the one the built frontend runs under, measured in the
browser (tests/e2e/test_security_headers.py walks every page listening for violations):

- ``script-src 'self'`` plus the SHA-256 of each inline script of the built pages (React
  Router's hydration context, the colour-mode and scroll-restoration snippets). The hashes
  are read from the build directory (again every 30 s), so a rebuild needs no code change; no
  ``'unsafe-inline'`` and no ``'unsafe-eval'`` for scripts (server-sent toasts go through
  ``console.ui.effects_state`` instead of Reflex's ``eval``).
- ``style-src 'self' 'unsafe-inline'``: Radix Themes and Emotion write ``style`` attributes
  and ``<style>`` elements at run time, which hashes cannot cover. Styles cannot run code.
- ``connect-src 'self'``: this site and its own websocket (CSP Level 3 lets ``'self'`` match
  ``ws:``/``wss:`` on the same host and port).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Awaitable, Callable, MutableMapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from console.iam.cookie_service import served_over_https

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_FIXED_DIRECTIVES = (
    "default-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
OTHER_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")
_NAMES = {b"content-security-policy", b"strict-transport-security"} | {
    name for name, _ in OTHER_HEADERS
}


class _InlineScripts(HTMLParser):
    """Collects the text of every ``<script>`` element without a ``src``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._inside = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._inside, self._text = True, []

    def handle_data(self, data: str) -> None:
        if self._inside:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._inside:
            self.scripts.append("".join(self._text))
            self._inside = False


def inline_script_hashes(html: str) -> set[str]:
    """CSP source expressions (``'sha256-…'``) of the inline scripts of one page."""
    parser = _InlineScripts()
    parser.feed(html)
    return {
        f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"
        for text in parser.scripts
    }


def build_directory() -> Path:
    """Where ``reflex run --env prod`` puts the pages the backend serves."""
    from reflex.utils import prerequisites

    return prerequisites.get_web_dir() / "build" / "client"


def content_security_policy(hashes: set[str]) -> str:
    """The policy, allowing exactly the inline scripts whose hashes are given."""
    script_src = " ".join(["script-src 'self'", *sorted(hashes)])
    return "; ".join([_FIXED_DIRECTIVES[0], script_src, *_FIXED_DIRECTIVES[1:]])


RESCAN_SECONDS = 30
# (scan period, policy): the policy of the pages built, read again once per period.
_cached: tuple[float, bytes] = (-1.0, b"")


def policy_of(*directories: Path) -> bytes:
    """The policy allowing exactly the inline scripts of the pages built in ``directories``."""
    hashes: set[str] = set()
    for directory in directories:
        for page in directory.rglob("*.html"):
            hashes |= inline_script_hashes(page.read_text(encoding="utf-8", errors="replace"))
    return content_security_policy(hashes).encode()


async def _current_policy() -> bytes:
    """The policy for the pages now built.

    Read again every ``RESCAN_SECONDS``, in a worker thread (it reads every built page), so a
    build that rewrites pages in place, or one still running at the first request, is picked
    up without a restart and without holding up the event loop.
    """
    global _cached
    period = time.monotonic() // RESCAN_SECONDS
    if _cached[0] != period:
        _cached = (period, await asyncio.to_thread(policy_of, build_directory()))
    return _cached[1]


def _https(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    client = scope.get("client") or ("", 0)
    return served_over_https(
        scheme=scope.get("scheme", "http"),
        peer=client[0],
        forwarded_proto=headers.get(b"x-forwarded-proto", b"").decode("latin-1"),
    )


def nginx_snippet(*directories: Path, https: bool) -> str:
    """The same headers as ``add_header`` lines, for nginx serving a build it was given.

    A location with ``add_header`` of its own inherits none from the server block, so HSTS
    is in the snippet too when the site is served over HTTPS.
    """
    lines = [f'add_header Content-Security-Policy "{policy_of(*directories).decode()}" always;']
    for name, value in (*OTHER_HEADERS, *((HSTS,) if https else ())):
        lines.append(f'add_header {name.decode().title()} "{value.decode()}" always;')
    return "\n".join(lines) + "\n"


def with_security_headers(app: ASGIApp) -> ASGIApp:
    """``app`` with the headers added to each HTTP response (replacing any it set itself)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        added = [(b"content-security-policy", await _current_policy()), *OTHER_HEADERS]
        if _https(scope):
            added.append(HSTS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                message["headers"] = [*kept, *added]
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
