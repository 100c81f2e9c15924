"""Uploads checked before they are read: who sends, whether they may, and how much.

Reflex's ``POST /_upload`` reads the whole multipart body into memory and only then calls the
page's handler, which is where the session would first be looked at. This ASGI wrapper stands
in front of it and, before one byte of the body is read:

- knows the upload by its handler (``Reflex-Event-Handler``): only registered upload kinds
  pass, each with a permission and a size cap (``register_upload``, called by the states);
- finds the session from the HttpOnly cookie and refuses a missing or ended one (401) and a
  user without the kind's permission (403, in the operation log);
- refuses a body whose declared size is over the cap, or one without a declared size (413 /
  411), and cuts the stream off should more arrive than was declared.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from console.audit.service import record_denial
from console.authz import service as authz
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed
from console.ui.session import session_port

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PATH = "/_upload"
# Multipart boundaries and part headers around the file itself.
ENVELOPE_BYTES = 64 * 1024


@dataclass(frozen=True)
class UploadKind:
    """What an upload handler takes: who may send it and how large it may be."""

    obj: str
    action: str
    max_bytes: int
    label: str


_KINDS: dict[str, UploadKind] = {}


def register_upload(handler: Any, *, obj: str, action: str, max_bytes: int, label: str) -> None:
    """Allow uploads to ``handler`` (an event handler of a state) for holders of ``obj:action``."""
    from reflex_base.utils.format import format_event_handler

    _KINDS[format_event_handler(handler)] = UploadKind(obj, action, max_bytes, label)


def upload_kind(handler_name: str) -> UploadKind | None:
    """The registered kind of an upload handler's full name."""
    return _KINDS.get(handler_name)


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _check_sender(scope: Scope, kind: UploadKind) -> tuple[int, str]:
    """(status, reason) of a refusal, or (0, "") when the session may send this upload."""
    port = session_port()
    token = port.token_from_cookie(_header(scope, b"cookie"))
    try:
        with session_scope() as session:
            actor = port.resolve(session, token)
    except AuthenticationFailed as refused:
        return 401, refused.message
    if not authz.can(actor, kind.obj, kind.action):
        reason = f"无权限上传{kind.label}"
        record_denial(
            actor=actor, obj=kind.obj, action=kind.action,
            tenant=actor.context_tenant or actor.tenant_code, target="upload", reason=reason,
        )  # fmt: skip
        return 403, reason
    return 0, ""


def _capped(receive: Receive, limit: int) -> Receive:
    """``receive`` that ends the request (a disconnect) once more than ``limit`` bytes came."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return capped


def with_upload_guard(app: ASGIApp) -> ASGIApp:
    """``app`` whose ``POST /_upload`` is checked first (see the module's docstring)."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != UPLOAD_PATH:
            await app(scope, receive, send)
            return
        kind = upload_kind(_header(scope, b"reflex-event-handler"))
        if kind is None:
            await _answer(send, 404, "不接受这种上传")
            return
        declared = _header(scope, b"content-length")
        if not declared.isdigit():
            await _answer(send, 411, "上传须注明大小（Content-Length）")
            return
        limit = kind.max_bytes + ENVELOPE_BYTES
        if int(declared) > limit:
            megabytes = kind.max_bytes / 1024 / 1024
            await _answer(send, 413, f"{kind.label}超过 {megabytes:g} MB")
            return
        status, reason = await _run_check(scope, kind)
        if status:
            await _answer(send, status, reason)
            return
        await app(scope, _capped(receive, int(declared)), send)

    return guarded


async def _run_check(scope: Scope, kind: UploadKind) -> tuple[int, str]:
    return await asyncio.to_thread(_check_sender, scope, kind)
