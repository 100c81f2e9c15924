"""Saved 统计分析 views: each user's own, and those shared with a role they hold.

A view stores the page's controls, never figures: whoever opens it sees the numbers of their
own data scope. A county's shared view is offered only to holders of the role whose scope
includes that county; a province view to holders of the role anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, or_, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.core.settings import get_settings
from console.iam.models import Role
from console.stats.models import StatsView
from console.stats.service import (
    CHANNEL_FILTER,
    CHART_CHOICES,
    CROSS_CHOICES,
    DIMENSION_CHOICES,
    GRAINS,
    MEASURES,
    OBJ,
)
from console.tenancy.scope import scope_of

# What each control may be set to; start and end are ISO days or empty (this month so far).
SETTING_CHOICES: dict[str, frozenset[str]] = {
    "measure": frozenset(MEASURES),
    "dimension": frozenset(v for v, _ in DIMENSION_CHOICES),
    "grain": frozenset(v for v, _ in GRAINS),
    "cross": frozenset(v for v, _ in CROSS_CHOICES),
    "chart_kind": frozenset(v for v, _ in CHART_CHOICES),
    "channel": frozenset(v for v, _ in CHANNEL_FILTER),
}
SETTING_KEYS = (*SETTING_CHOICES, "start", "end")
MAX_VIEWS_PER_USER = 50


@dataclass(frozen=True)
class ViewRow:
    """A view as the picker lists it."""

    id: int
    name: str
    owner: str
    shared_role: str
    mine: bool
    settings: dict[str, str]


def checked_settings(settings: dict[str, str]) -> dict[str, str]:
    """The known controls with allowed values.

    Raises:
        ValidationFailed: a control set to a value the page does not offer.
    """
    kept = {k: str(v) for k, v in settings.items() if k in SETTING_KEYS}
    for key, value in kept.items():
        allowed = SETTING_CHOICES.get(key)
        if allowed is not None and value not in allowed:
            raise ValidationFailed(f"{key} 不能为 {value}", field="视图设置")
        if allowed is None and value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValidationFailed(f"{key} 应为日期（YYYY-MM-DD）", field="视图设置") from None
    return kept


def share_roles(*, session: Session) -> list[tuple[str, str]]:
    """(code, name) of the roles a view may be shared with."""
    return [(r.code, r.name) for r in session.exec(select(Role).order_by(Role.id)).all()]


def _offered(actor: Actor, view: StatsView) -> bool:
    if view.owner_id == actor.user_id:
        return True
    province = get_settings().province_code
    return view.tenant_code == province or scope_of(actor).allows(view.tenant_code)


def list_views(*, session: Session, actor: Actor) -> list[ViewRow]:
    """The actor's views and those shared with a role the actor holds, by name."""
    authz.require(actor, OBJ, "read", target="views")
    roles = sorted(authz.role_domains(actor.user_id))
    rows = session.exec(
        select(StatsView)
        .where(or_(StatsView.owner_id == actor.user_id, col(StatsView.shared_role).in_(roles)))
        .order_by(StatsView.name)
    ).all()
    return [
        ViewRow(
            id=v.id or 0,
            name=v.name,
            owner=v.owner_account,
            shared_role=v.shared_role,
            mine=v.owner_id == actor.user_id,
            settings=json.loads(v.settings),
        )
        for v in rows
        if _offered(actor, v)
    ]


def save_view(
    *, session: Session, actor: Actor, name: str, settings: dict[str, str], shared_role: str
) -> ViewRow:
    """Save (or overwrite one's own view of the same name) the page's controls."""
    authz.require(actor, OBJ, "read", target="views")
    name = name.strip()
    if not 1 <= len(name) <= 40:
        raise ValidationFailed("请输入 1 到 40 个字的名称", field="视图名称")
    if shared_role and session.exec(select(Role).where(Role.code == shared_role)).first() is None:
        raise ValidationFailed(f"角色 {shared_role} 不存在", field="共享给角色")
    kept = checked_settings(settings)
    view = session.exec(
        select(StatsView).where(StatsView.owner_id == actor.user_id, StatsView.name == name)
    ).first()
    if view is None:
        owned = select(StatsView.id).where(StatsView.owner_id == actor.user_id)
        if len(session.exec(owned).all()) >= MAX_VIEWS_PER_USER:
            raise ValidationFailed(f"每人最多保存 {MAX_VIEWS_PER_USER} 个视图", field="视图名称")
        view = StatsView(
            name=name,
            owner_id=actor.user_id,
            owner_account=actor.account,
            tenant_code=actor.tenant_code,
        )
    view.settings, view.shared_role, view.updated_at = json.dumps(kept), shared_role, utcnow()
    session.add(view)
    session.flush()
    detail = {"shared_role": shared_role, "settings": kept}
    record(session, actor=actor, obj=OBJ, action="save_view", target=name, detail=detail)
    return ViewRow(view.id or 0, name, actor.account, shared_role, True, kept)


def delete_view(*, session: Session, actor: Actor, view_id: int) -> str:
    """Delete one's own view; returns its name."""
    authz.require(actor, OBJ, "read", target="views")
    view = session.get(StatsView, view_id)
    if view is None:
        raise NotFound("视图不存在")
    if view.owner_id != actor.user_id:
        raise Forbidden("只能删除自己保存的视图")
    session.delete(view)
    record(session, actor=actor, obj=OBJ, action="delete_view", target=view.name, detail={})
    return view.name
