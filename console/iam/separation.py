"""Three-admin separation (三员分立) that holds: the rules every IAM write checks.

The duties of 系统管理员, 安全管理员 and 审计管理员 are read from the seed policy: what each
built-in administrator role holds that neither the other two nor any business role holds,
plus the marks that always defined them. A role (built-in or custom) or a user's set of
roles holding duties of two administrators is refused, whatever else it holds.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from sqlmodel import Session, select

from console.audit.models import OperationLog
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import Forbidden, ValidationFailed
from console.iam.models import User

THREE_ADMINS = ("sys_admin", "sec_admin", "audit_admin")
ADMIN_LABELS = {"sys_admin": "系统管理员", "sec_admin": "安全管理员", "audit_admin": "审计管理员"}
# Whoever set or reset an account's password or second factor may not make it an
# administrator for this long (they could be holding the account).
CREDENTIAL_COOLING_DAYS = 30
# Operation-log actions that hand someone an account's credentials.
CREDENTIAL_ACTIONS = ("create", "unlock_reset", "admin_reset_confirm", "admin_reset_request")
# What always marked each job, kept even where a business role shares the permission.
_MARKS: dict[str, set[tuple[str, str]]] = {
    "sys_admin": {("iam.users", "write"), ("tenancy.tenants", "write")},
    "sec_admin": {("iam.roles", "write"), ("iam.users", "grant")},
    "audit_admin": {("audit.logs", "read"), ("audit.logs", "export")},
}


@functools.cache
def exclusive_powers() -> dict[str, frozenset[tuple[str, str]]]:
    """What only each administrator holds, from the seed policy (not the editable database).

    Its seed grants minus the other two administrators' and any business role's.
    """
    seed = authz.read_seed_policy()
    business = set().union(*(grants for role, grants in seed.items() if role not in THREE_ADMINS))
    powers = {}
    for admin in THREE_ADMINS:
        others = set().union(*(seed.get(other, set()) for other in THREE_ADMINS if other != admin))
        powers[admin] = frozenset(seed.get(admin, set()) - others - business)
    return powers


@functools.cache
def admin_duties() -> dict[str, frozenset[tuple[str, str]]]:
    """Each administrator's duties: its exclusive powers plus the marks that always defined it."""
    return {admin: power | _MARKS[admin] for admin, power in exclusive_powers().items()}


# The system administrator's powers over the platform itself; its other exclusive powers
# (publishing workflows, organisations, interfaces) are handed to business roles in places.
_PLATFORM_POWERS = frozenset({("tenancy.tenants", "write"), ("system.jobs", "execute")})


def is_administrative(permissions: set[tuple[str, str]]) -> bool:
    """True when ``permissions`` reach the powers that make an administrator.

    Any exclusive power of 安全管理员 or 审计管理员, or 系统管理员's power over the platform
    (tenants, system jobs). So a copy of an administrator role under another code is an
    administrator role too, while a business role that publishes workflows is not.
    """
    powers = exclusive_powers()
    privileged = powers["sec_admin"] | powers["audit_admin"] | _PLATFORM_POWERS
    return bool(permissions & privileged)


def granted_by(session: Session, role_codes: set[str]) -> set[tuple[str, str]]:
    """Everything the roles grant together."""
    granted: set[tuple[str, str]] = set()
    for code in role_codes:
        granted |= authz.role_permissions(session, role_code=code)
    return granted


def roles_are_administrative(session: Session, role_codes: set[str]) -> bool:
    """True when the roles are, or together act as, an administrator role."""
    if role_codes & set(THREE_ADMINS):
        return True
    return is_administrative(granted_by(session, role_codes))


def duties_of(session: Session, user_id: int) -> list[str]:
    """Which administrators an account acts as: by role code, or by the powers its roles hold."""
    codes = set(authz.user_roles(session, user_id=user_id))
    held = [admin for admin in THREE_ADMINS if admin in codes]
    granted = granted_by(session, codes - set(THREE_ADMINS))
    if is_administrative(granted):
        held += [admin for admin in duties_held(granted) if admin not in held]
    return held


def duties_held(permissions: set[tuple[str, str]]) -> list[str]:
    """Which administrators' duties ``permissions`` reach, in 系统/安全/审计 order."""
    return [admin for admin, duty in admin_duties().items() if permissions & duty]


def check_permission_set(permissions: set[tuple[str, str]], *, holder: str) -> None:
    """Refuse a set of permissions that reaches the duties of two administrators.

    Raises:
        ValidationFailed: naming the administrators whose duties would be mixed.
    """
    held = duties_held(permissions)
    if len(held) > 1:
        names = "、".join(ADMIN_LABELS[admin] for admin in held)
        raise ValidationFailed(f"三员分立：{holder}不能同时具有{names}的职责", field="权限")


def holds_admin_role(session: Session, user_id: int) -> bool:
    """True when the account's roles make it an administrator (by code or by powers)."""
    return roles_are_administrative(session, set(authz.user_roles(session, user_id=user_id)))


def set_credentials_recently(session: Session, *, actor: Actor, account: str) -> bool:
    """True when ``actor`` created or reset ``account``'s credentials within the cooling days."""
    since = utcnow() - timedelta(days=CREDENTIAL_COOLING_DAYS)
    found = session.exec(
        select(OperationLog.id).where(
            OperationLog.actor_id == actor.user_id,
            OperationLog.target == account,
            OperationLog.action.in_(CREDENTIAL_ACTIONS),  # type: ignore[attr-defined]
            OperationLog.outcome == "success",
            OperationLog.ts >= since,
        )
    ).first()
    return found is not None


def ensure_may_grant_admin(
    session: Session, *, actor: Actor, user_id: int, account: str, roles: set[str]
) -> None:
    """Nobody makes an administrator of themselves or of an account whose keys they hold.

    Raises:
        Forbidden: logged as a denial by the caller's ``record_denial``.
    """
    if not roles_are_administrative(session, roles):
        return
    if user_id == actor.user_id:
        raise Forbidden("三员分立：不能给自己授予管理员角色")
    if set_credentials_recently(session, actor=actor, account=account):
        days = CREDENTIAL_COOLING_DAYS
        raise Forbidden(f"三员分立：{days} 天内设置或重置过该账号密码的人不能授予其管理员角色")


def ensure_owner_holds_the_keys(session: Session, *, user_id: int, roles: set[str]) -> None:
    """An administrator role goes only to an account whose password its owner chose.

    An initial or reset password may be known to whoever handed it over.

    Raises:
        Forbidden: a forced password change is pending, or the account is token-only.
    """
    if not roles_are_administrative(session, roles):
        return
    user = session.get(User, user_id)
    if user is not None and (user.must_change_password or user.token_only):
        raise Forbidden("三员分立：账号本人须先登录并修改初始密码，才能授予管理员角色")
