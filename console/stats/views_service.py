"""Saved 统计分析 views: each user's own, and those shared with a role they hold.

A view stores the page's controls, never figures: whoever opens it sees the numbers of their
own data scope, so sharing a view can never widen what a county user sees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.iam.models import Role
from console.stats.models import StatsView
from console.stats.service import OBJ

SETTING_KEYS = ("measure", "dimension", "grain", "cross", "chart_kind", "channel", "start", "end")
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


def _held_roles(actor: Actor) -> set[str]:
    return set(authz.role_domains(actor.user_id))


def list_views(*, session: Session, actor: Actor) -> list[ViewRow]:
    """The actor's views and those shared with a role the actor holds, by name."""
    authz.require(actor, OBJ, "read", target="views")
    roles = sorted(_held_roles(actor))
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
    kept = {k: str(v) for k, v in settings.items() if k in SETTING_KEYS}
    view = session.exec(
        select(StatsView).where(StatsView.owner_id == actor.user_id, StatsView.name == name)
    ).first()
    if view is None:
        owned = select(StatsView.id).where(StatsView.owner_id == actor.user_id)
        count = len(session.exec(owned).all())
        if count >= MAX_VIEWS_PER_USER:
            raise ValidationFailed(f"每人最多保存 {MAX_VIEWS_PER_USER} 个视图", field="视图名称")
        view = StatsView(name=name, owner_id=actor.user_id, owner_account=actor.account)
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
