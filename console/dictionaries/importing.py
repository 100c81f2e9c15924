"""Import a dictionary from CSV or XLSX: check every row, preview the changes, apply all or none."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import UserError, ValidationFailed
from console.core.tabular import TableRow, read_table
from console.dictionaries.models import PROVINCE_WIDE, DictItem, DictType
from console.dictionaries.service import (
    OBJ,
    ItemDraft,
    category_codes,
    category_problem,
    check_fields,
    get_type,
    record_change,
    snapshot,
)
from console.dictionaries.versioning import bump_version
from console.tenancy.scope import ensure_visible, scope_of

# Header text → field; the export writes the Chinese headers, so an export is a template.
COLUMNS = {
    "代码": "code",
    "名称": "label",
    "上级代码": "parent_code",
    "排序": "sort_order",
    "状态": "status",
    "生效日期": "valid_from",
    "失效日期": "valid_to",
    "说明": "remark",
    "所属类别": "category",
    **{key: key for key in ("code", "label", "parent_code", "sort_order", "status")},
    **{key: key for key in ("valid_from", "valid_to", "remark", "category")},
}
_ENABLED = {"启用": True, "是": True, "1": True, "true": True, "停用": False, "否": False}
_ENABLED |= {"0": False, "false": False}
PREVIEW_LIST_LIMIT = 200


@dataclass(frozen=True)
class RowProblem:
    """A row that cannot be imported, and why."""

    line: int
    code: str
    reason: str


@dataclass(frozen=True)
class PlannedChange:
    """One item the import adds, changes or disables; ``fields`` names what changes."""

    line: int
    code: str
    label: str
    kind: str  # "add" | "change" | "disable"
    fields: tuple[str, ...] = ()


@dataclass
class ImportPlan:
    """What an import would do; it applies only when ``problems`` is empty."""

    type_code: str
    tenant_code: str
    problems: list[RowProblem] = field(default_factory=list)
    changes: list[PlannedChange] = field(default_factory=list)
    unchanged: int = 0

    def count(self, kind: str) -> int:
        """How many items the import would add, change or disable."""
        return sum(1 for change in self.changes if change.kind == kind)

    @property
    def fingerprint(self) -> str:
        """Digest of the planned changes, so a confirmation applies exactly what was previewed."""
        text = "\n".join(f"{c.kind}|{c.code}|{','.join(c.fields)}" for c in self.changes)
        return hashlib.sha256(f"{self.tenant_code}\n{text}".encode()).hexdigest()


_FIELD_NAMES = {
    "label": "名称",
    "parent_code": "上级代码",
    "sort_order": "排序",
    "enabled": "状态",
    "remark": "说明",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
    "category": "所属类别",
}


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("应为 YYYY-MM-DD 格式的日期", field=name) from None


def _parse(row: TableRow) -> tuple[ItemDraft, bool | None]:
    """The row as a draft and its status (None = keep / enabled when new)."""
    try:
        sort_order = int(row.get("sort_order") or 0)
    except ValueError:
        raise ValidationFailed("应为整数", field="排序") from None
    status_text = row.get("status").lower()
    if status_text and status_text not in _ENABLED:
        raise ValidationFailed("应为「启用」或「停用」", field="状态")
    draft = ItemDraft(
        code=row.get("code"),
        label=row.get("label"),
        parent_code=row.get("parent_code"),
        sort_order=sort_order,
        remark=row.get("remark"),
        valid_from=_day(row.get("valid_from"), "生效日期"),
        valid_to=_day(row.get("valid_to"), "失效日期"),
        category=row.get("category"),
    )
    return draft, _ENABLED.get(status_text) if status_text else None


def _target_tenant(actor: Actor, dict_type: DictType, local: bool) -> str:
    """The tenant whose local items the import writes, or "" for province-wide items."""
    if not local:
        if not scope_of(actor).all_tenants:
            raise ValidationFailed("全省共用的字典项只能由省级管理员维护", field="适用范围")
        return PROVINCE_WIDE
    if not dict_type.tenant_extensible:
        raise ValidationFailed(f"字典「{dict_type.name}」不允许区县自行增加项目", field="字典")
    tenant = actor.context_tenant or actor.tenant_code or ""
    if not tenant:
        raise ValidationFailed("请先在页头选择要导入到的租户", field="租户")
    ensure_visible(actor, tenant, obj=OBJ, action="write", target=dict_type.code)
    return tenant


def _diff(item: DictItem, draft: ItemDraft, enabled: bool | None) -> tuple[str, ...]:
    wanted = {
        "label": draft.label,
        "parent_code": draft.parent_code,
        "sort_order": draft.sort_order,
        "remark": draft.remark,
        "valid_from": draft.valid_from,
        "valid_to": draft.valid_to,
        "category": draft.category,
    }
    if enabled is not None:
        wanted["enabled"] = enabled
    return tuple(name for name, value in wanted.items() if getattr(item, name) != value)


def _plan(
    session: Session, dict_type: DictType, tenant: str, rows: list[TableRow]
) -> tuple[ImportPlan, dict[str, tuple[ItemDraft, bool | None]]]:
    plan = ImportPlan(dict_type.code, tenant)
    existing: dict[str, DictItem] = {}
    for item in session.exec(
        select(DictItem).where(
            DictItem.type_id == dict_type.id,
            DictItem.tenant_code.in_([PROVINCE_WIDE, tenant]),  # type: ignore[attr-defined]
        )
    ).all():
        # A tenant's own item wins over a province item of the same code.
        if item.code not in existing or item.tenant_code == tenant:
            existing[item.code] = item
    first_line: dict[str, int] = {}
    parsed: dict[str, tuple[TableRow, ItemDraft, bool | None]] = {}
    categories = category_codes(session, dict_type)
    for row in rows:
        code = row.get("code")
        try:
            draft, enabled = _parse(row)
            check_fields(dict_type, draft)
        except UserError as error:
            plan.problems.append(RowProblem(row.line, code, str(error)))
            continue
        if problem := category_problem(dict_type, draft.category, categories):
            plan.problems.append(RowProblem(row.line, code, problem))
            continue
        if code in first_line:
            reason = f"代码：{code} 与第 {first_line[code]} 行重复"
            plan.problems.append(RowProblem(row.line, code, reason))
            continue
        first_line[code] = row.line
        item = existing.get(code)
        if item is not None and item.tenant_code != tenant:
            reason = f"代码：{code} 是全省共用项，区县导入不能修改"
            plan.problems.append(RowProblem(row.line, code, reason))
            continue
        parsed[code] = (row, draft, enabled)
    drafts: dict[str, tuple[ItemDraft, bool | None]] = {}
    known = set(existing) | set(parsed)
    for code, (row, draft, enabled) in parsed.items():
        if draft.parent_code and draft.parent_code not in known:
            reason = f"上级代码：{draft.parent_code} 不存在（字典中和文件中都没有）"
            plan.problems.append(RowProblem(row.line, code, reason))
            continue
        drafts[code] = (draft, enabled)
        item = existing.get(code)
        if item is None:
            plan.changes.append(PlannedChange(row.line, code, draft.label, "add"))
            continue
        changed = _diff(item, draft, enabled)
        if not changed:
            plan.unchanged += 1
            continue
        kind = "disable" if "enabled" in changed and enabled is False else "change"
        names = tuple(_FIELD_NAMES[name] for name in changed)
        plan.changes.append(PlannedChange(row.line, code, draft.label, kind, names))
    plan.problems.sort(key=lambda problem: problem.line)
    return plan, drafts


def _start(session: Session, actor: Actor, type_code: str, local: bool) -> tuple[DictType, str]:
    dict_type = get_type(session, type_code)
    tenant = _target_tenant(actor, dict_type, local)
    authz.require(actor, OBJ, "write", tenant=tenant or None, target=type_code)
    return dict_type, tenant


def preview_import(
    *,
    session: Session,
    actor: Actor,
    type_code: str,
    content: bytes,
    filename: str,
    local: bool = False,
) -> ImportPlan:
    """Check every row of the file and say what importing it would add, change and disable."""
    dict_type, tenant = _start(session, actor, type_code, local)
    rows = read_table(content, filename, columns=COLUMNS, required=("code", "label"))
    return _plan(session, dict_type, tenant, rows)[0]


def apply_import(
    *,
    session: Session,
    actor: Actor,
    type_code: str,
    content: bytes,
    filename: str,
    expected: str,
    local: bool = False,
) -> ImportPlan:
    """Apply the previewed import in one transaction: every change, or none.

    Raises:
        ValidationFailed: a row is bad, or the dictionary changed since the preview
            (``expected`` is the preview's fingerprint).
    """
    dict_type, tenant = _start(session, actor, type_code, local)
    rows = read_table(content, filename, columns=COLUMNS, required=("code", "label"))
    plan, drafts = _plan(session, dict_type, tenant, rows)
    if plan.problems:
        raise ValidationFailed(f"有 {len(plan.problems)} 行有错误，未导入任何内容", field="文件")
    if plan.fingerprint != expected:
        raise ValidationFailed("预览之后字典已被修改，请重新预览", field="文件")
    items = {
        item.code: item
        for item in session.exec(
            select(DictItem).where(DictItem.type_id == dict_type.id, DictItem.tenant_code == tenant)
        ).all()
    }
    for change in plan.changes:
        draft, enabled = drafts[change.code]
        item = items.get(change.code)
        _apply_one(session, actor, dict_type, tenant, item, draft, enabled, change.kind)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="import",
        target=type_code,
        tenant=tenant or None,
        detail={
            "file": filename,
            "added": plan.count("add"),
            "changed": plan.count("change"),
            "disabled": plan.count("disable"),
            "unchanged": plan.unchanged,
        },
    )
    bump_version(session)
    return plan


def _apply_one(
    session: Session,
    actor: Actor,
    dict_type: DictType,
    tenant: str,
    item: DictItem | None,
    draft: ItemDraft,
    enabled: bool | None,
    kind: str,
) -> None:
    before = None if item is None else snapshot(item)
    if item is None:
        item = DictItem(type_id=dict_type.id, tenant_code=tenant, code=draft.code)
    item.label, item.parent_code, item.sort_order = draft.label, draft.parent_code, draft.sort_order
    item.remark, item.valid_from, item.valid_to = draft.remark, draft.valid_from, draft.valid_to
    item.category = draft.category
    if enabled is not None:
        item.enabled = enabled
    item.edited, item.updated_at = item.builtin or item.edited, utcnow()
    session.add(item)
    session.flush()
    action = {"add": "create", "disable": "disable"}.get(kind, "update")
    record_change(session, actor, item, action, before, bump=False)
