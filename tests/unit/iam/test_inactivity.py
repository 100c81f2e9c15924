"""Idle interactive accounts are disabled by the nightly job; synced and token-only are not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed
from console.iam import service, token_service, user_service
from console.iam.inactivity_service import disable_inactive
from console.iam.models import User
from console.iam.user_service import UserQuery
from console.jobs.registry import REGISTRY
from tests.support.world import World, add_user


def _age(account: str, *, days: int, signed_in: bool = True, **fields: object) -> None:
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == account)).one()
        moment = utcnow() - timedelta(days=days)
        user.created_at = moment
        user.last_login_at = moment if signed_in else None
        for name, value in fields.items():
            setattr(user, name, value)
        session.add(user)


def _listed(world: World, status: str) -> list[str]:
    with session_scope() as session:
        page = user_service.list_users(
            session=session, actor=world.actor("sec_admin"), query=UserQuery(status=status)
        )
    return sorted(row.account for row in page.items)


def test_idle_interactive_accounts_are_disabled_and_listed_apart_from_the_exempt(
    world: World,
) -> None:
    clerk = world.actor("window_clerk")
    with session_scope() as session:
        presented = token_service.create_token(session=session, actor=clerk, name="工具")
    _age("u_window_clerk", days=91)
    add_user("never_seen", "330106", ("window_clerk",))
    _age("never_seen", days=120, signed_in=False)
    add_user("report_bot", "330000", ("province_supervisor",))
    _age("report_bot", days=400, signed_in=False, token_only=True)
    add_user("synced_one", "330106", ("window_clerk",))
    _age("synced_one", days=400, signed_in=False, password_hash="!")
    _age("u_reviewer", days=89)
    with session_scope() as session:
        disabled = disable_inactive(session, now=utcnow())
    assert sorted(disabled) == ["never_seen", "u_window_clerk"]
    assert _listed(world, "inactive") == ["never_seen", "u_window_clerk"]
    assert _listed(world, "exempt") == ["report_bot", "synced_one"]
    with session_scope() as session:
        kept = session.exec(select(User).where(User.account == "u_reviewer")).one()
        reason = service.recent_login_events(session=session, account="u_window_clerk")[0].reason
        tokens = token_service.list_tokens(session=session, actor=clerk)
    assert kept.status == "active" and reason == "连续 90 天未登录，由系统任务停用"
    assert [t.status for t in tokens] == ["已吊销"]
    with pytest.raises(AuthenticationFailed), session_scope() as session:
        token_service.resolve_token(session=session, presented=presented)


def test_the_job_is_registered_daily() -> None:
    import console.iam.scheduled  # noqa: F401  (registers the job)

    job = next(job for job in REGISTRY if job.name == "iam.disable_inactive")
    assert job.label == "闲置账号停用" and job.idempotent
