"""Short-lived sealed tickets: a browser fetches a download by URL without a token in it.

A page checks the download first, then hands the browser a ticket sealed with SM4-GCM that
carries the session token and what to fetch; the download route opens it, resolves the
session again and runs the service as that user, so permissions are checked twice.
"""

from __future__ import annotations

import json
from typing import Any

from console.core.crypto import DecryptionFailed, keyring
from console.core.errors import AuthenticationFailed

TICKET_SECONDS = 120


# What a ticket is for: a download link, or handing a new session to the browser's cookie.
DOWNLOAD = "download"
SIGN_IN = "sign-in"
_INVALID = {DOWNLOAD: "下载链接无效", SIGN_IN: "登录已失效，请重新登录"}
_EXPIRED = {DOWNLOAD: "下载链接已过期，请重新下载", SIGN_IN: "登录已超时，请重新登录"}


def seal_ticket(
    *,
    session_token: str,
    payload: dict[str, Any],
    now: float,
    purpose: str = DOWNLOAD,
    seconds: int = TICKET_SECONDS,
) -> str:
    """A ticket for ``payload`` (JSON-ready) on behalf of a session, valid ``seconds``."""
    return keyring().encrypt(
        json.dumps({"s": session_token, "p": payload, "u": purpose, "exp": now + seconds})
    )


def open_ticket(ticket: str, *, now: float, purpose: str = DOWNLOAD) -> tuple[str, dict[str, Any]]:
    """(session token, payload) of a valid ticket sealed for ``purpose``.

    Raises:
        AuthenticationFailed: the ticket was altered, has expired or is for something else.
    """
    try:
        sealed = json.loads(keyring().decrypt(ticket))
    except (DecryptionFailed, ValueError):
        raise AuthenticationFailed(_INVALID[purpose]) from None
    if not isinstance(sealed, dict) or sealed.get("u", DOWNLOAD) != purpose:
        raise AuthenticationFailed(_INVALID[purpose])
    if sealed["exp"] < now:
        raise AuthenticationFailed(_EXPIRED[purpose])
    return sealed["s"], sealed["p"]
