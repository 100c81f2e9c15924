"""Load the committed seed dictionaries: idempotent, and never silently over an admin's edit."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from console.core.clock import utcnow
from console.dictionaries.lookup import DIVISION_TYPE
from console.dictionaries.models import DictItem, DictItemHistory, DictType
from console.dictionaries.versioning import bump_version

SEED_DIR = Path(__file__).resolve().parents[2] / "dictionaries"
SEED_ACTOR = "seed"
# Fields the seed owns; an item whose values differ only elsewhere is left alone.
_SEEDED_FIELDS = (
    "label", "parent_code", "level", "sort_order", "remark", "valid_from", "valid_to", "category",
)  # fmt: skip


@dataclass
class SeedReport:
    """What a load did: counts, and the edited items it left as administrators set them."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_edits: list[str] = field(default_factory=list)


def _read(name: str) -> tuple[str, list[dict[str, str]]]:
    """(source line, rows) of a seed file whose first line names its source."""
    with (SEED_DIR / name).open(encoding="utf-8") as handle:
        source = handle.readline().lstrip("# ").strip()
        return source, list(csv.DictReader(handle))


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _seed_types() -> Iterator[tuple[dict[str, object], list[dict[str, object]]]]:
    """(type fields, item fields) of every seeded dictionary."""
    source, rows = _read("divisions.csv")
    yield (
        {"code": DIVISION_TYPE, "name": "行政区划", "hierarchical": True, "source": source},
        [
            {
                "code": r["code"],
                "label": r["name"],
                "parent_code": r["parent"],
                "level": r["level"],
                "sort_order": 0,
                "remark": r["remark"],
                "valid_from": _day(r["valid_from"]),
                "valid_to": _day(r["valid_to"]),
                "category": "",
            }
            for r in rows
        ],
    )
    source, rows = _read("national_codes.csv")
    by_type: dict[tuple[str, str], list[dict[str, object]]] = {}
    for r in rows:
        by_type.setdefault((r["type_code"], r["type_name"]), []).append(
            {
                "code": r["code"],
                "label": r["label"],
                "parent_code": "",
                "level": "",
                "sort_order": int(r["sort"] or 0),
                "remark": r["remark"],
                "valid_from": None,
                "valid_to": None,
                "category": r.get("category") or "",
            }
        )
    for (code, name), items in by_type.items():
        extensible = code == "business_code"  # provinces and counties add their own businesses
        yield (
            {
                "code": code,
                "name": name,
                "hierarchical": False,
                "source": source,
                "tenant_extensible": extensible,
            },
            items,
        )


def _snapshot(item: DictItem) -> dict[str, object]:
    return {name: getattr(item, name) for name in _SEEDED_FIELDS}


def load_seed(session: Session) -> SeedReport:
    """Insert missing items, refresh untouched ones, report edited ones (never overwritten)."""
    report = SeedReport()
    for type_fields, items in _seed_types():
        dict_type = session.exec(
            select(DictType).where(DictType.code == type_fields["code"])
        ).first()
        if dict_type is None:
            dict_type = DictType(builtin=True, **type_fields)  # type: ignore[arg-type]
            session.add(dict_type)
            session.flush()
        existing = {
            item.code: item
            for item in session.exec(
                select(DictItem).where(DictItem.type_id == dict_type.id, DictItem.tenant_code == "")
            ).all()
        }
        new_rows = []
        for fields in items:
            item = existing.get(str(fields["code"]))
            if item is None:
                new_rows.append({"type_id": dict_type.id, "builtin": True, **fields})
            else:
                _refresh_item(session, dict_type, item, fields, report)
        if new_rows:
            # One multi-row INSERT: a first load of ~7,000 divisions takes a fraction of a second.
            now = utcnow()
            session.execute(
                sa.insert(DictItem),
                [{**row, "created_at": now, "updated_at": now} for row in new_rows],
            )
            report.added += len(new_rows)
    if report.added or report.updated:
        bump_version(session)
    return report


def _refresh_item(
    session: Session,
    dict_type: DictType,
    item: DictItem,
    fields: dict[str, object],
    report: SeedReport,
) -> None:
    wanted = {name: fields[name] for name in _SEEDED_FIELDS}
    if _snapshot(item) == wanted:
        report.unchanged += 1
        return
    if item.edited:
        report.kept_edits.append(f"{dict_type.name} {item.code} {item.label}")
        return
    before = _snapshot(item)
    for name, value in wanted.items():
        setattr(item, name, value)
    session.add(item)
    session.flush()
    session.add(
        DictItemHistory(
            item_id=item.id,
            actor_account=SEED_ACTOR,
            action="seed_update",
            before=json.dumps(before, ensure_ascii=False, default=str),
            after=json.dumps(wanted, ensure_ascii=False, default=str),
        )
    )
    report.updated += 1
