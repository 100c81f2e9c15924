"""The session cookie's hand-over: a sign-in ticket works once, for a minute, for sign-in only."""

from __future__ import annotations

import time

import pytest

from console.core.db import session_scope
from console.core.errors import AuthenticationFailed
from console.core.settings import get_settings
from console.core.tickets import seal_ticket
from console.iam import cookie_service, service
from tests.support.world import PASSWORD, World


def _sign_in(account: str = "u_reviewer") -> str:
    with session_scope() as session:
        token, _actor = service.authenticate(
            session=session, account=account, password=PASSWORD, client_ip="10.1.1.1"
        )
    return token


def _redeem(ticket: str) -> str:
    with session_scope() as session:
        return cookie_service.redeem_sign_in_ticket(session=session, ticket=ticket)


def _resolves(token: str) -> bool:
    try:
        with session_scope() as session:
            service.resolve_session(session=session, token=token)
    except AuthenticationFailed:
        return False
    return True


def test_a_ticket_gives_a_new_token_and_the_old_one_stops_working(world: World) -> None:
    token = _sign_in()
    fresh = _redeem(cookie_service.sign_in_ticket(token=token))
    assert fresh != token
    assert _resolves(fresh) and not _resolves(token)


def test_a_ticket_works_once(world: World) -> None:
    ticket = cookie_service.sign_in_ticket(token=_sign_in())
    _redeem(ticket)
    with pytest.raises(AuthenticationFailed, match="登录已失效"):
        _redeem(ticket)


def test_an_expired_ticket_is_refused(world: World) -> None:
    token = _sign_in()
    stale = seal_ticket(
        session_token=token,
        payload={},
        now=time.time() - cookie_service.HANDOFF_SECONDS - 1,
        purpose="sign-in",
        seconds=cookie_service.HANDOFF_SECONDS,
    )
    with pytest.raises(AuthenticationFailed, match="超时"):
        _redeem(stale)
    assert _resolves(token)  # nothing changed


def test_a_download_ticket_cannot_be_redeemed_as_a_sign_in(world: World) -> None:
    token = _sign_in()
    download = seal_ticket(session_token=token, payload={"report": 1}, now=time.time())
    with pytest.raises(AuthenticationFailed):
        _redeem(download)
    assert _resolves(token)


def test_a_ticket_of_an_ended_session_is_refused(world: World) -> None:
    token = _sign_in()
    ticket = cookie_service.sign_in_ticket(token=token)
    with session_scope() as session:
        service.end_session(session=session, token=token)
    with pytest.raises(AuthenticationFailed):
        _redeem(ticket)


def test_a_forged_ticket_is_refused(world: World) -> None:
    with pytest.raises(AuthenticationFailed):
        _redeem("not-a-ticket")


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("bdc_session=abc", "abc"),
        ("theme=dark; bdc_session=abc; other=1", "abc"),
        ('bdc_session="abc"', "abc"),
        ("xbdc_session=abc", ""),
        ("bdc_session=", ""),
        ("bdc_session=abc; bdc_session=planted", ""),  # shadowed: no session at all
        ("", ""),
    ],
)
def test_the_token_is_read_from_the_cookie_header(header: str, token: str) -> None:
    assert cookie_service.cookie_token(header) == token


def test_secure_over_https_and_only_from_a_trusted_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BDC_TRUSTED_PROXIES", "10.0.0.0/8")
    get_settings.cache_clear()
    try:
        https = cookie_service.served_over_https
        assert https(scheme="https", peer="203.0.113.9", forwarded_proto="")
        assert https(scheme="http", peer="10.0.0.5", forwarded_proto="https")
        assert not https(scheme="http", peer="203.0.113.9", forwarded_proto="https")
        assert not https(scheme="http", peer="10.0.0.5", forwarded_proto="http")
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"sec-fetch-site": "same-origin"}, True),
        ({"sec-fetch-site": "cross-site"}, False),
        ({"sec-fetch-site": "same-site"}, False),  # a sibling host is another site here
        ({"sec-fetch-site": "none"}, False),  # typed or pasted: not from the login page
        ({"referer": "http://console.example/login", "host": "console.example"}, True),
        ({"referer": "http://evil.example/x", "host": "console.example"}, False),
        ({"host": "console.example"}, False),
    ],
)
def test_a_sign_in_ticket_is_collected_only_from_the_consoles_own_page(
    headers: dict[str, str], allowed: bool
) -> None:
    from starlette.requests import Request

    from console.api.deps import _started_here

    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    assert _started_here(Request({"type": "http", "headers": raw})) is allowed
