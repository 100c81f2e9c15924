"""Dictionary items: permissions, tenant-local items, history, and seed reloads keeping edits."""

from __future__ import annotations

import pytest
from sqlmodel import select

from console.core.db import session_scope
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.dictionaries import lookup
from console.dictionaries import service as dictionaries
from console.dictionaries.models import DictItem, DictType
from console.dictionaries.seed import load_seed
from tests.support.world import World


def _item_id(type_code: str, code: str) -> int:
    with session_scope() as session:
        dict_type = session.exec(select(DictType).where(DictType.code == type_code)).one()
        item = session.exec(
            select(DictItem).where(DictItem.type_id == dict_type.id, DictItem.code == code)
        ).one()
        return item.id


def test_search_finds_xihu_by_typing_part_of_its_name(dicts: World) -> None:
    with session_scope() as session:
        page = dictionaries.list_items(
            session=session, actor=dicts.actor("window_clerk"), type_code="division", search="西湖"
        )
    assert "330106" in [row.code for row in page.items]


def test_a_province_edit_is_historied_logged_and_kept_by_the_next_seed_load(dicts: World) -> None:
    admin = dicts.actor("sys_admin")
    item_id = _item_id("registration_type", "900")
    with session_scope() as session:
        dictionaries.update_item(
            session=session,
            actor=admin,
            item_id=item_id,
            draft=dictionaries.ItemDraft(code="900", label="其他登记（本省）"),
        )
    with session_scope() as session:
        report = load_seed(session)
        history = dictionaries.item_history(session=session, actor=admin, item_id=item_id)
    assert report.kept_edits == ["登记类型 900 其他登记（本省）"]
    assert history[0].action == "update" and "其他登记（本省）" in history[0].after
    assert lookup.label("registration_type", "900") == "其他登记（本省）"


def test_a_county_adds_a_local_business_code_only_it_sees(dicts: World) -> None:
    county = dicts.actor("county_admin")
    draft = dictionaries.ItemDraft(code="2000499", label="西湖区特色转移登记", category="200")
    with session_scope() as session:
        dictionaries.add_item(
            session=session, actor=county, type_code="business_code", draft=draft, local=True
        )
    with session_scope() as session:
        mine = dictionaries.list_items(session=session, actor=county, type_code="business_code")
        theirs = dictionaries.list_items(
            session=session, actor=dicts.actor("binjiang_admin"), type_code="business_code"
        )
    assert "2000499" in [r.code for r in mine.items]
    assert "2000499" not in [r.code for r in theirs.items]
    with pytest.raises(ValidationFailed), session_scope() as session:
        dictionaries.add_item(
            session=session,
            actor=county,
            type_code="registration_type",
            draft=dictionaries.ItemDraft(code="950", label="本地"),
            local=True,
        )


def test_counties_cannot_touch_province_items_or_other_counties_items(dicts: World) -> None:
    county = dicts.actor("county_admin")
    with pytest.raises(ValidationFailed), session_scope() as session:
        dictionaries.set_enabled(
            session=session,
            actor=county,
            item_id=_item_id("registration_type", "900"),
            enabled=False,
        )
    with session_scope() as session:
        row = dictionaries.add_item(
            session=session,
            actor=dicts.actor("binjiang_admin"),
            type_code="business_code",
            local=True,
            draft=dictionaries.ItemDraft(code="2000498", label="滨江本地", category="200"),
        )
    with pytest.raises(NotFound), session_scope() as session:
        dictionaries.set_enabled(session=session, actor=county, item_id=row.id, enabled=False)


def test_disabled_items_leave_the_pickers_but_keep_their_label(dicts: World) -> None:
    admin = dicts.actor("sys_admin")
    with session_scope() as session:
        dictionaries.set_enabled(
            session=session, actor=admin, item_id=_item_id("division", "330108"), enabled=False
        )
    assert "330108" not in dict(lookup.children("division", "330100"))
    assert lookup.label("division", "330108") == "滨江区"


def test_reading_dictionaries_needs_the_permission(dicts: World) -> None:
    with pytest.raises(Forbidden), session_scope() as session:
        dictionaries.list_types(session=session, actor=dicts.actor("audit_admin"))


def test_a_business_code_names_its_registration_type_from_the_type_dictionary(
    dicts: World,
) -> None:
    admin = dicts.actor("sys_admin")
    for category, reason in [("", "请填写所属登记类型"), ("210", "不是登记类型字典中的代码")]:
        draft = dictionaries.ItemDraft(code="2000497", label="本省转移登记", category=category)
        with pytest.raises(ValidationFailed) as bad, session_scope() as session:
            dictionaries.add_item(
                session=session, actor=admin, type_code="business_code", draft=draft
            )
        assert bad.value.field == "所属类别" and reason in bad.value.message
    with pytest.raises(ValidationFailed, match="没有所属类别"), session_scope() as session:
        dictionaries.add_item(
            session=session,
            actor=admin,
            type_code="registration_type",
            draft=dictionaries.ItemDraft(code="950", label="本地", category="100"),
        )
    # The seeded national codes carry theirs; mortgages are 900 because the table says so.
    assert lookup.categories("business_code")["9000101"] == "900"
    assert lookup.categories("business_code")["1003701"] == "100"
    assert all(len(code) == 3 for code in lookup.categories("business_code").values())
