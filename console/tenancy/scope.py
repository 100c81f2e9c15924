"""The data-scope helper: ``restrict`` for SQL, ``restrict_frame`` for the log lake's frames."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from console.audit.service import record_denial
from console.authz.service import ANY_DOMAIN, role_domains
from console.core.actor import Actor
from console.core.errors import NotFound


@dataclass(frozen=True)
class Scope:
    """Tenants an actor may see: every tenant, or an explicit set."""

    all_tenants: bool
    codes: frozenset[str]

    def allows(self, tenant_code: str) -> bool:
        """Whether rows of ``tenant_code`` are visible."""
        return self.all_tenants or tenant_code in self.codes


def base_scope(actor: Actor) -> Scope:
    """Scope from the domains the actor's roles are held in (ignoring the tenant context)."""
    domains = set().union(*role_domains(actor.user_id).values())
    if ANY_DOMAIN in domains:
        return Scope(all_tenants=True, codes=frozenset())
    return Scope(all_tenants=False, codes=frozenset(domains))


def scope_of(actor: Actor) -> Scope:
    """The actor's scope, narrowed to the tenant context a province user picked."""
    base = base_scope(actor)
    if actor.context_tenant and base.allows(actor.context_tenant):
        return Scope(all_tenants=False, codes=frozenset({actor.context_tenant}))
    return base


def restrict(statement: sa.Select, column: sa.ColumnElement, actor: Actor) -> sa.Select:
    """Limit ``statement`` to the actor's tenants (``column`` holds the tenant code)."""
    scope = scope_of(actor)
    if scope.all_tenants:
        return statement
    return statement.where(column.in_(sorted(scope.codes)))


def restrict_frame(frame: pl.LazyFrame, actor: Actor, column: str = "tenant") -> pl.LazyFrame:
    """Limit a log or statistics frame to the actor's tenants (``column`` holds the code)."""
    scope = scope_of(actor)
    if scope.all_tenants:
        return frame
    return frame.filter(pl.col(column).is_in(sorted(scope.codes)))


def ensure_visible(
    actor: Actor,
    tenant_code: str,
    *,
    obj: str,
    action: str,
    target: str,
    ignore_context: bool = False,
) -> None:
    """Refuse a row outside the actor's scope as if it did not exist (and log the attempt).

    Raises:
        NotFound: the row's tenant is outside the actor's scope.
    """
    scope = base_scope(actor) if ignore_context else scope_of(actor)
    if scope.allows(tenant_code):
        return
    record_denial(
        actor=actor,
        obj=obj,
        action=action,
        tenant=tenant_code,
        target=target,
        reason="越权访问其他租户数据",
    )
    raise NotFound("记录不存在或不在您的数据范围内")
