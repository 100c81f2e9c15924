"""The guard every service calls, and policy changes made inside the caller's transaction."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record_denial
from console.authz import enforcer
from console.authz.catalogue import describe
from console.authz.models import CasbinRule, PolicyVersion
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import Forbidden

ANY_DOMAIN = enforcer.ANY_DOMAIN
SEED_POLICY = enforcer.POLICY_DIR / "seed_policy.csv"


def user_subject(user_id: int) -> str:
    """Casbin subject of a user."""
    return f"user:{user_id}"


def role_subject(code: str) -> str:
    """Casbin subject of a role."""
    return f"role:{code}"


def _domain(actor: Actor, tenant: str | None) -> str:
    return tenant or actor.context_tenant or actor.tenant_code


def can(actor: Actor, obj: str, act: str, *, tenant: str | None = None) -> bool:
    """Whether the actor may ``act`` on ``obj`` in ``tenant`` (no logging; for showing UI)."""
    return enforcer.enforce(user_subject(actor.user_id), _domain(actor, tenant), obj, act)


def readable(actor: Actor, objects: list[str]) -> set[str]:
    """Which of ``objects`` the actor may read (decides what the sidebar shows)."""
    verdicts = enforcer.enforce_many(
        user_subject(actor.user_id), _domain(actor, None), [(obj, "read") for obj in objects]
    )
    return {obj for obj, allowed in zip(objects, verdicts, strict=True) if allowed}


def require(
    actor: Actor, obj: str, act: str, *, tenant: str | None = None, target: str = ""
) -> None:
    """Raise ``Forbidden`` (and log the denial) unless the actor holds the permission.

    Raises:
        Forbidden: with the Chinese name of the missing permission.
    """
    domain = _domain(actor, tenant)
    if enforcer.enforce(user_subject(actor.user_id), domain, obj, act):
        return
    message = f"无权限：{describe(obj, act)}"
    record_denial(actor=actor, obj=obj, action=act, tenant=domain, target=target, reason=message)
    raise Forbidden(message)


def role_domains(user_id: int) -> dict[str, set[str]]:
    """Role code → domains it is held in, for one user."""
    held: dict[str, set[str]] = {}
    for role, domain in enforcer.grouping_for(user_subject(user_id)):
        held.setdefault(role.removeprefix("role:"), set()).add(domain)
    return held


def user_roles(session: Session, *, user_id: int) -> dict[str, set[str]]:
    """Role code → domains for one user, read in the caller's transaction (sees its changes)."""
    rows = session.exec(
        select(CasbinRule).where(CasbinRule.ptype == "g", CasbinRule.v0 == user_subject(user_id))
    ).all()
    held: dict[str, set[str]] = {}
    for row in rows:
        held.setdefault((row.v1 or "").removeprefix("role:"), set()).add(row.v2 or "")
    return held


def roles_by_user(session: Session, *, user_ids: list[int]) -> dict[int, set[str]]:
    """Role codes of several users in one query (lists show a page of users at a time)."""
    rows = session.exec(
        select(CasbinRule.v0, CasbinRule.v1).where(
            CasbinRule.ptype == "g",
            CasbinRule.v0.in_([user_subject(i) for i in user_ids]),  # type: ignore[union-attr]
        )
    ).all()
    held: dict[int, set[str]] = {i: set() for i in user_ids}
    for subject, role in rows:
        held[int(subject.removeprefix("user:"))].add((role or "").removeprefix("role:"))
    return held


def role_counts(session: Session) -> tuple[Counter[str], Counter[str]]:
    """(holders per role code, permissions per role code) for every role in one query."""
    rows = session.exec(select(CasbinRule.ptype, CasbinRule.v0, CasbinRule.v1)).all()
    holders: Counter[str] = Counter()
    permissions: Counter[str] = Counter()
    for ptype, v0, v1 in rows:
        if ptype == "g":
            holders[(v1 or "").removeprefix("role:")] += 1
        elif ptype == "p":
            permissions[(v0 or "").removeprefix("role:")] += 1
    return holders, permissions


def _bump(session: Session) -> None:
    """Tell every process to reload the policy (same transaction as the change)."""
    current = session.get(PolicyVersion, 1)
    if current is None:
        session.add(PolicyVersion(id=1, version=1))
    else:
        current.version += 1
        current.updated_at = utcnow()
        session.add(current)


def set_user_roles(session: Session, *, user_id: int, roles: Iterable[tuple[str, str]]) -> None:
    """Replace a user's role assignments with (role code, domain) pairs."""
    subject = user_subject(user_id)
    session.exec(sa.delete(CasbinRule).where(CasbinRule.ptype == "g", CasbinRule.v0 == subject))
    for code, domain in sorted(set(roles)):
        session.add(CasbinRule(ptype="g", v0=subject, v1=role_subject(code), v2=domain))
    _bump(session)


def set_role_permissions(
    session: Session, *, role_code: str, permissions: Iterable[tuple[str, str]], domain: str = "*"
) -> None:
    """Replace a role's permissions with (object, action) pairs held in ``domain``."""
    subject = role_subject(role_code)
    session.exec(sa.delete(CasbinRule).where(CasbinRule.ptype == "p", CasbinRule.v0 == subject))
    for obj, act in sorted(set(permissions)):
        session.add(CasbinRule(ptype="p", v0=subject, v1=domain, v2=obj, v3=act))
    _bump(session)


def role_permissions(session: Session, *, role_code: str) -> set[tuple[str, str]]:
    """(object, action) pairs granted to a role, read in the caller's transaction."""
    rows = session.exec(
        select(CasbinRule).where(CasbinRule.ptype == "p", CasbinRule.v0 == role_subject(role_code))
    ).all()
    return {(row.v2 or "", row.v3 or "") for row in rows}


def role_holders(session: Session, *, role_code: str) -> list[int]:
    """Ids of the users holding a role."""
    rows = session.exec(
        select(CasbinRule.v0).where(
            CasbinRule.ptype == "g", CasbinRule.v1 == role_subject(role_code)
        )
    ).all()
    return sorted({int(subject.removeprefix("user:")) for subject in rows})


def read_seed_policy() -> dict[str, set[tuple[str, str]]]:
    """Built-in roles' permissions from ``policies/seed_policy.csv``."""
    grants: dict[str, set[tuple[str, str]]] = {}
    with SEED_POLICY.open(encoding="utf-8") as handle:
        for row in csv.reader(line for line in handle if line.strip() and not line.startswith("#")):
            ptype, subject, _, obj, act = (cell.strip() for cell in row)
            if ptype == "p":
                grants.setdefault(subject.removeprefix("role:"), set()).add((obj, act))
    return grants
