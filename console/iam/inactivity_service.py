"""Accounts nobody uses do not linger: interactive accounts idle too long are disabled.

Synced accounts (no password of their own here) and token-only accounts never sign in
interactively, so they are exempt; the users page lists them apart for 安全管理员.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from console.core.settings import get_settings
from console.iam.models import LoginEvent, LoginOutcome, User, UserStatus
from console.iam.token_service import revoke_all_tokens

INACTIVE = "inactive"
# Synced accounts are stored with this non-hash until 安全管理员 issues a password.
NO_PASSWORD = "!"


def exempt_clause() -> sa.ColumnElement[bool]:
    """Accounts that never sign in interactively: token-only or synced without a password."""
    return sa.or_(User.token_only.is_(True), User.password_hash == NO_PASSWORD)  # type: ignore[attr-defined]


def disable_inactive(session: Session, *, now: datetime) -> list[str]:
    """Disable interactive accounts idle past ``BDC_ACCOUNT_INACTIVE_DAYS``; their accounts."""
    days = get_settings().account_inactive_days
    cutoff = now - timedelta(days=days)
    last_seen = sa.func.coalesce(User.last_login_at, User.created_at)
    idle = session.exec(
        select(User).where(
            User.status == UserStatus.ACTIVE.value,
            sa.not_(exempt_clause()),
            last_seen < cutoff,
        )
    ).all()
    for user in idle:
        assert user.id is not None
        user.status, user.disabled_reason, user.updated_at = (
            UserStatus.DISABLED.value,
            INACTIVE,
            now,
        )
        session.add(user)
        revoke_all_tokens(session, user_id=user.id)
        session.add(
            LoginEvent(
                account=user.account,
                user_id=user.id,
                outcome=LoginOutcome.DISABLED.value,
                reason=f"连续 {days} 天未登录，由系统任务停用",
            )
        )
    return [user.account for user in idle]
