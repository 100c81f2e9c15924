"""Seed loading is idempotent and respects administrators' edits; lookups follow changes."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from console.core.db import session_scope
from console.dictionaries import lookup
from console.dictionaries.models import DictItem, DictItemHistory, DictType
from console.dictionaries.seed import load_seed
from console.dictionaries.versioning import bump_version


@pytest.fixture
def loaded(migrated_db: str) -> str:
    with session_scope() as session:
        report = load_seed(session)
    assert report.added > 6900
    return migrated_db


def _item(session, type_code: str, code: str) -> DictItem:
    dict_type = session.exec(select(DictType).where(DictType.code == type_code)).one()
    return session.exec(
        select(DictItem).where(DictItem.type_id == dict_type.id, DictItem.code == code)
    ).one()


def test_loading_twice_adds_nothing(loaded: str) -> None:
    with session_scope() as session:
        before = session.exec(select(func.count()).select_from(DictItem)).one()
        report = load_seed(session)
        after = session.exec(select(func.count()).select_from(DictItem)).one()
    assert (report.added, report.updated) == (0, 0) and report.unchanged == before == after


def test_reload_refreshes_untouched_items_and_keeps_edited_ones(loaded: str) -> None:
    with session_scope() as session:
        drifted = _item(session, "division", "330106")
        drifted.label = "旧名称"
        edited = _item(session, "division", "330108")
        edited.label, edited.edited = "管理员改名", True
        session.add_all([drifted, edited])
    with session_scope() as session:
        report = load_seed(session)
    assert report.updated == 1
    assert report.kept_edits == ["行政区划 330108 管理员改名"]
    with session_scope() as session:
        assert _item(session, "division", "330106").label == "西湖区"
        assert _item(session, "division", "330108").label == "管理员改名"
        history = session.exec(select(DictItemHistory)).all()
    assert [(h.action, "旧名称" in h.before, "西湖区" in h.after) for h in history] == [
        ("seed_update", True, True)
    ]


def test_lookup_gives_labels_paths_and_current_children(loaded: str) -> None:
    assert lookup.label("division", "330106") == "西湖区"
    assert lookup.path("division", "330106") == "浙江省/杭州市/西湖区"
    assert lookup.path("division", "110101") == "北京市/东城区"
    current = dict(lookup.children("division", "330100"))
    assert current["330106"] == "西湖区" and "330103" not in current  # 下城区 ended in 2021
    assert lookup.is_known("division", "330103")
    assert lookup.label("registration_type", "200") == "转移登记"


def test_lookup_cache_follows_changes(loaded: str) -> None:
    assert lookup.label("registration_type", "900") == "其他登记"
    with session_scope() as session:
        item = _item(session, "registration_type", "900")
        item.label = "其他登记（本省）"
        session.add(item)
        bump_version(session)
    assert lookup.label("registration_type", "900") == "其他登记（本省）"


def test_resident_ids_are_checked_against_the_loaded_divisions(loaded: str) -> None:
    from console.core.errors import ValidationFailed
    from console.core.identifiers import resident_id_check_char
    from console.iam.user_service import check_person

    unknown_area = "11019919900101001"
    unknown_area += resident_id_check_char(unknown_area)
    with pytest.raises(ValidationFailed) as bad:
        check_person("张三", "1", unknown_area, "")
    assert bad.value.field == "身份证号" and "110199 不存在" in bad.value.message
    check_person("张三", "1", "11010519491231002X", "")  # 110105 朝阳区 exists


def test_only_a_county_in_force_today_can_become_a_new_tenant(loaded: str) -> None:
    from console.core.errors import ValidationFailed
    from console.dictionaries.lookup import new_tenant_division_problem
    from console.tenancy.service import TenantDraft, _check

    _check(TenantDraft(code="330106", name="西湖区"), new_tenant_division_problem)
    _check(TenantDraft(code="330113", name="临平区"), new_tenant_division_problem)  # since 2021
    refused = [
        ("330103", "2021 年停用"),  # 下城区, merged into 拱墅区: kept for old ID numbers only
        ("330101", "汇总代码"),  # 杭州市 市辖区
        ("330199", "没有代码"),
    ]
    for code, reason in refused:
        with pytest.raises(ValidationFailed) as bad:
            _check(TenantDraft(code=code, name="某区"), new_tenant_division_problem)
        assert bad.value.field == "租户代码" and reason in bad.value.message, code
