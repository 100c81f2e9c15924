"""Lockout that holds: one answer during a lock, a capped lock, a limit per source address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.settings import get_settings
from console.iam import service, throttle
from console.iam.models import LoginEvent, User
from tests.support.world import PASSWORD, World, sign_in_answer


def _attempt(account: str, password: str, address: str = "10.1.1.1") -> str:
    return sign_in_answer(account, password, address)


def _lock(account: str) -> None:
    for _ in range(5):
        assert _attempt(account, "wrong") == service.BAD_CREDENTIALS


def _events(account: str) -> list[LoginEvent]:
    with session_scope() as session:
        return service.recent_login_events(session=session, account=account, limit=50)


def _locked_until(account: str):
    with session_scope() as session:
        return session.exec(select(User.locked_until).where(User.account == account)).one()


def test_during_a_lock_right_wrong_and_unknown_all_read_the_same(world: World) -> None:
    _lock("u_reviewer")
    answers = {
        _attempt("u_reviewer", PASSWORD),
        _attempt("u_reviewer", "wrong"),
        _attempt("nobody_here", "wrong"),
    }
    assert answers == {service.BAD_CREDENTIALS}
    newest = _events("u_reviewer")[:2]
    assert [e.outcome for e in newest] == ["locked", "locked"]
    assert "密码错误" in newest[0].reason and "密码正确" in newest[1].reason  # the log knows


def test_attempts_during_a_lock_are_logged_but_never_extend_it(world: World) -> None:
    _lock("u_reviewer")
    until = _locked_until("u_reviewer")
    assert until is not None and until - utcnow() <= timedelta(minutes=30)
    for _ in range(12):
        _attempt("u_reviewer", "wrong")
    assert _locked_until("u_reviewer") == until
    assert sum(e.outcome == "locked" for e in _events("u_reviewer")) == 12
    with session_scope() as session:  # the cap passes
        user = session.exec(select(User).where(User.account == "u_reviewer")).one()
        user.locked_until = utcnow() - timedelta(seconds=1)
        session.add(user)
    assert _attempt("u_reviewer", PASSWORD) == ""


def test_one_address_is_stopped_across_accounts_while_others_go_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_LOGIN_ATTEMPTS_PER_ADDRESS", "6")
    get_settings.cache_clear()
    throttle.reset()
    for account in ("u_a", "u_b", "u_c", "u_d", "u_e", "u_f"):
        assert _attempt(account, "guess", address="198.51.100.7") == service.BAD_CREDENTIALS
    refused = _attempt("u_reviewer", PASSWORD, address="198.51.100.7")
    assert refused == throttle.TOO_MANY_ATTEMPTS  # even the right password waits
    assert _attempt("u_reviewer", PASSWORD, address="198.51.100.8") == ""
    limited = _events("u_reviewer")[1]
    assert limited.outcome == "rate_limited" and "198.51.100.7" in limited.reason
    with session_scope() as session:  # the guessed accounts were not locked by the stranger
        assert session.exec(select(User).where(User.locked_until.is_not(None))).all() == []


def test_the_proxy_header_counts_only_from_a_configured_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert throttle.source_address("10.0.0.2", "203.0.113.5") == "10.0.0.2"
    monkeypatch.setenv("BDC_TRUSTED_PROXIES", "10.0.0.2, fd00::/8")
    get_settings.cache_clear()
    assert throttle.source_address("10.0.0.2", "203.0.113.5") == "203.0.113.5"
    assert throttle.source_address("fd00::1", "2001:db8::5") == "2001:db8::5"
    assert throttle.source_address("10.0.0.3", "203.0.113.5") == "10.0.0.3"


def test_ipv6_callers_are_counted_by_their_64(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_LOGIN_ATTEMPTS_PER_ADDRESS", "6")
    get_settings.cache_clear()
    throttle.reset()
    for host in range(1, 7):  # a new address each time, all in one /64
        assert _attempt("u_reviewer", "wrong", address=f"2001:db8:1:2::{host}") != (
            throttle.TOO_MANY_ATTEMPTS
        )
    assert _attempt("u_auditor", "wrong", address="2001:db8:1:2::99") == throttle.TOO_MANY_ATTEMPTS
    assert _attempt("u_auditor", "wrong", address="2001:db8:1:3::1") == service.BAD_CREDENTIALS


def test_an_account_without_a_password_here_costs_the_same_argon2_work(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A synced account ("!" as its hash) must not answer faster than a real one."""
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "u_reviewer")).one()
        user.password_hash = "!"
        session.add(user)
    checked: list[str] = []
    real = service.verify_password

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(service, "verify_password", counting)
    assert _attempt("u_reviewer", "!") == service.BAD_CREDENTIALS
    assert len(checked) == 1 and checked[0].startswith("$argon2")
