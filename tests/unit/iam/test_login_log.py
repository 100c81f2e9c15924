"""The login log: auditors read it, scoped by tenant; others are refused."""

from __future__ import annotations

import pytest

from console.authz import service as authz
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden
from console.iam import service as auth
from console.iam.login_log_service import LoginQuery, list_login_events
from console.iam.models import Role
from tests.support.world import PASSWORD, XIHU, World, add_user


def _attempt(account: str, password: str = PASSWORD, agent: str = "Mozilla/5.0 测试") -> None:
    try:
        with session_scope() as session:
            auth.authenticate(
                session=session,
                account=account,
                password=password,
                client_ip="10.1.2.3",
                user_agent=agent,
            )
    except AuthenticationFailed:
        pass


def _accounts(actor, **query) -> list[str]:
    with session_scope() as session:
        page = list_login_events(session=session, actor=actor, query=LoginQuery(**query))
    return [row.account for row in page.items]


def test_audit_admin_sees_every_attempt_with_ip_and_browser(world: World) -> None:
    _attempt("u_window_clerk", "wrong")
    _attempt("ghost")
    auditor = world.actor("audit_admin")
    with session_scope() as session:
        rows = list_login_events(
            session=session, actor=auditor, query=LoginQuery(account="u_window_clerk")
        ).items
    assert rows[0].outcome_label == "登录失败"
    assert (rows[0].client_ip, rows[0].user_agent) == ("10.1.2.3", "Mozilla/5.0 测试")
    assert "ghost" in _accounts(auditor)


def test_other_roles_cannot_read_the_login_log(world: World) -> None:
    with pytest.raises(Forbidden), session_scope() as session:
        list_login_events(session=session, actor=world.actor("sys_admin"))


def test_a_county_auditor_sees_only_own_county_accounts(world: World) -> None:
    uid = add_user("xihu_auditor", XIHU)
    with session_scope() as session:
        session.add(Role(code="county_auditor", name="县级审计员", category="业务"))
        authz.set_role_permissions(
            session, role_code="county_auditor", permissions={("iam.login_log", "read")}
        )
        authz.set_user_roles(session, user_id=uid, roles=[("county_auditor", XIHU)])
    _attempt("binjiang_admin")
    _attempt("ghost")
    _attempt("u_window_clerk")
    with session_scope() as session:
        _, auditor = auth.authenticate(session=session, account="xihu_auditor", password=PASSWORD)
    seen = set(_accounts(auditor))
    assert "u_window_clerk" in seen
    assert not seen & {"binjiang_admin", "ghost", "u_sys_admin"}


def test_every_login_outcome_has_a_chinese_label() -> None:
    from console.iam.login_log_service import OUTCOME_LABELS
    from console.iam.models import LoginOutcome

    assert {outcome.value for outcome in LoginOutcome} <= set(OUTCOME_LABELS)
