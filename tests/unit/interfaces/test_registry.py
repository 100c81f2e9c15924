"""Interface registry: national seed, search, validation, revisions, scope and permissions."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.authz import service as authz
from console.core.db import session_scope
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.core.paging import PageRequest
from console.interfaces import registry_service as registry
from console.interfaces.models import InterfaceDef, InterfaceRevision, SharingTask
from console.interfaces.registry_service import InterfaceDraft
from tests.support.world import BINJIANG, XIHU, World

DOMAIN_INTERFACES = {
    ("公安部", "身份核查"),
    ("公安部", "人口库基准信息"),
    ("公安部", "人口库身份核查"),
    ("民政部", "婚姻登记查询"),
    ("民政部", "婚姻核验（个人）"),
    ("民政部", "婚姻核验（双方）"),
    ("民政部", "收养登记"),
    ("民政部", "火化信息"),
    ("民政部", "地名信息"),
    ("市场监管总局", "企业基本信息查询"),
    ("市场监管总局", "企业基本信息验证"),
    ("中编办", "事业单位登记信息"),
    ("中编办", "党群机关登记信息"),
    ("银保监会", "金融许可证"),
    ("最高法", "司法判决查询申请"),
    ("最高法", "司法判决结果反馈"),
    ("司法部", "公证文书"),
    ("卫健委", "出生医学证明"),
    ("卫健委", "死亡医学证明"),
    ("税务", "完税信息"),
}


@pytest.fixture
def registry_world(world: World) -> World:
    """The standard world, the national interfaces loaded, county admins allowed to register.

    The seed policy gives county admins no registry rights yet; scope is what is tested here.
    """
    with session_scope() as session:
        registry.load_national_interfaces(session)
        granted = authz.role_permissions(session, role_code="county_admin")
        authz.set_role_permissions(
            session,
            role_code="county_admin",
            permissions=granted | {(registry.OBJ, "read"), (registry.OBJ, "write")},
        )
    return world


def _id_of(code: str) -> int:
    with session_scope() as session:
        interface = session.exec(select(InterfaceDef).where(InterfaceDef.code == code)).one()
        assert interface.id is not None
        return interface.id


def _inbound(code: str, tenant: str, **changes: object) -> InterfaceDraft:
    draft = InterfaceDraft(
        code=code,
        name=f"{code} 登记系统推送",
        direction="inbound",
        tenant_code=tenant,
        endpoint_url="https://10.0.0.8/push",
    )
    return replace(draft, **changes)


def _create(world: World, key: str, draft: InterfaceDraft) -> registry.InterfaceRow:
    with session_scope() as session:
        return registry.create_interface(session=session, actor=world.actor(key), draft=draft)


def _log(action: str, target: str, outcome: str = "success") -> list[OperationLog]:
    with session_scope() as session:
        return list(
            session.exec(
                select(OperationLog).where(
                    OperationLog.object == registry.OBJ,
                    OperationLog.action == action,
                    OperationLog.target == target,
                    OperationLog.outcome == outcome,
                )
            ).all()
        )


def test_the_seed_file_covers_domain_section_4_and_passes_the_registry_rules() -> None:
    drafts = registry.national_drafts()
    assert {(d.department, d.name) for d in drafts} >= DOMAIN_INTERFACES
    assert len({d.code for d in drafts}) == len(drafts)
    for draft in drafts:
        registry.check_draft(draft)
        assert draft.endpoint_url == "" and draft.direction == "outbound"
    by_name = {d.name: d for d in drafts}
    assert by_name["身份核查"].request_fields == "xm,gmsfhm"
    assert by_name["身份核查"].response_fields == "CheckCode"
    assert by_name["身份核查"].sharing_class == "身份核验类"
    assert "UNCONFIRMED" in by_name["完税信息"].description
    with (registry.SEED_DIR / registry.NATIONAL_SEED).open(encoding="utf-8") as handle:
        source = handle.readline()
        rows = list(csv.DictReader(handle))
    assert source.startswith("# ") and "domain.md §4" in source and "2026-11-27" in source
    assert len(rows) == len(drafts)


def test_loading_the_seed_twice_adds_each_national_interface_once(world: World) -> None:
    expected = len(registry.national_drafts())
    with session_scope() as session:
        first = registry.load_national_interfaces(session)
    with session_scope() as session:
        second = registry.load_national_interfaces(session)
        interfaces = session.exec(select(InterfaceDef)).all()
        revisions = session.exec(select(InterfaceRevision)).all()
    assert (first, second) == (expected, 0)
    assert len(interfaces) == expected
    assert all(i.builtin and i.tenant_code == "" and i.direction == "outbound" for i in interfaces)
    assert len(revisions) == expected
    assert {(r.revision, r.actor_account, r.action) for r in revisions} == {(1, "seed", "create")}


def test_an_administrators_edit_of_a_national_interface_survives_a_reload(
    registry_world: World,
) -> None:
    admin = registry_world.actor("sys_admin")
    interface_id = _id_of("gab.sfhc")
    with session_scope() as session:
        draft = registry.get_interface(session=session, actor=admin, interface_id=interface_id)
        registry.update_interface(
            session=session,
            actor=admin,
            interface_id=interface_id,
            draft=replace(draft.to_draft(), endpoint_url="https://gateway.zj.gov.cn/gab/sfhc"),
        )
    with session_scope() as session:
        assert registry.load_national_interfaces(session) == 0
        detail = registry.get_interface(session=session, actor=admin, interface_id=interface_id)
    assert detail.endpoint_url == "https://gateway.zj.gov.cn/gab/sfhc"
    assert detail.revision == 2


def test_search_is_literal_and_covers_code_name_and_department(registry_world: World) -> None:
    reader = registry_world.actor("sharing_user")

    def codes(**query: object) -> list[str]:
        with session_scope() as session:
            page = registry.list_interfaces(session=session, actor=reader, **query)
        return [row.code for row in page.items]

    assert codes(search="婚姻") == ["mzb.hydj.cx", "mzb.hyhy.gr", "mzb.hyhy.sf"]
    assert codes(search="gab.rkk") == ["gab.rkk.jzxx", "gab.rkk.sfhc"]
    assert set(codes(search="卫健委")) == {"wjw.cszm", "wjw.swzm"}
    assert codes(search="%") == [] and codes(search="_") == []
    assert set(codes(department="最高法")) == {"zgf.sfpj.sq", "zgf.sfpj.fk"}
    assert codes(direction="inbound") == []
    assert codes(health="down") == []
    with session_scope() as session:
        options = registry.departments(session=session, actor=reader)
    assert {"公安部", "民政部", "税务"} <= set(options)
    with pytest.raises(ValidationFailed) as bad_filter:
        codes(direction="sideways")
    assert bad_filter.value.field == "方向"


def test_paging_returns_each_interface_once(registry_world: World) -> None:
    reader = registry_world.actor("sys_admin")
    seen: list[str] = []
    with session_scope() as session:
        for number in (1, 2, 3):
            page = registry.list_interfaces(
                session=session, actor=reader, page=PageRequest(page=number, size=10)
            )
            seen += [row.code for row in page.items]
    expected = len(registry.national_drafts())
    assert page.total == expected and page.pages == 3
    assert len(seen) == expected == len(set(seen))


def test_create_and_update_write_a_revision_and_the_operation_log(registry_world: World) -> None:
    admin = registry_world.actor("sys_admin")
    row = _create(registry_world, "sys_admin", _inbound("xihu.djxt", XIHU))
    assert row.revision == 1 and row.health == "unknown"
    with session_scope() as session:
        registry.update_interface(
            session=session,
            actor=admin,
            interface_id=row.id,
            draft=_inbound("xihu.djxt", XIHU, timeout_ms=8000),
        )
        registry.set_enabled(session=session, actor=admin, interface_id=row.id, enabled=False)
    with session_scope() as session:
        revisions = registry.list_revisions(session=session, actor=admin, interface_id=row.id)
        detail = registry.get_interface(session=session, actor=admin, interface_id=row.id)
    assert [(r.revision, r.action) for r in revisions] == [
        (3, "disable"),
        (2, "update"),
        (1, "create"),
    ]
    assert json.loads(revisions[1].before)["timeout_ms"] == 5000
    assert json.loads(revisions[1].after)["timeout_ms"] == 8000
    assert revisions[1].actor == "u_sys_admin" and revisions[2].before == ""
    assert detail.revision == 3 and detail.enabled is False and detail.tenant_name == "西湖区"
    created, updated = _log("create", "xihu.djxt"), _log("update", "xihu.djxt")
    assert len(created) == 1 and len(updated) == 1 and len(_log("disable", "xihu.djxt")) == 1
    assert created[0].actor_account == "u_sys_admin" and created[0].tenant_code == XIHU
    assert json.loads(updated[0].detail)["after"]["timeout_ms"] == 8000


def test_an_edit_that_changes_nothing_is_not_a_new_revision(registry_world: World) -> None:
    admin = registry_world.actor("sys_admin")
    row = _create(registry_world, "sys_admin", _inbound("xihu.djxt", XIHU))
    with session_scope() as session:
        again = registry.update_interface(
            session=session, actor=admin, interface_id=row.id, draft=_inbound("xihu.djxt", XIHU)
        )
    assert again.revision == 1 and _log("update", "xihu.djxt") == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "Bad Code"}, "接口编码"),
        ({"code": "gab.sfhc"}, "接口编码"),
        ({"name": " "}, "接口名称"),
        ({"name": "名" * 129}, "接口名称"),
        ({"direction": "sideways"}, "方向"),
        ({"tenant_code": ""}, "所属区县"),
        ({"tenant_code": "339999"}, "所属区县"),
        ({"direction": "outbound"}, "共享分类"),
        ({"direction": "outbound", "sharing_class": "其他类"}, "共享分类"),
        ({"method": "DELETE"}, "请求方法"),
        ({"protocol": "gRPC"}, "协议"),
        ({"auth_kind": "password"}, "认证方式"),
        ({"endpoint_url": "ftp://10.0.0.8/push"}, "接口地址"),
        ({"endpoint_url": "https://"}, "接口地址"),
        ({"endpoint_url": "http://host:port/x"}, "接口地址"),
        ({"timeout_ms": 99}, "超时时间"),
        ({"timeout_ms": 120_001}, "超时时间"),
        ({"rate_limit_per_minute": 0}, "每分钟限流"),
        ({"rate_limit_per_minute": 100_001}, "每分钟限流"),
        ({"owner_org_id": 999_999}, "责任单位"),
    ],
)
def test_invalid_registrations_are_refused_naming_the_field(
    registry_world: World, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _create(registry_world, "sys_admin", replace(_inbound("xihu.djxt", XIHU), **changes))
    assert refused.value.field == field
    assert refused.value.message  # a Chinese sentence the form shows next to the field
    assert _log("create", str(changes.get("code", "xihu.djxt"))) == []


def test_limits_at_their_bounds_are_accepted(registry_world: World) -> None:
    row = _create(
        registry_world,
        "sys_admin",
        _inbound(
            "xihu.bounds", XIHU, timeout_ms=100, rate_limit_per_minute=100_000, endpoint_url=""
        ),
    )
    assert row.endpoint_url == ""


def test_the_code_cannot_change_on_edit(registry_world: World) -> None:
    row = _create(registry_world, "sys_admin", _inbound("xihu.djxt", XIHU))
    with pytest.raises(ValidationFailed) as refused, session_scope() as session:
        registry.update_interface(
            session=session,
            actor=registry_world.actor("sys_admin"),
            interface_id=row.id,
            draft=_inbound("xihu.djxt2", XIHU),
        )
    assert refused.value.field == "接口编码"


def test_a_county_admin_maintains_its_own_systems_but_not_province_wide_ones(
    registry_world: World,
) -> None:
    county = registry_world.actor("county_admin")
    own = _create(registry_world, "county_admin", _inbound("xihu.djxt", XIHU))
    with session_scope() as session:
        registry.set_enabled(session=session, actor=county, interface_id=own.id, enabled=False)
    national = _id_of("gab.sfhc")
    with pytest.raises(ValidationFailed) as edit, session_scope() as session:
        detail = registry.get_interface(session=session, actor=county, interface_id=national)
        registry.update_interface(
            session=session,
            actor=county,
            interface_id=national,
            draft=replace(detail.to_draft(), timeout_ms=9000),
        )
    assert edit.value.message == "全省共用的接口只能由省级管理员维护"
    with pytest.raises(ValidationFailed) as create:
        _create(
            registry_world,
            "county_admin",
            InterfaceDraft(code="xihu.share", name="本区共享", sharing_class="信息查核类"),
        )
    assert create.value.message == "全省共用的接口只能由省级管理员维护"
    with pytest.raises(ValidationFailed), session_scope() as session:
        registry.update_interface(
            session=session,
            actor=county,
            interface_id=own.id,
            draft=_inbound("xihu.djxt", "", direction="outbound", sharing_class="信息查核类"),
        )
    with pytest.raises(Forbidden):  # the county admin role holds only in 西湖区
        _create(registry_world, "county_admin", _inbound("binjiang.djxt", BINJIANG))


def test_no_county_sees_another_countys_inbound_registration(registry_world: World) -> None:
    binjiang = _create(registry_world, "binjiang_admin", _inbound("binjiang.djxt", BINJIANG))
    for key in ("county_admin", "sharing_user"):
        actor = registry_world.actor(key)
        with session_scope() as session:
            everything = registry.list_interfaces(
                session=session, actor=actor, page=PageRequest(size=200)
            )
            inbound = registry.list_interfaces(session=session, actor=actor, search="binjiang")
        assert "binjiang.djxt" not in [row.code for row in everything.items]
        assert "gab.sfhc" in [row.code for row in everything.items]
        assert inbound.total == 0
        for read in (registry.get_interface, registry.list_revisions):
            with pytest.raises(NotFound), session_scope() as session:
                read(session=session, actor=actor, interface_id=binjiang.id)
    with pytest.raises(NotFound), session_scope() as session:
        registry.update_interface(
            session=session,
            actor=registry_world.actor("county_admin"),
            interface_id=binjiang.id,
            draft=_inbound("binjiang.djxt", BINJIANG, name="改名"),
        )
    with session_scope() as session:
        mine = registry.list_interfaces(
            session=session, actor=registry_world.actor("binjiang_admin"), direction="inbound"
        )
        province = registry.list_interfaces(
            session=session, actor=registry_world.actor("sys_admin"), direction="inbound"
        )
    assert [row.code for row in mine.items] == ["binjiang.djxt"]
    assert [row.code for row in province.items] == ["binjiang.djxt"]


def test_a_sharing_user_reads_but_cannot_change_and_an_auditor_cannot_read(
    registry_world: World,
) -> None:
    reader = registry_world.actor("sharing_user")
    national = _id_of("gab.sfhc")
    with session_scope() as session:
        detail = registry.get_interface(session=session, actor=reader, interface_id=national)
    assert detail.name == "身份核查" and detail.tenant_name == "全省"
    with pytest.raises(Forbidden), session_scope() as session:
        registry.update_interface(
            session=session,
            actor=reader,
            interface_id=national,
            draft=replace(detail.to_draft(), timeout_ms=9000),
        )
    with pytest.raises(Forbidden), session_scope() as session:
        registry.set_enabled(session=session, actor=reader, interface_id=national, enabled=False)
    with pytest.raises(Forbidden):
        _create(registry_world, "sharing_user", _inbound("xihu.djxt", XIHU))
    with pytest.raises(Forbidden), session_scope() as session:
        registry.list_interfaces(session=session, actor=registry_world.actor("audit_admin"))
    assert len(_log("write", "gab.sfhc", outcome="denied")) == 2  # every refusal is logged
    assert _log("update", "gab.sfhc") == []


def test_delete_refuses_national_and_used_interfaces_and_keeps_the_history(
    registry_world: World,
) -> None:
    admin = registry_world.actor("sys_admin")
    with pytest.raises(ValidationFailed) as builtin, session_scope() as session:
        registry.delete_interface(session=session, actor=admin, interface_id=_id_of("gab.sfhc"))
    assert "不能删除" in builtin.value.message
    used = _create(registry_world, "sys_admin", _inbound("xihu.used", XIHU))
    with session_scope() as session:
        session.add(SharingTask(code="push.xihu", name="推送", interface_id=used.id))
    with pytest.raises(ValidationFailed) as in_use, session_scope() as session:
        registry.delete_interface(session=session, actor=admin, interface_id=used.id)
    assert "1 个共享任务" in in_use.value.message
    spare = _create(registry_world, "sys_admin", _inbound("xihu.spare", XIHU))
    with pytest.raises(Forbidden), session_scope() as session:
        registry.delete_interface(
            session=session, actor=registry_world.actor("county_admin"), interface_id=spare.id
        )
    with session_scope() as session:
        assert registry.delete_interface(session=session, actor=admin, interface_id=spare.id) == (
            "xihu.spare"
        )
    with session_scope() as session:
        assert session.get(InterfaceDef, spare.id) is None
    assert len(_log("delete", "xihu.spare", outcome="denied")) == 1
    deleted = _log("delete", "xihu.spare")
    assert len(deleted) == 1
    assert json.loads(deleted[0].detail)["revisions"][0]["actor"] == "u_sys_admin"
