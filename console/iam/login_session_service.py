"""Ending every open browser session of an account at once (a reset, a disabling)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from console.core.clock import utcnow
from console.iam.models import LoginSession


def end_open_sessions(session: Session, *, user_id: int, reason: str) -> int:
    """End the account's open sessions in one UPDATE; return how many were open."""
    table = LoginSession.__table__  # type: ignore[attr-defined]
    ended = session.execute(
        sa.update(table)
        .where(table.c.user_id == user_id, table.c.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    return int(ended.rowcount or 0)  # type: ignore[attr-defined]
