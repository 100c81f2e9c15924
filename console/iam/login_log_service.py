"""Login log for auditors: every attempt with time, account, IP, browser and outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import CHINA_TZ
from console.core.paging import Page, PageRequest, paginate
from console.iam.models import LoginEvent, LoginOutcome, User
from console.tenancy.scope import scope_of

OBJ = "iam.login_log"
OUTCOME_LABELS = {
    LoginOutcome.SUCCESS.value: "登录成功",
    LoginOutcome.FAILURE.value: "登录失败",
    LoginOutcome.LOCKED.value: "账号锁定",
    LoginOutcome.DISABLED.value: "账号停用",
    LoginOutcome.LOGOUT.value: "退出登录",
    LoginOutcome.IDLE_TIMEOUT.value: "空闲超时",
    LoginOutcome.PASSWORD_CHANGED.value: "修改密码",
    LoginOutcome.PASSWORD_RESET.value: "重置密码",
    LoginOutcome.SUPERSEDED.value: "被新登录替代",
    LoginOutcome.TENANT_SUSPENDED.value: "租户停用",
    LoginOutcome.PASSWORD_EXPIRED.value: "密码过期",
    LoginOutcome.RATE_LIMITED.value: "尝试过于频繁",
    LoginOutcome.SECOND_FACTOR_BOUND.value: "绑定动态验证码",
    LoginOutcome.SECOND_FACTOR_RESET.value: "重置动态验证码",
    LoginOutcome.UNLOCKED.value: "解除锁定",
    LoginOutcome.MAX_AGE.value: "会话到达最长时长",
    LoginOutcome.ADDRESS_REFUSED.value: "来源地址不允许",
}


@dataclass(frozen=True)
class LoginRow:
    """One login event for display."""

    id: int
    time: str
    account: str
    outcome: str
    outcome_label: str
    reason: str
    client_ip: str
    user_agent: str


@dataclass(frozen=True)
class LoginQuery:
    """Filters of the login log."""

    account: str = ""
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_login_events(
    *,
    session: Session,
    actor: Actor,
    query: LoginQuery | None = None,
    page: PageRequest | None = None,
) -> Page[LoginRow]:
    """Newest first; county auditors see their tenant's accounts, province auditors all."""
    authz.require(actor, OBJ, "read")
    query, page = query or LoginQuery(), page or PageRequest()
    statement = select(LoginEvent).order_by(LoginEvent.id.desc())  # type: ignore[union-attr]
    scope = scope_of(actor)
    if not scope.all_tenants:
        # Attempts on unknown accounts belong to no tenant: only province auditors see them.
        in_scope = select(User.id).where(User.tenant_code.in_(sorted(scope.codes)))  # type: ignore[attr-defined]
        statement = statement.where(LoginEvent.user_id.in_(in_scope))  # type: ignore[union-attr]
    if query.account.strip():
        statement = statement.where(LoginEvent.account == query.account.strip())
    if query.outcome:
        statement = statement.where(LoginEvent.outcome == query.outcome)
    if query.since:
        statement = statement.where(LoginEvent.ts >= query.since)
    if query.until:
        statement = statement.where(LoginEvent.ts < query.until)
    events, total = paginate(session, statement, page)
    rows = [
        LoginRow(
            id=e.id or 0,
            time=e.ts.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
            account=e.account,
            outcome=e.outcome,
            outcome_label=OUTCOME_LABELS.get(e.outcome, e.outcome),
            reason=e.reason,
            client_ip=e.client_ip,
            user_agent=e.user_agent,
        )
        for e in events
    ]
    return Page(rows, total, page.page, page.size)
