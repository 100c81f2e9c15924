"""The security policy: 安全管理员 changes it at run time; logins follow it at once."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlmodel import select

from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden, ValidationFailed
from console.iam import policy_service
from console.iam import service as auth
from console.iam.models import LoginSession
from tests.support.world import PASSWORD, World

DEFAULTS = {
    "session_idle_minutes": 30,
    "login_max_failures": 5,
    "login_lock_minutes": 30,
    "password_min_length": 10,
    "password_history": 5,
    "password_max_age_days": 90,
}


def _set(world: World, **changes: int) -> None:
    with session_scope() as session:
        policy_service.update_policy(
            session=session, actor=world.actor("sec_admin"), values={**DEFAULTS, **changes}
        )


def _login(account: str, password: str = PASSWORD) -> str:
    with session_scope() as session:
        return auth.authenticate(session=session, account=account, password=password)[0]


def test_defaults_come_from_the_settings_until_changed(world: World) -> None:
    with session_scope() as session:
        values = policy_service.read_policy(session=session, actor=world.actor("sys_admin"))
    assert values.login_max_failures == 5 and values.session_idle_minutes == 30


def test_lockout_follows_the_changed_limit(world: World) -> None:
    _set(world, login_max_failures=3)
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            _login("u_reviewer", "wrong")
    with pytest.raises(AuthenticationFailed) as refused:
        _login("u_reviewer")
    assert refused.value.message == auth.BAD_CREDENTIALS  # locked: right password reads the same
    with session_scope() as session:
        event = auth.recent_login_events(session=session, account="u_reviewer", limit=1)[0]
    assert event.outcome == "locked" and "密码正确" in event.reason


def test_idle_limit_follows_the_changed_policy(world: World) -> None:
    token = _login("u_reviewer")
    with session_scope() as session:
        login = session.exec(select(LoginSession).where(LoginSession.ended_at.is_(None))).all()[-1]
        login.last_seen_at = utcnow() - timedelta(minutes=20)
        session.add(login)
    _set(world, session_idle_minutes=15)
    with pytest.raises(AuthenticationFailed), session_scope() as session:
        auth.resolve_session(session=session, token=token)


def test_only_the_security_admin_may_change_the_policy(world: World) -> None:
    with pytest.raises(Forbidden), session_scope() as session:
        policy_service.update_policy(
            session=session, actor=world.actor("sys_admin"), values=DEFAULTS
        )


def test_out_of_range_values_are_named(world: World) -> None:
    with pytest.raises(ValidationFailed) as bad:
        _set(world, password_min_length=4)
    assert bad.value.field == "密码最小长度" and "8 到 64" in bad.value.message


def test_password_history_refuses_recent_passwords(world: World) -> None:
    with session_scope() as session:
        _, actor = auth.authenticate(session=session, account="u_reviewer", password=PASSWORD)
    passwords = [PASSWORD, "Second#Pass2026", "Third#Pass2026"]
    for old, new in itertools.pairwise(passwords):
        with session_scope() as session:
            auth.change_password(
                session=session,
                actor=actor,
                current_password=old,
                new_password=new,
                confirm_password=new,
            )
    with pytest.raises(ValidationFailed) as bad, session_scope() as session:
        auth.change_password(
            session=session,
            actor=actor,
            current_password=passwords[-1],
            new_password=PASSWORD,
            confirm_password=PASSWORD,
        )
    assert "最近 5 次" in bad.value.message
