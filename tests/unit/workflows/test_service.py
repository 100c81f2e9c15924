"""Versions, inheritance, permissions and tenant scope of the workflow settings."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.actor import Actor
from console.core.db import session_scope
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.core.paging import PageRequest
from console.workflows import draft_service, inheritance_service, publish_service, service
from console.workflows.models import BusinessTimeLimit, Kind
from console.workflows.seed import WORKFLOWS, load_workflow_seed
from tests.support.world import BINJIANG, XIHU, World
from tests.unit.stats.conftest import database_url  # noqa: F401 - SQLite only here

B = Kind.BUSINESS
W = Kind.WORKFLOW


def _in(actor: Actor, tenant: str) -> Actor:
    return dataclasses.replace(actor, context_tenant=tenant)


def _served(tenant: str, code: str = "2000402") -> dict:
    with session_scope() as session:
        return service.served_business(session=session, tenant=tenant, business_code=code)


def _edit_draft(actor: Actor, kind: Kind, key: str, change) -> list:
    with session_scope() as session:
        body = service.get_definition(session=session, actor=actor, kind=kind, key=key).body
        change(body)
        return draft_service.save_draft(session=session, actor=actor, kind=kind, key=key, body=body)


def _publish(actor: Actor, kind: Kind, key: str, note: str = "") -> int:
    with session_scope() as session:
        return publish_service.publish(session=session, actor=actor, kind=kind, key=key, note=note)


def _audit(action: str) -> list[OperationLog]:
    with session_scope() as session:
        return list(
            session.exec(
                select(OperationLog).where(
                    OperationLog.object == "workflows.definitions", OperationLog.action == action
                )
            ).all()
        )


def test_the_seed_publishes_every_template_once(templates: World) -> None:
    admin = templates.actor("sys_admin")
    with session_scope() as session:
        page = service.list_definitions(
            session=session, actor=admin, kind=B, request=PageRequest(size=50)
        )
        assert load_workflow_seed(session) == 0  # a second run adds nothing
    assert page.total == 7
    assert {row.origin_label for row in page.items} == {"省级模板"}
    assert all(row.served_version == 1 and not row.has_draft for row in page.items)
    served = _served(XIHU, "8000101")
    assert [s["name"] for s in served["workflow"]["steps"] if s["kind"] == "task"] == [
        "受理",
        "审核",
        "登簿",
        "送达",
    ]
    assert served["business"]["time_limit_workdays"] == 1  # from the committed limits
    assert "协助执行通知书" in [m["name"] for m in served["business"]["materials"]]


def test_publishing_refuses_a_draft_with_problems_and_names_the_first(templates: World) -> None:
    admin = templates.actor("sys_admin")

    def cut_loose(body: dict) -> None:
        body["steps"].append({"id": "orphan", "name": "公告", "kind": "task", "roles": []})

    problems = _edit_draft(admin, W, "general", cut_loose)
    assert {p.ref for p in problems} == {"orphan"}
    with pytest.raises(ValidationFailed) as refused:
        _publish(admin, W, "general")
    assert refused.value.message == "不能发布：环节「公告」未指定办理岗位（共 2 处问题）"
    assert _served(XIHU)["workflow"]["version"] == 1


def test_a_county_workflow_override_is_what_its_businesses_run(templates: World) -> None:
    admin = templates.actor("sys_admin")
    binjiang = _in(admin, BINJIANG)
    with session_scope() as session:
        inheritance_service.override(session=session, actor=binjiang, kind=W, key="cancellation")

    def add_check(body: dict) -> None:
        body["steps"].append(
            {"id": "t9", "name": "复审", "kind": "task", "roles": ["approve"], "y": 500}
        )
        edge = next(t for t in body["transitions"] if t["source"] == "t2")
        edge["target"] = "t9"
        body["transitions"].append({"id": "f_t9", "source": "t9", "target": "t3"})

    assert _edit_draft(binjiang, W, "cancellation", add_check) == []
    _publish(binjiang, W, "cancellation")
    steps = [s["name"] for s in _served(BINJIANG, "4000101")["workflow"]["steps"]]
    assert "复审" in steps
    assert "复审" not in [s["name"] for s in _served(XIHU, "4000101")["workflow"]["steps"]]


def test_a_county_admin_drafts_an_override_but_cannot_publish_or_touch_templates(
    templates: World,
) -> None:
    county = templates.actor("county_admin")  # 西湖区
    with session_scope() as session, pytest.raises(ValidationFailed) as refused:
        draft_service.save_draft(
            session=session, actor=county, kind=B, key="2000402", body=WORKFLOWS["general"]
        )
    assert refused.value.message == "业务 2000402 继承自省级模板，请先「本地覆盖」再修改"
    with session_scope() as session:
        inheritance_service.override(session=session, actor=county, kind=B, key="2000402")
    with pytest.raises(Forbidden):
        _publish(county, B, "2000402")
    denied = [e for e in _audit("approve") if e.outcome == "denied"]
    assert [(e.actor_account, e.tenant_code) for e in denied] == [("u_county_admin", XIHU)]
    # The province reviews and publishes the county's draft in that county's view.
    _publish(_in(templates.actor("sys_admin"), XIHU), B, "2000402")
    assert _served(XIHU)["business"]["origin"] == "tenant"


def test_another_county_never_sees_an_override(templates: World) -> None:
    county = templates.actor("county_admin")
    with session_scope() as session:
        inheritance_service.override(session=session, actor=county, kind=B, key="9000101")
    _edit_draft(county, B, "9000101", lambda body: body.update(name="西湖抵押权登记"))
    other = templates.actor("binjiang_admin")
    with session_scope() as session:
        view = service.get_definition(session=session, actor=other, kind=B, key="9000101")
        rows = service.list_definitions(
            session=session, actor=other, kind=B, request=PageRequest(size=50), search="西湖"
        )
        usage = service.usage(session=session, actor=other, kind=B, key="9000101")
    assert (view.name, view.origin_label, view.owner) == ("抵押权登记", "继承省级模板", "330000")
    assert rows.total == 0
    assert [u.tenant_code for u in usage] == [BINJIANG]


def test_a_reader_cannot_write_and_the_denial_is_logged(templates: World) -> None:
    clerk = templates.actor("window_clerk")
    with session_scope() as session:
        assert (
            service.get_definition(
                session=session, actor=clerk, kind=B, key="1000301"
            ).served_version
            == 1
        )
    with session_scope() as session, pytest.raises(Forbidden):
        inheritance_service.override(session=session, actor=clerk, kind=B, key="1000301")
    assert [e.actor_account for e in _audit("write") if e.outcome == "denied"] == ["u_window_clerk"]


def test_the_diff_shows_each_changed_item_side_by_side(templates: World) -> None:
    admin = templates.actor("sys_admin")

    def rename_and_drop(body: dict) -> None:
        body["materials"] = [m for m in body["materials"] if m["name"] != "婚姻状况证明"]
        body["time_limit_workdays"] = 3

    _edit_draft(admin, B, "2000402", rename_and_drop)
    with session_scope() as session:
        rows = service.diff(session=session, actor=admin, kind=B, key="2000402", left=1, right=2)
    assert [(r.section, r.item, r.change, r.left, r.right) for r in rows] == [
        ("基本信息", "承诺时限（工作日）", "修改", "5", "3"),
        (
            "材料",
            "婚姻状况证明",
            "删除",
            "婚姻状况证明；非必收；原件；1 份；可收电子材料 是；可由民政共享获取",
            "",
        ),
    ]


def test_a_new_draft_starts_from_a_chosen_published_version_and_can_be_discarded(
    templates: World,
) -> None:
    admin = templates.actor("sys_admin")
    _edit_draft(admin, W, "seizure", lambda body: body.update(name="嘱托登记流程（新）"))
    _publish(admin, W, "seizure")
    with session_scope() as session:
        assert (
            draft_service.new_draft(
                session=session, actor=admin, kind=W, key="seizure", from_number=1
            )
            == 3
        )
        with pytest.raises(ValidationFailed):
            draft_service.new_draft(
                session=session, actor=admin, kind=W, key="seizure", from_number=2
            )
        assert (
            service.get_definition(session=session, actor=admin, kind=W, key="seizure").body["name"]
            == "嘱托登记流程"
        )
    with session_scope() as session:
        draft_service.discard_draft(session=session, actor=admin, kind=W, key="seizure")
    with session_scope() as session:
        view = service.get_definition(session=session, actor=admin, kind=W, key="seizure")
    assert view.body["name"] == "嘱托登记流程（新）"  # the newest published, not the discarded
    assert (view.draft_number, [(v.number, v.status) for v in view.versions]) == (
        0,
        [(3, "discarded"), (2, "published"), (1, "published")],
    )
    with session_scope() as session:  # a number is never given twice
        assert (
            draft_service.new_draft(
                session=session, actor=admin, kind=W, key="seizure", from_number=2
            )
            == 4
        )


def test_bpmn_export_then_import_lands_in_the_draft(templates: World) -> None:
    admin = templates.actor("sys_admin")
    with session_scope() as session:
        text = draft_service.export_bpmn(session=session, actor=admin, key="general", number=1)
    text = text.replace('name="缮证"', 'name="缮证打印"')
    with session_scope() as session:
        problems, skipped = draft_service.import_bpmn(
            session=session, actor=admin, key="general", text=text
        )
    assert (problems, skipped) == ([], [])
    with session_scope() as session:
        rows = service.diff(session=session, actor=admin, kind=W, key="general", left=1, right=2)
    assert [(r.item, r.change) for r in rows] == [("t4", "修改")]
    assert [e.action for e in _audit("export_bpmn")] == ["export_bpmn"]


TWO_POOLS = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="x">
  <collaboration id="c">
    <participant id="p1" name="登记中心" processRef="centre" />
    <participant id="p2" name="税务" processRef="tax" />
  </collaboration>
  <process id="tax"><startEvent id="tax_start" /></process>
  <process id="centre" name="一般登记（外部设计）">
    <laneSet id="ls">
      <lane id="l1" name="受理岗"><flowNodeRef>a</flowNodeRef></lane>
      <lane id="l2" name="复审核定岗"><flowNodeRef>b</flowNodeRef></lane>
    </laneSet>
    <startEvent id="s" name="申请" />
    <userTask id="a" name="受理" />
    <userTask id="b" name="核定" />
    <endEvent id="e" name="办结"><terminateEventDefinition id="t" /></endEvent>
    <sequenceFlow id="f1" sourceRef="s" targetRef="a" />
    <sequenceFlow id="f2" sourceRef="a" targetRef="b" />
    <sequenceFlow id="f3" sourceRef="b" targetRef="e" />
  </process>
</definitions>"""


def test_a_bpmn_file_is_previewed_then_the_chosen_process_replaces_the_draft(
    templates: World,
) -> None:
    admin = templates.actor("sys_admin")
    with session_scope() as session:
        previews = draft_service.preview_bpmn(
            session=session, actor=admin, key="general", text=TWO_POOLS
        )
    assert [(p.id, p.name, p.steps, p.problem) for p in previews] == [
        ("tax", "税务", 1, "流程「税务」中没有可导入的办理环节"),
        ("centre", "一般登记（外部设计）", 4, ""),
    ]
    assert [(lane.name, lane.role) for lane in previews[1].lanes] == [
        ("受理岗", "accept"),
        ("复审核定岗", "approve"),
    ]
    with session_scope() as session:
        assert service.get_definition(session=session, actor=admin, kind=W, key="general")
    with session_scope() as session:
        problems, kept = draft_service.import_bpmn(
            session=session, actor=admin, key="general", text=TWO_POOLS, process_id="centre"
        )
    assert [(k.element, k.kind) for k in kept] == [
        ("ls", "laneSet"),
        ("e › t", "terminateEventDefinition"),
    ]
    assert problems == []
    with session_scope() as session:
        body = service.get_definition(session=session, actor=admin, kind=W, key="general").body
    assert [(s["id"], s["roles"]) for s in body["steps"] if s["kind"] == "task"] == [
        ("a", ["accept"]),
        ("b", ["approve"]),
    ]
    assert [json.loads(e.detail) for e in _audit("import_bpmn")] == [
        {"name": "一般登记流程", "process": "centre", "steps": 4, "kept": 2}
    ]


def test_a_reader_cannot_even_preview_a_bpmn_file(templates: World) -> None:
    clerk = templates.actor("window_clerk")
    with session_scope() as session, pytest.raises(Forbidden):
        draft_service.preview_bpmn(session=session, actor=clerk, key="general", text=TWO_POOLS)
    assert [e.actor_account for e in _audit("write") if e.outcome == "denied"] == ["u_window_clerk"]


def test_unknown_business_is_not_found(templates: World) -> None:
    with pytest.raises(NotFound):
        _served(XIHU, "5000402")


def test_a_limit_changed_on_the_timeliness_page_is_a_new_published_version(
    templates: World,
) -> None:
    from console.stats.timeliness_service import set_time_limit

    admin = templates.actor("sys_admin")
    with session_scope() as session:
        set_time_limit(
            session=session, actor=admin, business_code="2000402", workdays=4, basis="省政府公告"
        )
    served = _served(BINJIANG)["business"]
    assert (served["version"], served["time_limit_workdays"]) == (2, 4)
    with session_scope() as session:
        view = service.get_definition(session=session, actor=admin, kind=B, key="2000402")
        assert session.get(BusinessTimeLimit, "2000402").workdays == 4
    assert view.versions[0].note == "调整承诺时限为 4 个工作日：省政府公告"
    _edit_draft(admin, B, "2000402", lambda body: body.update(name="转移登记（草拟）"))
    with session_scope() as session, pytest.raises(ValidationFailed) as refused:
        set_time_limit(session=session, actor=admin, business_code="2000402", workdays=2, basis="")
    assert "有未发布的草稿" in refused.value.message


def test_a_county_sees_only_what_the_province_published(templates: World) -> None:
    admin = templates.actor("sys_admin")
    _edit_draft(admin, B, "2000402", lambda body: body.update(name="尚未发布的名称"))
    county = templates.actor("county_admin")
    with session_scope() as session:
        view = service.get_definition(session=session, actor=county, kind=B, key="2000402")
        rows = service.list_definitions(
            session=session, actor=county, kind=B, request=PageRequest(size=50)
        )
        with pytest.raises(NotFound):
            service.version_body(session=session, actor=county, kind=B, key="2000402", number=2)
    assert (view.name, view.body["name"]) == ("房地产权转移登记", "房地产权转移登记")
    assert {row.name for row in rows.items if row.key == "2000402"} == {"房地产权转移登记"}
    assert ([v.number for v in view.versions], view.draft_number) == ([1], 0)
    assert not any(row.has_draft for row in rows.items)


def test_publishing_refuses_a_draft_someone_else_replaced(templates: World) -> None:
    admin = templates.actor("sys_admin")
    _edit_draft(admin, W, "general", lambda body: body.update(name="一般登记流程（甲）"))
    with session_scope() as session, pytest.raises(ValidationFailed) as refused:
        publish_service.publish(
            session=session, actor=admin, kind=W, key="general", expected_draft=7
        )
    assert refused.value.message.startswith("草稿已变为 v2")


def test_a_workflow_change_that_breaks_a_bound_business_is_refused(templates: World) -> None:
    admin = templates.actor("sys_admin")

    def rename_review(body: dict) -> None:
        next(s for s in body["steps"] if s["name"] == "审核")["name"] = "初审"

    assert _edit_draft(admin, W, "cancellation", rename_review) == []
    with pytest.raises(ValidationFailed) as refused:
        _publish(admin, W, "cancellation")
    assert refused.value.message.startswith(
        "不能发布：业务 4000101：意见模板所属环节「审核」不在流程中"
    )


def test_the_served_business_carries_its_guide(templates: World) -> None:
    guide = _served(XIHU, "9000101")["business"]["guide_text"]
    assert guide.startswith("抵押权登记办事指南")
    assert "三、办理流程：\n申请 → 受理 → 审核 → 登簿 → 缮证 → 发证 → 办结" in guide
    assert (
        "1. 不动产登记申请书（原件 1 份，必收，可提交电子材料）。申请人签字（盖章），A4 纸" in guide
    )
    assert "自受理之日起 3 个工作日内办结" in guide
