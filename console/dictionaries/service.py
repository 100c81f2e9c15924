"""Dictionary items for the pages: search, add, edit, disable — checked, logged, historied."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.errors import NotFound, ValidationFailed
from console.core.exporting import EXPORT_ROW_LIMIT, FORMATS, ExportFormat, render
from console.core.paging import Page, PageRequest, contains, paginate
from console.dictionaries.lookup import DIVISION_TYPE
from console.dictionaries.models import PROVINCE_WIDE, DictItem, DictItemHistory, DictType
from console.dictionaries.versioning import bump_version
from console.tenancy.models import Tenant
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
    children: int = 0
    category: str = ""


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
    category: str = ""  # 所属类别: required where CATEGORY_OF names a dictionary


# A dictionary whose items each belong to a class in another one: type → (that type, its name).
# A business code's 登记类型 is its 所属类别 — never read from the code's first three digits.
CATEGORY_OF: dict[str, tuple[str, str]] = {"business_code": ("registration_type", "登记类型")}


def get_type(session: Session, type_code: str) -> DictType:
    """The dictionary with this code, or NotFound."""
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


def visible_tenants(actor: Actor) -> sa.ColumnElement[bool]:
    """Province-wide items plus the local items of the tenants in the actor's scope."""
    scope = scope_of(actor)
    if scope.all_tenants:
        return sa.true()
    return DictItem.tenant_code.in_([PROVINCE_WIDE, *sorted(scope.codes)])  # type: ignore[attr-defined]


def _items_statement(
    session: Session, actor: Actor, type_code: str, search: str, parent_code: str | None
) -> tuple[DictType, sa.Select]:
    dict_type = get_type(session, type_code)
    statement = (
        select(DictItem)
        .where(DictItem.type_id == dict_type.id)
        .where(visible_tenants(actor))
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
    return dict_type, statement


def _child_counts(
    session: Session, actor: Actor, dict_type: DictType, codes: list[str]
) -> dict[str, int]:
    if not dict_type.hierarchical or not codes:
        return {}
    rows = session.execute(
        sa.select(DictItem.parent_code, sa.func.count())
        .where(DictItem.type_id == dict_type.id, DictItem.parent_code.in_(codes))  # type: ignore[attr-defined]
        .where(visible_tenants(actor))
        .group_by(DictItem.parent_code)
    ).all()
    return {code: int(count) for code, count in rows}


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
    dict_type, statement = _items_statement(session, actor, type_code, search, parent_code)
    items, total = paginate(session, statement, page)
    children = _child_counts(session, actor, dict_type, [i.code for i in items])
    return Page([_row(i, children.get(i.code, 0)) for i in items], total, page.page, page.size)


EXPORT_HEADERS = (
    "代码", "名称", "上级代码", "所属类别", "所属类别名称", "级别", "排序", "状态", "生效日期",
    "失效日期", "说明", "适用范围",
)  # fmt: skip


def export_items(
    *,
    session: Session,
    actor: Actor,
    type_code: str,
    search: str = "",
    fmt: ExportFormat = "csv",
) -> tuple[str, bytes]:
    """(file name, content) of the dictionary's items as the search shows them; logged.

    The columns are the import columns, so an export is also the template for an import.
    """
    authz.require(actor, OBJ, "export", target=type_code)
    if fmt not in FORMATS:
        raise ValidationFailed("应为 csv 或 xlsx", field="格式")
    dict_type, statement = _items_statement(session, actor, type_code, search, None)
    items = session.exec(statement.limit(EXPORT_ROW_LIMIT)).all()
    category_labels = _category_labels(session, dict_type)
    rows = [
        (
            i.code,
            i.label,
            i.parent_code,
            i.category,
            category_labels.get(i.category, ""),
            i.level,
            i.sort_order,
            "启用" if i.enabled else "停用",
            i.valid_from or "",
            i.valid_to or "",
            i.remark,
            i.tenant_code or "全省",
        )
        for i in items
    ]
    content = render(EXPORT_HEADERS, rows, fmt=fmt, sheet=dict_type.name)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="export",
        target=type_code,
        detail={"rows": len(rows), "format": fmt, "search": search},
    )
    return f"{dict_type.name}.{fmt}", content


def _category_labels(session: Session, dict_type: DictType) -> dict[str, str]:
    """Code → label of the dictionary ``dict_type``'s 所属类别 come from (empty: none)."""
    category_of = CATEGORY_OF.get(dict_type.code)
    if category_of is None:
        return {}
    statement = (
        select(DictItem.code, DictItem.label)
        .join(DictType)
        .where(DictType.code == category_of[0], DictItem.tenant_code == PROVINCE_WIDE)
    )
    return dict(session.exec(statement).all())


def _row(item: DictItem, children: int = 0) -> ItemRow:
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
        children,
        item.category,
    )


def snapshot(item: DictItem) -> dict[str, object]:
    """The fields history and the operation log record before and after a change."""
    return {
        "code": item.code,
        "label": item.label,
        "parent_code": item.parent_code,
        "enabled": item.enabled,
        "sort_order": item.sort_order,
        "remark": item.remark,
        "valid_from": item.valid_from,
        "valid_to": item.valid_to,
        "category": item.category,
    }


def _dump(values: dict[str, object] | None) -> str:
    return json.dumps(values, ensure_ascii=False, default=str) if values else ""


def record_change(
    session: Session,
    actor: Actor,
    item: DictItem,
    action: str,
    before: dict[str, object] | None,
    *,
    bump: bool = True,
) -> None:
    """Item history, operation log and (unless a batch bumps once) the lookup cache version."""
    assert item.id is not None
    session.add(
        DictItemHistory(
            item_id=item.id,
            actor_account=actor.account,
            action=action,
            before=_dump(before),
            after=_dump(snapshot(item)),
        )
    )
    record(
        session,
        actor=actor,
        obj=OBJ,
        action=action,
        target=item.code,
        tenant=item.tenant_code or None,
        detail={"before": before, "after": snapshot(item)},
    )
    if bump:
        bump_version(session)


# Codes with a national structure; other dictionaries take any short code.
_CODE_RULES = {
    "division": (re.compile(r"^\d{6}$"), "行政区划代码应为 6 位数字"),
    "registration_type": (re.compile(r"^\d{3}$"), "登记类型代码应为 3 位数字"),
    "business_code": (re.compile(r"^\d{7}$"), "业务代码应为 7 位数字"),
}


def code_problem(type_code: str, code: str) -> str:
    """Why ``code`` cannot be a code of this dictionary, or "" (also checked as the user types)."""
    if not _CODE.fullmatch(code):
        return "应为 1-32 位字母、数字、点、下划线或连字符"
    pattern, reason = _CODE_RULES.get(type_code, (None, ""))
    return reason if pattern is not None and not pattern.fullmatch(code) else ""


def label_problem(label: str) -> str:
    """Why ``label`` cannot be an item's name, or ""."""
    return "" if 1 <= len(label.strip()) <= 128 else "应为 1 到 128 个字"


def check_fields(dict_type: DictType, draft: ItemDraft) -> None:
    """The checks that need no database: code shape, label length, dates, hierarchy."""
    if problem := code_problem(dict_type.code, draft.code):
        raise ValidationFailed(problem, field="代码")
    if problem := label_problem(draft.label):
        raise ValidationFailed(problem, field="名称")
    if len(draft.remark) > 500:
        raise ValidationFailed("最多 500 个字", field="说明")
    if draft.valid_from and draft.valid_to and draft.valid_to < draft.valid_from:
        raise ValidationFailed("失效日期不能早于生效日期", field="失效日期")
    if draft.parent_code and not dict_type.hierarchical:
        raise ValidationFailed("该字典不分层级，不能指定上级", field="上级代码")
    if draft.parent_code == draft.code:
        raise ValidationFailed("不能以自己为上级", field="上级代码")
    category_of = CATEGORY_OF.get(dict_type.code)
    if category_of is None and draft.category:
        raise ValidationFailed("该字典没有所属类别", field="所属类别")
    if category_of is not None and not draft.category:
        raise ValidationFailed(f"请填写所属{category_of[1]}", field="所属类别")


def category_problem(dict_type: DictType, category: str, known: Collection[str]) -> str | None:
    """Why ``category`` is not a code of the dictionary the type's categories come from."""
    category_of = CATEGORY_OF.get(dict_type.code)
    if category_of is None or not category or category in known:
        return None
    return f"所属类别：{category} 不是{category_of[1]}字典中的代码"


def category_codes(session: Session, dict_type: DictType) -> set[str]:
    """The codes an item of ``dict_type`` may name as its 所属类别 (empty: none)."""
    return set(_category_labels(session, dict_type))


def _check(session: Session, dict_type: DictType, draft: ItemDraft, tenant_code: str) -> None:
    check_fields(dict_type, draft)
    known = category_codes(session, dict_type)
    if problem := category_problem(dict_type, draft.category, known):
        raise ValidationFailed(problem.split("：", 1)[1], field="所属类别")
    if draft.parent_code:
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
    dict_type = get_type(session, type_code)
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
    record_change(session, actor, item, "create", None)
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
    before = snapshot(item)
    item.label, item.parent_code, item.sort_order = (
        draft.label.strip(),
        draft.parent_code,
        draft.sort_order,
    )
    item.remark, item.valid_from, item.valid_to = draft.remark, draft.valid_from, draft.valid_to
    item.category = draft.category
    item.edited, item.updated_at = item.builtin or item.edited, utcnow()
    session.add(item)
    record_change(session, actor, item, "update", before)
    return _row(item)


def set_enabled(*, session: Session, actor: Actor, item_id: int, enabled: bool) -> ItemRow:
    """Disable (or re-enable) an item: pickers stop offering it, stored records keep it."""
    item = _load(session, actor, item_id)
    authz.require(actor, OBJ, "write", tenant=item.tenant_code or None, target=item.code)
    before = snapshot(item)
    item.enabled, item.edited, item.updated_at = enabled, item.builtin or item.edited, utcnow()
    session.add(item)
    record_change(session, actor, item, "enable" if enabled else "disable", before)
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


def _uses(session: Session, dict_type: DictType, item: DictItem) -> list[str]:
    """What still refers to the item, in words; empty when nothing does."""
    uses: list[str] = []
    children = session.exec(
        select(sa.func.count())
        .select_from(DictItem)
        .where(DictItem.type_id == dict_type.id, DictItem.parent_code == item.code)
    ).one()
    if children:
        uses.append(f"有 {children} 个下级项")
    if dict_type.code == DIVISION_TYPE:
        tenant = session.get(Tenant, item.code)
        if tenant is not None:
            uses.append(f"是租户「{tenant.name}」的代码")
    return uses


def delete_item(*, session: Session, actor: Actor, item_id: int) -> str:
    """Delete an unused item an administrator added; built-in or used items can only be disabled.

    The operation log keeps the item's last values and its whole change history.
    """
    item = _load(session, actor, item_id)
    authz.require(actor, OBJ, "delete", tenant=item.tenant_code or None, target=item.code)
    if item.builtin:
        raise ValidationFailed("内置字典项不能删除，可以停用", field="代码")
    dict_type = session.get(DictType, item.type_id)
    assert dict_type is not None
    uses = _uses(session, dict_type, item)
    if uses:
        raise ValidationFailed(f"{item.code} 正在使用（{'；'.join(uses)}），只能停用", field="代码")
    history = session.exec(select(DictItemHistory).where(DictItemHistory.item_id == item_id)).all()
    kept = [
        {"ts": to_local_text(h.ts), "actor": h.actor_account, "action": h.action, "after": h.after}
        for h in history
    ]
    for entry in history:
        session.delete(entry)
    session.flush()  # history rows go before the item their foreign key points at
    session.delete(item)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="delete",
        target=item.code,
        tenant=item.tenant_code or None,
        detail={"type": dict_type.code, "before": snapshot(item), "history": kept},
    )
    bump_version(session)
    return item.code
