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


def seal_ticket(*, session_token: str, payload: dict[str, Any], now: float) -> str:
    """A ticket for ``payload`` (JSON-ready) on behalf of a session, valid two minutes."""
    return keyring().encrypt(
        json.dumps({"s": session_token, "p": payload, "exp": now + TICKET_SECONDS})
    )


def open_ticket(ticket: str, *, now: float) -> tuple[str, dict[str, Any]]:
    """(session token, payload) of a valid ticket.

    Raises:
        AuthenticationFailed: the ticket was altered or has expired.
    """
    try:
        sealed = json.loads(keyring().decrypt(ticket))
    except (DecryptionFailed, ValueError):
        raise AuthenticationFailed("下载链接无效") from None
    if sealed["exp"] < now:
        raise AuthenticationFailed("下载链接已过期，请重新下载")
    return sealed["s"], sealed["p"]
