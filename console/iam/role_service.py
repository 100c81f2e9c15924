"""Roles: built-in seed, list, create, copy, edit permissions, delete — three-admin aware."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from sqlmodel import Session, select

from console.audit.service import record, separation_refusals_logged
from console.authz import service as authz
from console.authz.catalogue import all_permissions, describe
from console.authz.enforcer import POLICY_DIR
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import NotFound, ValidationFailed
from console.iam.models import Role
from console.iam.separation import check_permission_set, granted_by
from console.tenancy.models import Tenant

OBJ = "iam.roles"
THREE_ADMINS = frozenset({"sys_admin", "sec_admin", "audit_admin"})
# Built-in roles whose holders sign in with a second factor (a setting per role afterwards).
SECOND_FACTOR_BY_DEFAULT = THREE_ADMINS | {"province_supervisor"}
CATEGORIES = ("系统", "业务", "共享", "机构")
ROLES_FILE = POLICY_DIR / "roles.csv"


@dataclass(frozen=True)
class RoleRow:
    """A role as the list shows it."""

    code: str
    name: str
    category: str
    scope: str
    description: str
    builtin: bool
    holders: int
    permissions: int
    tenant_code: str = ""
    second_factor: bool = False


def seed_builtin_roles(session: Session) -> int:
    """Create missing built-in roles with their seed permissions; return how many were added.

    Existing roles are left as administrators edited them.
    """
    grants = authz.read_seed_policy()
    added = 0
    with ROLES_FILE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if session.exec(select(Role).where(Role.code == row["code"])).first():
                continue
            session.add(
                Role(
                    code=row["code"],
                    name=row["name"],
                    category=row["category"],
                    scope=row["scope"],
                    description=row["description"],
                    builtin=True,
                    require_second_factor=row["code"] in SECOND_FACTOR_BY_DEFAULT,
                )
            )
            authz.set_role_permissions(
                session, role_code=row["code"], permissions=grants.get(row["code"], set())
            )
            added += 1
    session.flush()
    return added


def _load(session: Session, code: str) -> Role:
    role = session.exec(select(Role).where(Role.code == code)).first()
    if role is None:
        raise NotFound(f"角色 {code} 不存在")
    return role


def list_roles(*, session: Session, actor: Actor) -> list[RoleRow]:
    """Every role with its holder and permission counts."""
    authz.require(actor, OBJ, "read")
    roles = session.exec(select(Role).order_by(Role.builtin.desc(), Role.code)).all()  # type: ignore[attr-defined]
    holders, permissions = authz.role_counts(session)
    return [
        RoleRow(
            code=r.code,
            name=r.name,
            category=r.category,
            scope=r.scope,
            description=r.description,
            builtin=r.builtin,
            holders=holders[r.code],
            permissions=permissions[r.code],
            tenant_code=r.tenant_code or "",
            second_factor=r.require_second_factor or r.code in THREE_ADMINS,
        )
        for r in roles
    ]


def permissions_of(*, session: Session, actor: Actor, code: str) -> set[tuple[str, str]]:
    """(object, action) pairs a role grants."""
    authz.require(actor, OBJ, "read", target=code)
    _load(session, code)
    return authz.role_permissions(session, role_code=code)


def _check_permissions(permissions: set[tuple[str, str]]) -> None:
    unknown = permissions - set(all_permissions())
    if unknown:
        raise ValidationFailed(f"权限目录中没有 {sorted(unknown)[0]}", field="权限")


def check_three_admin_permissions(
    permissions: set[tuple[str, str]], *, holder: str = "同一角色"
) -> None:
    """The three admins' jobs stay apart: no role, and no user's set of roles, may mix them.

    The whole permission set is compared with each administrator's duties
    (``separation.admin_duties``), not a few marker permissions.
    """
    check_permission_set(permissions, holder=holder)


def create_role(
    *,
    session: Session,
    actor: Actor,
    code: str,
    name: str,
    category: str,
    description: str = "",
    permissions: set[tuple[str, str]] | None = None,
    tenant_code: str | None = None,
) -> Role:
    """A new custom role, province-wide or holding in one tenant only (``tenant_code``)."""
    authz.require(actor, OBJ, "write", target=code)
    if tenant_code is not None and session.get(Tenant, tenant_code) is None:
        raise ValidationFailed(f"租户 {tenant_code} 不存在", field="适用范围")
    if not re.fullmatch(r"[a-z][a-z0-9_]{2,31}", code):
        raise ValidationFailed("应为 3-32 位小写字母、数字或下划线，以字母开头", field="角色代码")
    if session.exec(select(Role).where(Role.code == code)).first():
        raise ValidationFailed(f"角色代码 {code} 已存在", field="角色代码")
    if not 2 <= len(name.strip()) <= 32:
        raise ValidationFailed("应为 2 到 32 个字", field="角色名称")
    if category not in CATEGORIES:
        raise ValidationFailed(f"应为{'/'.join(CATEGORIES)}之一", field="角色类别")
    permissions = set(permissions or set())
    _check_permissions(permissions)
    with separation_refusals_logged(
        actor=actor, obj=OBJ, action="write", tenant=tenant_code or "", target=code
    ):
        check_three_admin_permissions(permissions)
    role = Role(
        code=code,
        name=name.strip(),
        category=category,
        description=description.strip(),
        scope="tenant" if tenant_code else "province",
        tenant_code=tenant_code,
    )
    session.add(role)
    # A tenant-scoped role's permissions hold only when acting in that tenant.
    authz.set_role_permissions(
        session, role_code=code, permissions=permissions, domain=tenant_code or authz.ANY_DOMAIN
    )
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="create",
        target=code,
        detail={"after": {"name": role.name, "permissions": sorted(map(list, permissions))}},
    )
    session.flush()
    return role


def copy_role(*, session: Session, actor: Actor, source: str, code: str, name: str) -> Role:
    """A custom role starting from another role's permissions."""
    original = _load(session, source)
    permissions = authz.role_permissions(session, role_code=source)
    return create_role(
        session=session,
        actor=actor,
        tenant_code=original.tenant_code,
        code=code,
        name=name,
        category=original.category,
        description=f"复制自{original.name}",
        permissions=permissions,
    )


def _check_holders(session: Session, code: str, permissions: set[tuple[str, str]]) -> None:
    """No holder of the role may end up, with their other roles, holding two admins' duties."""
    for user_id in authz.role_holders(session, role_code=code):
        others = set(authz.user_roles(session, user_id=user_id)) - {code}
        granted = set(permissions) | granted_by(session, others)
        check_three_admin_permissions(granted, holder=f"持有该角色的用户（编号 {user_id}）")


def set_permissions(
    *, session: Session, actor: Actor, code: str, permissions: set[tuple[str, str]]
) -> None:
    """Replace a role's permissions; holders see the change at their next action."""
    authz.require(actor, OBJ, "write", target=code)
    role = _load(session, code)
    _check_permissions(permissions)
    with separation_refusals_logged(
        actor=actor, obj=OBJ, action="write", tenant=role.tenant_code or "", target=code
    ):
        check_three_admin_permissions(permissions)
        _check_holders(session, code, permissions)
    before = authz.role_permissions(session, role_code=code)
    authz.set_role_permissions(
        session,
        role_code=code,
        permissions=permissions,
        domain=role.tenant_code or authz.ANY_DOMAIN,
    )
    role.updated_at = utcnow()
    session.add(role)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="set_permissions",
        target=code,
        detail={
            "added": sorted(describe(o, a) for o, a in permissions - before),
            "removed": sorted(describe(o, a) for o, a in before - permissions),
        },
    )


def set_second_factor(*, session: Session, actor: Actor, code: str, required: bool) -> None:
    """Whether the role's holders sign in with a second factor; from their next sign-in.

    Raises:
        ValidationFailed: turning it off for one of the three administrators.
    """
    authz.require(actor, OBJ, "write", target=code)
    role = _load(session, code)
    if code in THREE_ADMINS and not required:
        raise ValidationFailed("三员必须使用动态验证码登录", field="两步验证")
    before = role.require_second_factor
    role.require_second_factor, role.updated_at = required, utcnow()
    session.add(role)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="second_factor",
        target=code,
        detail={"before": before, "after": required},
    )


def delete_role(*, session: Session, actor: Actor, code: str) -> None:
    """Delete a custom role that nobody holds."""
    authz.require(actor, OBJ, "delete", target=code)
    role = _load(session, code)
    if role.builtin:
        raise ValidationFailed("内置角色不能删除", field="角色")
    holders = authz.role_holders(session, role_code=code)
    if holders:
        raise ValidationFailed(f"仍有 {len(holders)} 个用户持有该角色，请先收回", field="角色")
    authz.set_role_permissions(session, role_code=code, permissions=set())
    session.delete(role)
    record(session, actor=actor, obj=OBJ, action="delete", target=code)
