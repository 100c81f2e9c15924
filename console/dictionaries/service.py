"""Dictionary items for the pages: search, add, edit, disable — checked, logged, historied."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.errors import NotFound, ValidationFailed
from console.core.paging import Page, PageRequest, contains, paginate
from console.dictionaries.models import PROVINCE_WIDE, DictItem, DictItemHistory, DictType
from console.dictionaries.versioning import bump_version
from console.tenancy.scope import ensure_visible, scope_of

OBJ = "dictionaries.items"
_CODE = re.compile(r"^[0-9A-Za-z_.-]{1,32}$")


@dataclass(frozen=True)
class TypeRow:
    """A dictionary type with its item count."""

    code: str
    name: str
    hierarchical: bool
    builtin: bool
    tenant_extensible: bool
    items: int
    source: str


@dataclass(frozen=True)
class ItemRow:
    """An item as the table shows it."""

    id: int
    code: str
    label: str
    parent_code: str
    level: str
    enabled: bool
    valid_from: str
    valid_to: str
    remark: str
    builtin: bool
    tenant_code: str


@dataclass(frozen=True)
class ItemDraft:
    """Fields of a new or edited item."""

    code: str
    label: str
    parent_code: str = ""
    sort_order: int = 0
    remark: str = ""
    valid_from: date | None = None
    valid_to: date | None = None


def _type(session: Session, type_code: str) -> DictType:
    dict_type = session.exec(select(DictType).where(DictType.code == type_code)).first()
    if dict_type is None:
        raise NotFound(f"字典 {type_code} 不存在")
    return dict_type


def list_types(*, session: Session, actor: Actor) -> list[TypeRow]:
    """Every dictionary with its item count."""
    authz.require(actor, OBJ, "read")
    counts = dict(
        session.execute(
            sa.select(DictItem.type_id, sa.func.count()).group_by(DictItem.type_id)
        ).all()
    )
    return [
        TypeRow(
            t.code,
            t.name,
            t.hierarchical,
            t.builtin,
            t.tenant_extensible,
            int(counts.get(t.id, 0)),
            t.source,
        )
        for t in session.exec(select(DictType).order_by(DictType.id)).all()
    ]


def _visible_tenants(actor: Actor) -> sa.ColumnElement[bool]:
    """Province-wide items plus the local items of the tenants in the actor's scope."""
    scope = scope_of(actor)
    if scope.all_tenants:
        return sa.true()
    return DictItem.tenant_code.in_([PROVINCE_WIDE, *sorted(scope.codes)])  # type: ignore[attr-defined]


def list_items(
    *,
    session: Session,
    actor: Actor,
    type_code: str,
    search: str = "",
    parent_code: str | None = None,
    page: PageRequest | None = None,
) -> Page[ItemRow]:
    """Items of one dictionary: search by code or label, optionally under one parent."""
    authz.require(actor, OBJ, "read")
    page = page or PageRequest()
    dict_type = _type(session, type_code)
    statement = (
        select(DictItem)
        .where(DictItem.type_id == dict_type.id)
        .where(_visible_tenants(actor))
        .order_by(DictItem.sort_order, DictItem.code)
    )
    if search.strip():
        statement = statement.where(
            sa.or_(
                contains(DictItem.code, search.strip()), contains(DictItem.label, search.strip())
            )
        )
    if parent_code is not None:
        statement = statement.where(DictItem.parent_code == parent_code)
    items, total = paginate(session, statement, page)
    return Page([_row(i) for i in items], total, page.page, page.size)


def _row(item: DictItem) -> ItemRow:
    return ItemRow(
        item.id or 0,
        item.code,
        item.label,
        item.parent_code,
        item.level,
        item.enabled,
        str(item.valid_from or ""),
        str(item.valid_to or ""),
        item.remark,
        item.builtin,
        item.tenant_code,
    )


def _snapshot(item: DictItem) -> dict[str, object]:
    return {
        "code": item.code,
        "label": item.label,
        "parent_code": item.parent_code,
        "enabled": item.enabled,
        "remark": item.remark,
        "valid_from": item.valid_from,
        "valid_to": item.valid_to,
    }


def _dump(values: dict[str, object] | None) -> str:
    return json.dumps(values, ensure_ascii=False, default=str) if values else ""


def _history(
    session: Session, actor: Actor, item: DictItem, action: str, before: dict[str, object] | None
) -> None:
    assert item.id is not None
    session.add(
        DictItemHistory(
            item_id=item.id,
            actor_account=actor.account,
            action=action,
            before=_dump(before),
            after=_dump(_snapshot(item)),
        )
    )
    record(
        session,
        actor=actor,
        obj=OBJ,
        action=action,
        target=item.code,
        tenant=item.tenant_code or None,
        detail={"before": before, "after": _snapshot(item)},
    )
    bump_version(session)


def _check(session: Session, dict_type: DictType, draft: ItemDraft, tenant_code: str) -> None:
    if not _CODE.fullmatch(draft.code):
        raise ValidationFailed("应为 1-32 位字母、数字、点、下划线或连字符", field="代码")
    if not 1 <= len(draft.label.strip()) <= 128:
        raise ValidationFailed("应为 1 到 128 个字", field="名称")
    if draft.valid_from and draft.valid_to and draft.valid_to < draft.valid_from:
        raise ValidationFailed("失效日期不能早于生效日期", field="失效日期")
    if draft.parent_code:
        if not dict_type.hierarchical:
            raise ValidationFailed("该字典不分层级，不能指定上级", field="上级代码")
        parent = session.exec(
            select(DictItem).where(
                DictItem.type_id == dict_type.id,
                DictItem.code == draft.parent_code,
                DictItem.tenant_code.in_([PROVINCE_WIDE, tenant_code]),
            )
        ).first()  # type: ignore[attr-defined]
        if parent is None:
            raise ValidationFailed(f"上级代码 {draft.parent_code} 不存在", field="上级代码")


def add_item(
    *, session: Session, actor: Actor, type_code: str, draft: ItemDraft, local: bool = False
) -> ItemRow:
    """Add a province-wide item, or (``local``) an item only the actor's tenant sees."""
    dict_type = _type(session, type_code)
    tenant = (actor.context_tenant or actor.tenant_code) if local else PROVINCE_WIDE
    authz.require(actor, OBJ, "write", tenant=tenant or None, target=draft.code)
    if local:
        if not dict_type.tenant_extensible:
            raise ValidationFailed(f"字典「{dict_type.name}」不允许区县自行增加项目", field="字典")
        ensure_visible(actor, tenant, obj=OBJ, action="write", target=draft.code)
    elif scope_of(actor).all_tenants is False:
        raise ValidationFailed("全省共用的字典项只能由省级管理员维护", field="适用范围")
    _check(session, dict_type, draft, tenant)
    duplicate = session.exec(
        select(DictItem).where(
            DictItem.type_id == dict_type.id,
            DictItem.code == draft.code,
            DictItem.tenant_code.in_([PROVINCE_WIDE, tenant]),
        )
    ).first()  # type: ignore[attr-defined]
    if duplicate is not None:
        raise ValidationFailed(f"代码 {draft.code} 已存在", field="代码")
    item = DictItem(type_id=dict_type.id, tenant_code=tenant, **asdict(draft))
    session.add(item)
    session.flush()
    _history(session, actor, item, "create", None)
    return _row(item)


def _load(session: Session, actor: Actor, item_id: int) -> DictItem:
    item = session.get(DictItem, item_id)
    if item is None:
        raise NotFound("字典项不存在")
    if item.tenant_code:
        ensure_visible(actor, item.tenant_code, obj=OBJ, action="write", target=item.code)
    elif not scope_of(actor).all_tenants:
        raise ValidationFailed("全省共用的字典项只能由省级管理员维护", field="适用范围")
    return item


def update_item(*, session: Session, actor: Actor, item_id: int, draft: ItemDraft) -> ItemRow:
    """Edit an item; a seeded item is marked edited so re-loading the seed keeps the change."""
    item = _load(session, actor, item_id)
    authz.require(actor, OBJ, "write", tenant=item.tenant_code or None, target=item.code)
    dict_type = session.get(DictType, item.type_id)
    assert dict_type is not None
    if draft.code != item.code:
        raise ValidationFailed("代码是字典项的标识，不能修改；请新增并停用旧项", field="代码")
    _check(session, dict_type, draft, item.tenant_code)
    before = _snapshot(item)
    item.label, item.parent_code, item.sort_order = (
        draft.label.strip(),
        draft.parent_code,
        draft.sort_order,
    )
    item.remark, item.valid_from, item.valid_to = draft.remark, draft.valid_from, draft.valid_to
    item.edited, item.updated_at = item.builtin or item.edited, utcnow()
    session.add(item)
    _history(session, actor, item, "update", before)
    return _row(item)


def set_enabled(*, session: Session, actor: Actor, item_id: int, enabled: bool) -> ItemRow:
    """Disable (or re-enable) an item: pickers stop offering it, stored records keep it."""
    item = _load(session, actor, item_id)
    authz.require(actor, OBJ, "write", tenant=item.tenant_code or None, target=item.code)
    before = _snapshot(item)
    item.enabled, item.edited, item.updated_at = enabled, item.builtin or item.edited, utcnow()
    session.add(item)
    _history(session, actor, item, "enable" if enabled else "disable", before)
    return _row(item)


@dataclass(frozen=True)
class HistoryRow:
    """One change of an item."""

    time: str
    actor: str
    action: str
    before: str
    after: str


def item_history(*, session: Session, actor: Actor, item_id: int) -> list[HistoryRow]:
    """Who changed the item, when, before and after (newest first)."""
    authz.require(actor, OBJ, "read")
    item = session.get(DictItem, item_id)
    if item is None:
        raise NotFound("字典项不存在")
    if item.tenant_code:
        ensure_visible(actor, item.tenant_code, obj=OBJ, action="read", target=item.code)
    rows = session.exec(
        select(DictItemHistory)
        .where(DictItemHistory.item_id == item_id)
        .order_by(DictItemHistory.id.desc())
    ).all()  # type: ignore[union-attr]
    return [
        HistoryRow(to_local_text(h.ts), h.actor_account, h.action, h.before, h.after) for h in rows
    ]
