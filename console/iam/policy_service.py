"""Security policy (密码与登录策略): defaults from ``BDC_*``, changed by 安全管理员 at run time."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from sqlmodel import Session

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import ValidationFailed
from console.core.settings import Settings, get_settings
from console.iam.models import SecurityPolicy

OBJ = "system.settings"


@dataclass(frozen=True)
class PolicyValues:
    """The rules every login and password change follows."""

    session_idle_minutes: int
    login_max_failures: int
    login_lock_minutes: int
    password_min_length: int
    password_history: int
    password_max_age_days: int


# Chinese label and allowed range of each rule (the same ranges the BDC_* settings accept).
RULES: dict[str, tuple[str, int, int]] = {
    name: (
        label,
        next(m.ge for m in Settings.model_fields[name].metadata if hasattr(m, "ge")),
        next(m.le for m in Settings.model_fields[name].metadata if hasattr(m, "le")),
    )
    for name, label in (
        ("session_idle_minutes", "会话空闲超时（分钟）"),
        ("login_max_failures", "连续登录失败锁定次数"),
        ("login_lock_minutes", "账号锁定时长（分钟）"),
        ("password_min_length", "密码最小长度"),
        ("password_history", "不得重复最近几次密码"),
        ("password_max_age_days", "密码有效期（天）"),
    )
}


def _defaults() -> PolicyValues:
    settings = get_settings()
    return PolicyValues(**{f.name: getattr(settings, f.name) for f in fields(PolicyValues)})


def effective_policy(session: Session) -> PolicyValues:
    """The rules in force: the stored policy, else the configured defaults."""
    row = session.get(SecurityPolicy, 1)
    if row is None:
        return _defaults()
    return PolicyValues(**{f.name: getattr(row, f.name) for f in fields(PolicyValues)})


def read_policy(*, session: Session, actor: Actor) -> PolicyValues:
    """The policy as the settings page shows it."""
    authz.require(actor, OBJ, "read")
    return effective_policy(session)


def update_policy(*, session: Session, actor: Actor, values: dict[str, str | int]) -> PolicyValues:
    """安全管理员 changes the rules; they apply from the next login or action.

    Raises:
        ValidationFailed: naming the rule and its allowed range.
    """
    authz.require(actor, OBJ, "write", target="security_policy")
    parsed: dict[str, int] = {}
    for name, (label, low, high) in RULES.items():
        raw = str(values.get(name, "")).strip()
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValidationFailed(f"应为 {low} 到 {high} 之间的整数", field=label)
        parsed[name] = int(raw)
    before = asdict(effective_policy(session))
    row = session.get(SecurityPolicy, 1) or SecurityPolicy(id=1, **parsed)
    for name, value in parsed.items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = actor.account, utcnow()
    session.add(row)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="update",
        target="security_policy",
        detail={"before": before, "after": parsed},
    )
    return PolicyValues(**parsed)
