"""Administrators only from known places: the allow-list per administrator, checked at sign-in."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden, ValidationFailed
from console.iam import admin_network_service as networks
from console.iam import role_service, separation, service
from console.iam.models import LoginEvent, LoginOutcome, User
from tests.support.world import PASSWORD, World, add_user, sign_in_answer


def _sign_in(account: str, address: str, password: str = PASSWORD) -> str:
    return sign_in_answer(account, password, address)


def _newest_event(account: str) -> LoginEvent:
    with session_scope() as session:
        return service.recent_login_events(session=session, account=account, limit=1)[0]


def _set(world: World, admin: str, text: str, *, from_address: str = "") -> str:
    actor = dataclasses.replace(world.actor("sec_admin"), client_ip=from_address)
    with session_scope() as session:
        return networks.update_admin_networks(
            session=session, actor=actor, admin=admin, networks=text
        )


def test_an_administrator_from_a_public_address_reads_a_wrong_password(world: World) -> None:
    assert _sign_in("u_audit_admin", "203.0.113.7") == service.BAD_CREDENTIALS
    event = _newest_event("u_audit_admin")
    assert event.outcome == LoginOutcome.ADDRESS_REFUSED
    assert event.client_ip == "203.0.113.7"
    assert "203.0.113.7" in event.reason and "审计管理员" in event.reason
    assert "密码正确" in event.reason
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "u_audit_admin")).one()
        assert user.failed_login_count == 0  # the address is the cause, not a guess


def test_an_administrator_from_a_private_address_signs_in_by_default(world: World) -> None:
    for address in ("127.0.0.1", "10.2.3.4", "192.168.10.1", "172.20.0.9", "::1", "fd00::5"):
        assert _sign_in("u_sys_admin", address) == "", address


def test_business_accounts_are_not_limited(world: World) -> None:
    assert _sign_in("u_province_supervisor", "203.0.113.7") == ""


def test_ipv6_networks_are_honoured(world: World) -> None:
    _set(world, "sys_admin", "2001:db8::/32, 127.0.0.1")
    assert _sign_in("u_sys_admin", "2001:db8:1::5") == ""
    assert _sign_in("u_sys_admin", "2001:db9::1") == service.BAD_CREDENTIALS
    assert _sign_in("u_sys_admin", "10.0.0.1") == service.BAD_CREDENTIALS  # no longer listed


def test_each_administrator_has_its_own_list(world: World) -> None:
    _set(world, "audit_admin", "198.51.100.0/24")
    assert _sign_in("u_audit_admin", "198.51.100.20") == ""
    assert _sign_in("u_sys_admin", "198.51.100.20") == service.BAD_CREDENTIALS


def test_a_custom_role_with_an_administrators_powers_follows_its_list(world: World) -> None:
    with session_scope() as session:
        role_service.create_role(
            session=session,
            actor=world.actor("sec_admin"),
            code="log_reader",
            name="日志查阅",
            category="系统",
            permissions={("audit.logs", "read"), ("audit.logs", "export")},
        )
    add_user("u_log_reader", "330000", ("log_reader",))
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "u_log_reader")).one()
        assert separation.duties_of(session, user.id) == ["audit_admin"]
    assert _sign_in("u_log_reader", "203.0.113.7") == service.BAD_CREDENTIALS


def test_a_list_is_normalised_and_a_bad_entry_named(world: World) -> None:
    assert _set(world, "sys_admin", "10.1.2.3/8，192.168.1.20\n::1") == (
        "10.0.0.0/8, 192.168.1.20/32, ::1/128"
    )
    with pytest.raises(ValidationFailed, match="无法识别"):
        _set(world, "sys_admin", "10.0.0.0/8, intranet")
    with pytest.raises(ValidationFailed, match="至少"):
        _set(world, "sys_admin", " , ")


def test_the_security_administrator_cannot_shut_themselves_out(world: World) -> None:
    with pytest.raises(ValidationFailed, match=r"192\.168\.5\.5"):
        _set(world, "sec_admin", "10.0.0.0/8", from_address="192.168.5.5")
    assert _set(world, "sec_admin", "192.168.5.0/24", from_address="192.168.5.5")
    # Another administrator's list may leave the editor's address out.
    assert _set(world, "sys_admin", "10.0.0.0/8", from_address="192.168.5.5")


def test_only_the_security_administrator_edits_and_each_change_is_logged(world: World) -> None:
    with session_scope() as session, pytest.raises(Forbidden):
        networks.update_admin_networks(
            session=session, actor=world.actor("sys_admin"), admin="sys_admin", networks="0.0.0.0/0"
        )
    _set(world, "audit_admin", "10.9.0.0/16")
    with session_scope() as session:
        logged = session.exec(
            select(OperationLog).where(OperationLog.target == "admin_networks:audit_admin")
        ).all()
        denied = session.exec(
            select(OperationLog).where(
                OperationLog.target == "admin_networks:sys_admin", OperationLog.outcome == "denied"
            )
        ).all()
    assert len(logged) == 1 and len(denied) == 1


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "signed_in"),
    [
        ("10.0.0.1", "203.0.113.7", False),  # the trusted proxy names a public client
        ("10.0.0.1", "192.168.3.4", True),  # ... or a private one
        ("203.0.113.9", "192.168.3.4", False),  # anyone else's header is ignored
        ("192.168.3.4", "203.0.113.7", True),  # a private peer that is no proxy: its own address
    ],
)
def test_the_address_checked_comes_from_a_proxy_header_only_behind_a_trusted_proxy(
    world: World, monkeypatch: pytest.MonkeyPatch, peer: str, forwarded_for: str, signed_in: bool
) -> None:
    from console.core.settings import get_settings
    from console.iam import throttle

    monkeypatch.setenv("BDC_TRUSTED_PROXIES", "10.0.0.1")
    get_settings.cache_clear()
    try:
        address = throttle.source_address(peer, forwarded_for)
        answer = _sign_in("u_sec_admin", address)
    finally:
        get_settings.cache_clear()
    assert (answer == "") is signed_in, address


def test_from_outside_not_even_a_disabled_account_shows_through(world: World) -> None:
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "u_audit_admin")).one()
        user.status = "disabled"
        session.add(user)
    assert _sign_in("u_audit_admin", "10.0.0.9") == service.ACCOUNT_DISABLED  # inside: told
    assert _sign_in("u_audit_admin", "203.0.113.7") == service.BAD_CREDENTIALS  # outside: not


def test_an_administrators_access_token_is_bound_by_the_same_networks(world: World) -> None:
    from console.iam import token_service

    with session_scope() as session:
        presented = token_service.create_token_for_account(
            session, account="u_audit_admin", name="审计脚本", days=30
        )
    with session_scope() as session:
        assert (
            token_service.resolve_token(
                session=session, presented=presented, client_ip="10.1.2.3"
            ).account
            == "u_audit_admin"
        )
    with session_scope() as session, pytest.raises(AuthenticationFailed, match="地址"):
        token_service.resolve_token(session=session, presented=presented, client_ip="203.0.113.7")
    with session_scope() as session:  # a business account's token is not limited
        clerk = token_service.create_token_for_account(
            session, account="u_province_supervisor", name="脚本", days=30
        )
    with session_scope() as session:
        token_service.resolve_token(session=session, presented=clerk, client_ip="203.0.113.7")
