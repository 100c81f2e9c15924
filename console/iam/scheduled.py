"""IAM's system jobs: accounts idle too long are disabled."""

from __future__ import annotations

from datetime import datetime

from console.core.db import session_scope
from console.iam.inactivity_service import disable_inactive
from console.jobs.registry import scheduled
from console.jobs.timing import daily


@scheduled(
    name="iam.disable_inactive",
    label="闲置账号停用",
    trigger=daily(2, 15),
    deadline_seconds=10 * 60,
    idempotent=True,
)
def disable_inactive_accounts(now: datetime) -> str:
    """Disable the interactive accounts nobody has signed in with for too long."""
    with session_scope() as session:
        accounts = disable_inactive(session, now=now)
    if not accounts:
        return "没有需要停用的闲置账号"
    shown = "、".join(accounts[:10]) + ("等" if len(accounts) > 10 else "")
    return f"停用 {len(accounts)} 个闲置账号：{shown}"
