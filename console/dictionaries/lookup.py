"""Lookups other domains use: label, children, path — cached per process, refreshed on change."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from console.core.db import engine_for
from console.core.settings import get_settings
from console.dictionaries.models import PROVINCE_WIDE, DictItem, DictType
from console.dictionaries.versioning import current_version


@dataclass(frozen=True)
class Entry:
    """What the cache keeps of one province-wide item."""

    label: str
    parent: str
    enabled: bool
    valid_to: date | None
    category: str = ""


@dataclass
class _Snapshot:
    url: str
    version: int
    types: dict[str, dict[str, Entry]]
    children: dict[tuple[str, str], list[str]]


DIVISION_TYPE = "division"
_lock = threading.Lock()
_snapshot: _Snapshot | None = None


def _load(url: str, version: int) -> _Snapshot:
    types: dict[str, dict[str, Entry]] = {}
    children: dict[tuple[str, str], list[str]] = {}
    with Session(engine_for(url)) as session:
        names = {t.id: t.code for t in session.exec(select(DictType)).all()}
        statement = (
            select(DictItem)
            .where(DictItem.tenant_code == PROVINCE_WIDE)
            .order_by(DictItem.sort_order, DictItem.code)
        )
        for item in session.exec(statement).all():
            type_code = names[item.type_id]
            types.setdefault(type_code, {})[item.code] = Entry(
                item.label, item.parent_code, item.enabled, item.valid_to, item.category
            )
            children.setdefault((type_code, item.parent_code), []).append(item.code)
    return _Snapshot(url, version, types, children)


def _current() -> _Snapshot:
    global _snapshot
    url = get_settings().db_url
    version = current_version(url)
    with _lock:
        if _snapshot is None or _snapshot.url != url or _snapshot.version != version:
            _snapshot = _load(url, version)
        return _snapshot


def label(type_code: str, code: str) -> str:
    """The label of ``code``, or the code itself when unknown."""
    entry = _current().types.get(type_code, {}).get(code)
    return entry.label if entry else code


def labels(type_code: str) -> dict[str, str]:
    """Every code of a dictionary with its label (one snapshot for a whole table of labels)."""
    return {code: entry.label for code, entry in _current().types.get(type_code, {}).items()}


def categories(type_code: str) -> dict[str, str]:
    """Every code of a dictionary that has a 所属类别, with it (a business code's 登记类型)."""
    entries = _current().types.get(type_code, {})
    return {code: entry.category for code, entry in entries.items() if entry.category}


def is_known(type_code: str, code: str) -> bool:
    """Whether ``code`` exists (at any time) in the dictionary."""
    return code in _current().types.get(type_code, {})


def has_type(type_code: str) -> bool:
    """Whether a dictionary of that code exists (with at least one item)."""
    return type_code in _current().types


def children(type_code: str, parent_code: str = "") -> list[tuple[str, str]]:
    """(code, label) of the enabled, still-valid children of ``parent_code``."""
    snapshot, today = _current(), date.today()
    entries = snapshot.types.get(type_code, {})
    return [
        (code, entries[code].label)
        for code in snapshot.children.get((type_code, parent_code), [])
        if _in_force(entries[code], today)
    ]


def _in_force(entry: Entry, today: date) -> bool:
    return entry.enabled and (entry.valid_to is None or entry.valid_to >= today)


PLACEHOLDER_LABELS = frozenset({"市辖区", "县", "省直辖县级行政区划", "省直辖县级行政单位"})


def new_tenant_division_problem(code: str) -> str | None:
    """Why ``code`` cannot be a new tenant's division (a county in force today), or None.

    Historical codes stay in the dictionary for old ID numbers, but are not offered anew.
    Before the division dictionary is loaded nothing is checked here.
    """
    entries = _current().types.get(DIVISION_TYPE)
    if not entries:
        return None
    entry = entries.get(code)
    if entry is None:
        return f"行政区划字典中没有代码 {code}"
    if entry.label in PLACEHOLDER_LABELS:
        return f"{code} 是「{entry.label}」汇总代码，不是一个区县"
    if not _in_force(entry, date.today()):
        ended = f"已于 {entry.valid_to.year} 年停用" if entry.valid_to else "已停用"
        return f"{code} {entry.label}{ended}，只保留用于核验旧证件，不能新建租户"
    return None


def path(type_code: str, code: str) -> str:
    """``浙江省/杭州市/西湖区``: labels top down, placeholder levels (市辖区, 县) skipped."""
    entries = _current().types.get(type_code, {})
    labels: list[str] = []
    seen: set[str] = set()
    while code and code in entries and code not in seen:
        seen.add(code)
        if entries[code].label not in PLACEHOLDER_LABELS:
            labels.append(entries[code].label)
        code = entries[code].parent
    return "/".join(reversed(labels))


def division_checker() -> Callable[[str], bool] | None:
    """``is_known`` for division codes, or None before the division dictionary is loaded."""
    if not _current().types.get(DIVISION_TYPE):
        return None
    return lambda code: is_known(DIVISION_TYPE, code)
