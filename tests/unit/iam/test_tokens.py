"""Personal access tokens: shown once, act as their owner, end with revocation or the owner."""

from __future__ import annotations

import pytest
from sqlmodel import select

from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, ValidationFailed
from console.iam import token_service, user_service
from tests.support.world import PASSWORD, PASSWORD_HASH, World


def test_a_token_acts_as_its_owner_until_revoked(world: World) -> None:
    owner = world.actor("audit_admin")
    with session_scope() as session:
        presented = token_service.create_token(
            session=session, actor=owner, name="审计脚本", days=30
        )
    with session_scope() as session:
        actor = token_service.resolve_token(session=session, presented=presented)
        rows = token_service.list_tokens(session=session, actor=owner)
    assert (actor.user_id, actor.tenant_code) == (owner.user_id, owner.tenant_code)
    assert [(r.name, r.status) for r in rows] == [("审计脚本", "有效")]
    assert presented not in repr(rows)
    with session_scope() as session:
        token_service.revoke_token(session=session, actor=owner, token_id=rows[0].token_id)
    with pytest.raises(AuthenticationFailed, match="已吊销"), session_scope() as session:
        token_service.resolve_token(session=session, presented=presented)


def test_disabling_the_owner_revokes_the_token_for_good_and_lifetimes_are_bounded(
    world: World,
) -> None:
    clerk = world.actor("window_clerk")
    with session_scope() as session:
        presented = token_service.create_token(session=session, actor=clerk, name="工具")
        with pytest.raises(ValidationFailed, match="有效期"):
            token_service.create_token(session=session, actor=clerk, name="太久", days=400)
    admin = world.actor("county_admin")
    with session_scope() as session:
        user_service.set_status(session=session, actor=admin, user_id=clerk.user_id, enabled=False)
    with pytest.raises(AuthenticationFailed, match="已吊销"), session_scope() as session:
        token_service.resolve_token(session=session, presented=presented)
    with session_scope() as session:  # enabling again does not bring the token back
        user_service.set_status(session=session, actor=admin, user_id=clerk.user_id, enabled=True)
    with pytest.raises(AuthenticationFailed, match="已吊销"), session_scope() as session:
        token_service.resolve_token(session=session, presented=presented)


def test_a_password_reset_suspends_the_tokens_until_the_owner_changes_it(world: World) -> None:
    from console.iam import service

    clerk = world.actor("window_clerk")
    with session_scope() as session:
        presented = token_service.create_token(session=session, actor=clerk, name="工具")
    with session_scope() as session:
        one_time = user_service.unlock_and_reset(
            session=session, actor=world.actor("sec_admin"), user_id=clerk.user_id
        )
    with pytest.raises(AuthenticationFailed) as suspended, session_scope() as session:
        token_service.resolve_token(session=session, presented=presented)
    assert suspended.value.message == token_service.TOKENS_SUSPENDED
    with session_scope() as session:
        _, signed_in = service.authenticate(
            session=session, account=clerk.account, password=one_time
        )
    with session_scope() as session:
        service.change_password(
            session=session,
            actor=signed_in,
            current_password=one_time,
            new_password="Owner#Again2026",
            confirm_password="Owner#Again2026",
        )
    with session_scope() as session:
        assert token_service.resolve_token(session=session, presented=presented).user_id == (
            clerk.user_id
        )


def test_a_token_only_account_never_signs_in_interactively(world: World) -> None:
    from console.cli import main
    from console.iam import service

    account = ["--account", "report_bot", "--name", "报表工具", "--tenant", "330000"]
    assert main(["user", "create", *account, "--token-only"]) == 0
    with session_scope() as session:
        presented = token_service.create_token_for_account(
            session, account="report_bot", name="报表", days=30
        )
    with session_scope() as session:
        actor = token_service.resolve_token(session=session, presented=presented)
    assert actor.account == "report_bot"
    with session_scope() as session:
        user = session.exec(
            select(user_service.User).where(user_service.User.account == "report_bot")
        ).one()
        user.password_hash = PASSWORD_HASH  # even a known password must not open a session
        session.add(user)
    with pytest.raises(AuthenticationFailed) as refused, session_scope() as session:
        service.authenticate(session=session, account="report_bot", password=PASSWORD)
    assert refused.value.message == service.BAD_CREDENTIALS
