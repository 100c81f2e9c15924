"""The session cookie: set by the server, HttpOnly, SameSite=Strict, Secure over HTTPS.

Reflex's pages talk to the server over a websocket, so a sign-in (an event on that
websocket) cannot set a cookie. It hands the browser a sealed sign-in ticket instead; the
browser opens ``/api/v1/session/begin?ticket=…`` and that HTTP route sets the cookie and
redirects to the page. The route rotates the session's token as it sets the cookie, so a
ticket works once, for at most a minute, and the token that the sign-in event saw is dead
by the time anybody could read the ticket from a history or a log. Later pages read the
token from the cookie header of their websocket handshake; no page script ever sees it.
"""

from __future__ import annotations

import secrets
import time

import sqlalchemy as sa
from sqlmodel import Session

from console.core.crypto import sm3_hex
from console.core.errors import AuthenticationFailed
from console.core.net import in_networks, parse_networks
from console.core.settings import get_settings
from console.core.tickets import SIGN_IN, open_ticket, seal_ticket
from console.iam.models import LoginSession

SESSION_COOKIE = "bdc_session"
BEGIN_PATH = "/api/v1/session/begin"
END_PATH = "/api/v1/session/end"
HANDOFF_SECONDS = 60
SIGN_IN_INVALID = "登录已失效，请重新登录"


def sign_in_ticket(*, token: str) -> str:
    """A one-minute ticket that lets the browser collect the session ``token`` as a cookie."""
    return seal_ticket(
        session_token=token, payload={}, now=time.time(), purpose=SIGN_IN, seconds=HANDOFF_SECONDS
    )


def redeem_sign_in_ticket(*, session: Session, ticket: str) -> str:
    """The session's new token for the cookie; the ticket's token stops working.

    One conditional UPDATE decides: of two redemptions racing, only one finds the old digest.

    Raises:
        AuthenticationFailed: a forged, expired or already used ticket, or an ended session.
    """
    token, _payload = open_ticket(ticket, now=time.time(), purpose=SIGN_IN)
    fresh = secrets.token_urlsafe(32)
    table = LoginSession.__table__  # type: ignore[attr-defined]
    changed = session.execute(
        sa.update(table)
        .where(table.c.token_digest == sm3_hex(token), table.c.ended_at.is_(None))
        .values(token_digest=sm3_hex(fresh))
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise AuthenticationFailed(SIGN_IN_INVALID)
    return fresh


def cookie_token(cookie_header: str) -> str:
    """The session token in a ``Cookie:`` header ("" when there is none).

    Two cookies of that name (one planted from a sibling host or over plain HTTP, say, to
    shadow the real one) are no session at all rather than a guess which is which.
    """
    found = []
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            found.append(value.strip('"'))
    return found[0] if len(found) == 1 else ""


def served_over_https(*, scheme: str, peer: str, forwarded_proto: str) -> bool:
    """True for HTTPS, directly or behind a trusted proxy that says so (or when configured)."""
    settings = get_settings()
    if settings.session_cookie_secure or scheme == "https":
        return True
    trusted = parse_networks(settings.trusted_proxies)
    return bool(trusted) and in_networks(peer, trusted) and forwarded_proto.lower() == "https"


def cookie_attributes(*, secure: bool) -> dict[str, object]:
    """Keyword arguments of Starlette's ``set_cookie`` for the session cookie."""
    return {"httponly": True, "samesite": "strict", "secure": secure, "path": "/"}
