"""Personal access tokens: shown once, act as their owner, end with revocation or the owner."""

from __future__ import annotations

import pytest

from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, ValidationFailed
from console.iam import token_service, user_service
from tests.support.world import World


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


def test_a_disabled_owner_stops_the_token_and_lifetimes_are_bounded(world: World) -> None:
    clerk = world.actor("window_clerk")
    with session_scope() as session:
        presented = token_service.create_token(session=session, actor=clerk, name="工具")
        with pytest.raises(ValidationFailed, match="有效期"):
            token_service.create_token(session=session, actor=clerk, name="太久", days=400)
    admin = world.actor("county_admin")
    with session_scope() as session:
        user_service.set_status(session=session, actor=admin, user_id=clerk.user_id, enabled=False)
    with pytest.raises(AuthenticationFailed, match="已停用"), session_scope() as session:
        token_service.resolve_token(session=session, presented=presented)
