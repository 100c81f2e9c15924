"""Dictionary import (every row checked, preview, all or nothing), export and deletion."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.core.exporting import to_csv
from console.dictionaries import importing
from console.dictionaries import service as dictionaries
from console.dictionaries.models import DictItem, DictType
from console.dictionaries.seed import SEED_DIR
from tests.support.world import World

HEADERS = ("代码", "名称", "上级代码", "状态", "生效日期", "失效日期", "说明")
NEW_CODES = [f"33019{n}" for n in range(7)]


def _division_rows(limit: int) -> list[list[str]]:
    """Existing 杭州/宁波 division items as import rows, unchanged."""
    with session_scope() as session:
        items = session.exec(
            select(DictItem)
            .join(DictType)
            .where(DictType.code == "division")
            .where(DictItem.code.like("3301%") | DictItem.code.like("3302%"))
            .order_by(DictItem.code)
            .limit(limit)
        ).all()
        return [
            [
                i.code,
                i.label,
                i.parent_code,
                "启用" if i.enabled else "停用",
                str(i.valid_from or ""),
                str(i.valid_to or ""),
                i.remark,
            ]
            for i in items
        ]


def _division_snapshot() -> dict[str, tuple[str, bool]]:
    with session_scope() as session:
        items = session.exec(
            select(DictItem).join(DictType).where(DictType.code == "division")
        ).all()
        return {i.code: (i.label, i.enabled) for i in items}


def _csv(rows: list[list[str]]) -> bytes:
    headers = HEADERS if len(rows[0]) == len(HEADERS) else (*HEADERS, "所属类别")
    return to_csv(headers, rows).encode()


def _fifty_rows_with_three_bad() -> tuple[list[list[str]], dict[int, str]]:
    rows = _division_rows(40)
    assert len(rows) == 40 and rows[3][0] == "330103"
    rows[3][1] = "下城区（更名前）"  # a change
    rows[6][3] = "停用"  # 330106 西湖区 disabled
    rows += [
        [code, f"新区{n}", "330100", "", "2026-12-01", "", ""] for n, code in enumerate(NEW_CODES)
    ]
    rows.append(["33A101", "坏代码区", "330100", "", "", "", ""])  # line 49
    rows.append([rows[1][0], "重复的行", "330100", "", "", "", ""])  # line 50
    rows.append(["330189", "无上级区", "339999", "", "", "", ""])  # line 51
    assert len(rows) == 50
    return rows, {49: "6 位数字", 50: "与第 3 行重复", 51: "上级代码：339999 不存在"}


def test_fifty_rows_with_three_bad_report_exactly_those_and_change_nothing(dicts: World) -> None:
    admin = dicts.actor("sys_admin")
    rows, bad = _fifty_rows_with_three_bad()
    before = _division_snapshot()
    with session_scope() as session:
        plan = importing.preview_import(
            session=session,
            actor=admin,
            type_code="division",
            content=_csv(rows),
            filename="divisions.csv",
        )
    assert [p.line for p in plan.problems] == sorted(bad)
    for problem in plan.problems:
        assert bad[problem.line] in problem.reason, problem
    with pytest.raises(ValidationFailed, match="3 行有错误"), session_scope() as session:
        importing.apply_import(
            session=session,
            actor=admin,
            type_code="division",
            content=_csv(rows),
            filename="divisions.csv",
            expected=plan.fingerprint,
        )
    assert _division_snapshot() == before


def test_after_fixing_the_rows_the_import_applies_and_history_shows_it(dicts: World) -> None:
    admin = dicts.actor("sys_admin")
    rows, _ = _fifty_rows_with_three_bad()
    rows[47][0] = "330188"  # the bad code fixed
    del rows[48]  # the duplicate removed
    rows[48][2] = "330100"  # the unknown parent fixed
    content = _csv(rows)
    with session_scope() as session:
        plan = importing.preview_import(
            session=session, actor=admin, type_code="division", content=content, filename="d.csv"
        )
    assert plan.problems == []
    assert (plan.count("add"), plan.count("change"), plan.count("disable")) == (9, 1, 1)
    assert plan.unchanged == 38
    change = next(c for c in plan.changes if c.kind == "change")
    assert (change.code, change.fields) == ("330103", ("名称",))
    with session_scope() as session:
        importing.apply_import(
            session=session,
            actor=admin,
            type_code="division",
            content=content,
            filename="d.csv",
            expected=plan.fingerprint,
        )
    after = _division_snapshot()
    assert after["330103"] == ("下城区（更名前）", True)
    assert after["330106"][1] is False
    assert set(NEW_CODES) | {"330188", "330189"} <= set(after)
    item_id = _id("division", "330103")
    with session_scope() as session:
        history = dictionaries.item_history(session=session, actor=admin, item_id=item_id)
        logged = session.exec(
            select(OperationLog).where(
                OperationLog.object == "dictionaries.items", OperationLog.action == "import"
            )
        ).one()
    assert history[0].actor == admin.account and history[0].action == "update"
    assert "下城区（更名前）" in history[0].after and "下城区" in history[0].before
    assert json.loads(logged.detail)["added"] == 9


def _id(type_code: str, code: str) -> int:
    with session_scope() as session:
        return session.exec(
            select(DictItem.id)
            .join(DictType)
            .where(DictType.code == type_code, DictItem.code == code)
        ).one()


def test_a_changed_dictionary_since_the_preview_is_refused(dicts: World) -> None:
    admin = dicts.actor("sys_admin")
    content = _csv([["900", "其他登记（导入）", "", "", "", "", ""]])
    with session_scope() as session:
        plan = importing.preview_import(
            session=session,
            actor=admin,
            type_code="registration_type",
            content=content,
            filename="r.csv",
        )
    with session_scope() as session:
        dictionaries.update_item(
            session=session,
            actor=admin,
            item_id=_id("registration_type", "900"),
            draft=dictionaries.ItemDraft(code="900", label="其他登记（导入）"),
        )
    with pytest.raises(ValidationFailed, match="重新预览"), session_scope() as session:
        importing.apply_import(
            session=session,
            actor=admin,
            type_code="registration_type",
            content=content,
            filename="r.csv",
            expected=plan.fingerprint,
        )


def _seeded_codes(type_code: str) -> set[str]:
    with (SEED_DIR / "national_codes.csv").open(encoding="utf-8") as handle:
        handle.readline()
        return {row["code"] for row in csv.DictReader(handle) if row["type_code"] == type_code}


def test_an_xlsx_export_opens_with_the_rows_and_reimports_unchanged(dicts: World) -> None:
    admin = dicts.actor("sys_admin")
    with session_scope() as session:
        name, content = dictionaries.export_items(
            session=session, actor=admin, type_code="business_code", fmt="xlsx"
        )
    sheet = load_workbook(io.BytesIO(content)).active
    table = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert name == "业务代码.xlsx"
    assert table[0] == list(dictionaries.EXPORT_HEADERS)
    seeded = _seeded_codes("business_code")
    assert {row[0] for row in table[1:]} == seeded and len(seeded) >= 4
    with session_scope() as session:
        plan = importing.preview_import(
            session=session, actor=admin, type_code="business_code", content=content, filename=name
        )
    assert (plan.problems, plan.changes, plan.unchanged) == ([], [], len(seeded))


def test_a_county_imports_local_items_only_and_others_never_see_them(dicts: World) -> None:
    county = dicts.actor("county_admin")
    rows = [
        ["2000499", "西湖区特色转移登记", "", "", "", "", "", "200"],
        ["2000402", "改全省的业务", "", "", "", "", "", "200"],
    ]
    with session_scope() as session:
        plan = importing.preview_import(
            session=session,
            actor=county,
            type_code="business_code",
            content=_csv(rows),
            filename="b.csv",
            local=True,
        )
    assert [(p.line, "全省共用项" in p.reason) for p in plan.problems] == [(3, True)]
    del rows[1]
    with session_scope() as session:
        plan = importing.preview_import(
            session=session,
            actor=county,
            type_code="business_code",
            content=_csv(rows),
            filename="b.csv",
            local=True,
        )
        importing.apply_import(
            session=session,
            actor=county,
            type_code="business_code",
            content=_csv(rows),
            filename="b.csv",
            expected=plan.fingerprint,
            local=True,
        )
    binjiang = dicts.actor("binjiang_admin")
    with session_scope() as session:
        _, mine = dictionaries.export_items(
            session=session, actor=county, type_code="business_code"
        )
        _, theirs = dictionaries.export_items(
            session=session, actor=binjiang, type_code="business_code"
        )
    assert "2000499,西湖区特色转移登记" in mine.decode()
    assert "2000499" not in theirs.decode()
    with pytest.raises(ValidationFailed, match="省级管理员"), session_scope() as session:
        importing.preview_import(
            session=session,
            actor=county,
            type_code="business_code",
            content=_csv(rows),
            filename="b.csv",
        )


def test_bad_files_are_refused_with_a_reason(dicts: World) -> None:
    admin = dicts.actor("sys_admin")
    cases = [
        (b"code,label\n", "x.pdf", "仅支持 CSV 或 XLSX"),
        (b"name\nx\n", "x.csv", "缺少列：代码、名称"),
        (b"not a zip", "x.xlsx", "无法读取 XLSX"),
        ("代码,名称\n1,西湖".encode("gbk"), "x.csv", "UTF-8"),
    ]
    for content, name, reason in cases:
        with pytest.raises(ValidationFailed, match=reason), session_scope() as session:
            importing.preview_import(
                session=session,
                actor=admin,
                type_code="registration_type",
                content=content,
                filename=name,
            )


def test_only_unused_items_an_administrator_added_can_be_deleted(dicts: World) -> None:
    admin = dicts.actor("sys_admin")
    with pytest.raises(ValidationFailed, match="内置"), session_scope() as session:
        dictionaries.delete_item(session=session, actor=admin, item_id=_id("division", "330106"))
    with session_scope() as session:
        parent = dictionaries.add_item(
            session=session,
            actor=admin,
            type_code="division",
            draft=dictionaries.ItemDraft(code="330199", label="新区", parent_code="330100"),
        )
        dictionaries.add_item(
            session=session,
            actor=admin,
            type_code="division",
            draft=dictionaries.ItemDraft(code="330198", label="新区下级", parent_code="330199"),
        )
    with pytest.raises(ValidationFailed, match="1 个下级项"), session_scope() as session:
        dictionaries.delete_item(session=session, actor=admin, item_id=parent.id)
    with session_scope() as session:
        dictionaries.delete_item(session=session, actor=admin, item_id=_id("division", "330198"))
        dictionaries.delete_item(session=session, actor=admin, item_id=parent.id)
    with session_scope() as session:
        assert session.get(DictItem, parent.id) is None
        logged = session.exec(
            select(OperationLog).where(
                OperationLog.action == "delete", OperationLog.target == "330199"
            )
        ).one()
    detail = json.loads(logged.detail)
    assert detail["before"]["label"] == "新区"
    assert [h["action"] for h in detail["history"]] == ["create"]


def test_a_county_cannot_delete_another_countys_item(dicts: World) -> None:
    with session_scope() as session:
        row = dictionaries.add_item(
            session=session,
            actor=dicts.actor("binjiang_admin"),
            type_code="business_code",
            local=True,
            draft=dictionaries.ItemDraft(code="2000498", label="滨江本地", category="200"),
        )
    with pytest.raises(NotFound, match="不存在"), session_scope() as session:
        dictionaries.delete_item(session=session, actor=dicts.actor("county_admin"), item_id=row.id)
    with session_scope() as session:
        assert session.get(DictItem, row.id) is not None


def test_exporting_needs_the_export_permission(dicts: World) -> None:
    with pytest.raises(Forbidden), session_scope() as session:
        dictionaries.export_items(
            session=session, actor=dicts.actor("audit_admin"), type_code="division"
        )


def _item_count(type_code: str) -> int:
    with session_scope() as session:
        return len(
            session.exec(select(DictItem).join(DictType).where(DictType.code == type_code)).all()
        )


def _awkward_first_item(type_code: str) -> None:
    """Give one item of the dictionary the values a spreadsheet mangles most easily."""
    with session_scope() as session:
        item = session.exec(
            select(DictItem).join(DictType).where(DictType.code == type_code).limit(1)
        ).first()
        assert item is not None, type_code
        item.sort_order = -3  # put first, before the seeded order
        item.remark = "=1+1 与 -负数 与 @提及"  # cells a spreadsheet would run as formulas
        item.valid_from = date(2021, 1, 1)
        session.add(item)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # files, not the engine
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_dictionary_exported_imports_back_as_the_same_dictionary(
    dicts: World, fmt: str
) -> None:
    admin = dicts.actor("sys_admin")
    with session_scope() as session:
        codes = [t.code for t in session.exec(select(DictType)).all()]
    assert len(codes) >= 8
    for type_code in codes:
        _awkward_first_item(type_code)
        with session_scope() as session:
            name, content = dictionaries.export_items(
                session=session, actor=admin, type_code=type_code, fmt=fmt
            )
        with session_scope() as session:
            plan = importing.preview_import(
                session=session, actor=admin, type_code=type_code, content=content, filename=name
            )
        assert plan.problems == [], (type_code, plan.problems[:3])
        assert plan.changes == [], (type_code, plan.changes[:3])
        assert plan.unchanged == _item_count(type_code) > 0, type_code
