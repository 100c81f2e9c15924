"""BPMN 2.0 round trip on the seeded workflows, and what an import refuses."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from console.core.errors import ValidationFailed
from console.workflows.bpmn import BPMN, CAMUNDA, FLOWABLE, export_bpmn
from console.workflows.bpmn_reading import import_process, read_processes
from console.workflows.schema import WorkflowBody, parse_workflow
from console.workflows.seed import WORKFLOWS
from tests.support.spiff import xsd_errors

ROLES = {"受理岗": "accept", "初审岗": "review", "accept": "accept"}


def import_bpmn(text: str, process_id: str = "") -> tuple[WorkflowBody, list[str]]:
    """The imported body, and what was listed as not shown, as "id kind" lines."""
    body, preview = import_process(text, process_id=process_id, role_of=ROLES.get)
    return body, [f"{p.element} {p.kind}" for p in preview.unrepresented]


@pytest.mark.parametrize("key", sorted(WORKFLOWS))
def test_a_seeded_workflow_survives_the_round_trip(key: str) -> None:
    body = parse_workflow(WORKFLOWS[key])
    back, skipped = import_bpmn(export_bpmn(body, key=key, version=3))
    assert skipped == []
    assert back == body  # steps, kinds, roles, permissions, limits, positions, conditions


def test_engines_find_roles_and_conditions_where_they_look() -> None:
    text = export_bpmn(parse_workflow(WORKFLOWS["general"]), key="general", version=1)
    root = ET.fromstring(text)
    process = root.find(f"{{{BPMN}}}process")
    assert process is not None and process.get("id") == "general"
    review = process.find(f"{{{BPMN}}}userTask[@name='审核']")
    assert review is not None
    assert review.get(f"{{{FLOWABLE}}}candidateGroups") == "review,approve"
    assert review.get(f"{{{CAMUNDA}}}candidateGroups") == "review,approve"
    conditions = [e.text for e in process.iter(f"{{{BPMN}}}conditionExpression")]
    assert sorted(conditions) == ["${result == '不予登记'}", "${result == '补正'}"]
    assert len(root.findall(f".//{{{BPMN}}}exclusiveGateway")) == 1


def test_a_key_starting_with_a_digit_exports_ids_that_are_valid_xml_names() -> None:
    text = export_bpmn(parse_workflow(WORKFLOWS["general"]), key="2024一般", version=1)
    root = ET.fromstring(text)
    ids = [e.get("id") for e in root.iter() if e.get("id") is not None]
    # NCName: a letter or "_" first (non-ASCII letters allowed by XML), no colon.
    assert ids and all(re.match(r"^[^\W\d][\w.-]*$", i) for i in ids), ids
    process = root.find(f"{{{BPMN}}}process")
    assert process is not None and process.get("id") == "Process_2024一般"
    plane = next(root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNPlane"))
    assert plane.get("bpmnElement") == process.get("id")
    back, skipped = import_bpmn(text)
    assert skipped == [] and back == parse_workflow(WORKFLOWS["general"])


def test_an_element_without_a_counterpart_is_listed_drawn_as_the_nearest_kind_and_kept() -> None:
    text = export_bpmn(parse_workflow(WORKFLOWS["cancellation"]), key="c", version=1)
    text = text.replace(
        "</bpmn:process>",
        '<bpmn:parallelGateway id="fork" name="并行" /></bpmn:process>',
    )
    body, skipped = import_bpmn(text)
    assert skipped == ["fork parallelGateway"]
    assert [s.name for s in body.steps] == ["申请", "受理", "审核", "登簿", "办结", "并行"]
    assert body.steps[-1].kind == "gateway"
    again, _ = import_bpmn(export_bpmn(body, key="c", version=2))
    assert again == body
    assert 'kind="parallelGateway"' in export_bpmn(body, key="c", version=2)


def test_an_engine_design_without_console_extensions_imports() -> None:
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{BPMN}" xmlns:flowable="{FLOWABLE}" targetNamespace="x">
  <process id="p" name="外部设计">
    <startEvent id="s" />
    <userTask id="a" name="受理" flowable:candidateGroups="accept" />
    <endEvent id="e" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="a" />
    <sequenceFlow id="f2" sourceRef="a" targetRef="e" />
  </process>
</definitions>"""
    body, skipped = import_bpmn(text)
    assert skipped == []
    assert [(s.id, s.kind, s.roles) for s in body.steps] == [
        ("s", "start", []),
        ("a", "task", ["accept"]),
        ("e", "end", []),
    ]
    assert [(t.source, t.target) for t in body.transitions] == [("s", "a"), ("a", "e")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not xml at all", "不是有效的 XML"),
        ("<definitions/>", "不是 BPMN 2.0 文件：缺少 definitions 根元素"),
        (f'<definitions xmlns="{BPMN}"/>', "文件中没有流程（process）"),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            f'<definitions xmlns="{BPMN}"><process id="p" name="&b;"/></definitions>',
            "不是有效的 XML",
        ),
    ],
)
def test_bad_or_hostile_files_are_refused_in_chinese(text: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        import_bpmn(text)
    assert refused.value.message.startswith(message)
    assert refused.value.field == "BPMN 文件"


def test_a_diagram_position_that_is_not_a_number_is_named() -> None:
    text = export_bpmn(parse_workflow(WORKFLOWS["cancellation"]), key="c", version=1)
    text = text.replace('x="0"', 'x="left"', 1)
    with pytest.raises(ValidationFailed) as refused:
        import_bpmn(text)
    assert refused.value.message == "图形位置 left 不是数字"


def test_a_gateway_names_its_unconditioned_exit_as_the_default() -> None:
    root = ET.fromstring(export_bpmn(parse_workflow(WORKFLOWS["general"]), key="g", version=1))
    gateway = root.find(f".//{{{BPMN}}}exclusiveGateway")
    assert gateway is not None and gateway.get("default") == "f_g_review_t3"


LONG_ID = "Activity_" + "受理" * 3 + "x" * 60  # 75 characters: tools generate such ids
CAMUNDA_COLLABORATION = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="d" targetNamespace="x">
  <bpmn:collaboration id="collab">
    <bpmn:participant id="pool_centre" name="登记中心" processRef="centre" />
    <bpmn:participant id="pool_bank" name="银行" processRef="bank" />
    <bpmn:messageFlow id="mf" sourceRef="send" targetRef="{LONG_ID}" />
  </bpmn:collaboration>
  <bpmn:process id="bank" isExecutable="false" />
  <bpmn:process id="centre" isExecutable="true" camunda:versionTag="3">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_accept" name="受理岗">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>{LONG_ID}</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_other" name="外包团队">
        <bpmn:flowNodeRef>send</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="每日">
      <bpmn:timerEventDefinition id="timer">
        <bpmn:timeCycle>R/P1D</bpmn:timeCycle>
      </bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:userTask id="{LONG_ID}" name="受理" camunda:assignee="zhang"
        camunda:candidateUsers="li,wang" camunda:formKey="apply">
      <bpmn:multiInstanceLoopCharacteristics isSequential="true" />
    </bpmn:userTask>
    <bpmn:sendTask id="send" name="通知银行" />
    <bpmn:endEvent id="end" name="终止">
      <bpmn:terminateEventDefinition id="term" />
    </bpmn:endEvent>
    <bpmn:endEvent id="msg_end" name="回执">
      <bpmn:messageEventDefinition id="msg" />
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{LONG_ID}" />
    <bpmn:sequenceFlow id="f2" name="办结后通知" sourceRef="{LONG_ID}" targetRef="send" />
    <bpmn:sequenceFlow id="f3" sourceRef="send" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_file_with_several_processes_asks_which_one_and_an_empty_pool_is_not_a_success() -> None:
    with pytest.raises(ValidationFailed) as refused:
        import_bpmn(CAMUNDA_COLLABORATION)
    assert refused.value.message == "文件中有 2 个流程（银行、登记中心），请选择一个"
    with pytest.raises(ValidationFailed) as empty:
        import_bpmn(CAMUNDA_COLLABORATION, "bank")
    assert empty.value.message == "流程「银行」中没有可导入的办理环节"
    body, _ = import_bpmn(CAMUNDA_COLLABORATION, "centre")
    assert body.name == "登记中心" and len(body.steps) == 5


def test_everything_the_designer_cannot_show_is_listed_by_id_and_kind() -> None:
    _, listed = import_bpmn(CAMUNDA_COLLABORATION, "centre")
    assert listed == [
        "centre 属性 camunda:versionTag",
        "lanes laneSet",
        "start › timer timerEventDefinition",
        f"{LONG_ID} 属性 camunda:assignee",
        f"{LONG_ID} 属性 camunda:candidateUsers",
        f"{LONG_ID} 属性 camunda:formKey",
        f"{LONG_ID} multiInstanceLoopCharacteristics",
        "send sendTask",
        "end › term terminateEventDefinition",
        "msg_end › msg messageEventDefinition",
        "mf messageFlow",
    ]


def test_what_was_kept_comes_back_in_the_extension_elements_of_the_export() -> None:
    body, listed = import_bpmn(CAMUNDA_COLLABORATION, "centre")
    exported = export_bpmn(body, key="centre", version=1)
    root = ET.fromstring(exported)
    kept = root.findall(".//{urn:bdc-console:workflow:1}kept")
    assert len(kept) == len(listed) == len(body.kept)
    for part in kept:  # each inside an extensionElements, never loose in the process
        assert part.get("kind")
    timer = next(k for k in kept if k.get("kind") == "timerEventDefinition")
    assert "R/P1D" in (timer.text or "")
    assignee = next(k for k in kept if k.get("kind") == f"@{{{CAMUNDA}}}assignee")
    assert (assignee.get("element"), assignee.get("value")) == (LONG_ID, "zhang")
    again, listed_again = import_bpmn(exported)
    assert again == body and len(listed_again) == len(listed)


def test_lanes_become_roles_where_a_role_has_the_lanes_name() -> None:
    body, _ = import_bpmn(CAMUNDA_COLLABORATION, "centre")
    roles = {step.id: step.roles for step in body.steps if step.kind == "task"}
    assert roles == {LONG_ID: ["accept"], "send": []}  # 外包团队 is no role


def test_long_ids_and_flow_labels_are_kept() -> None:
    body, _ = import_bpmn(CAMUNDA_COLLABORATION, "centre")
    assert LONG_ID in {step.id for step in body.steps}
    assert [t.name for t in body.transitions] == ["", "办结后通知", ""]
    assert 'name="办结后通知"' in export_bpmn(body, key="centre", version=1)


def test_an_id_that_is_not_an_xml_name_is_refused_naming_the_element() -> None:
    text = CAMUNDA_COLLABORATION.replace('id="send"', 'id="1发送"').replace('"send"', '"1发送"')
    with pytest.raises(ValidationFailed) as refused:
        import_bpmn(text, "centre")
    assert (
        refused.value.message
        == "元素 1发送（sendTask）的标识不是有效的 XML 标识（须以字母或下划线开头）"
    )


def test_the_export_declares_the_expression_language_of_its_conditions() -> None:
    root = ET.fromstring(export_bpmn(parse_workflow(WORKFLOWS["general"]), key="g", version=1))
    assert root.get("expressionLanguage") == "http://www.jcp.org/en/jsr/detail?id=341"
    languages = {e.get("language") for e in root.iter(f"{{{BPMN}}}conditionExpression")}
    assert languages == {"http://www.jcp.org/en/jsr/detail?id=341"}


def test_a_file_with_more_processes_than_a_preview_can_show_is_refused() -> None:
    pools = "".join(f'<process id="p{n}"><userTask id="t{n}" /></process>' for n in range(101))
    with pytest.raises(ValidationFailed) as refused:
        import_bpmn(f'<definitions xmlns="{BPMN}">{pools}</definitions>', "p1")
    assert refused.value.message == "文件中有 101 个流程，超过 100 个，请拆分后导入"


def test_a_carriage_return_in_kept_text_survives_export_and_import_unchanged() -> None:
    text = CAMUNDA_COLLABORATION.replace(
        '<bpmn:sendTask id="send" name="通知银行" />',
        '<bpmn:sendTask id="send" name="通知银行">'
        "<bpmn:documentation>第一行&#13;\n第二行&#13;第三行</bpmn:documentation>"
        "</bpmn:sendTask>",
    )
    body, _ = import_bpmn(text, "centre")
    again, _ = import_bpmn(export_bpmn(body, key="centre", version=1))
    assert again == body
    assert "第一行\n第二行\n第三行" in next(k.xml for k in body.kept if k.kind == "sendTask")


def test_a_process_that_cannot_be_read_says_why_and_the_others_stay_choosable() -> None:
    text = CAMUNDA_COLLABORATION.replace(
        '<bpmn:process id="bank" isExecutable="false" />',
        '<bpmn:process id="bank"><bpmn:userTask id="9bad" /></bpmn:process>',
    )
    previews = read_processes(text, role_of=ROLES.get)
    assert [(p.id, p.problem) for p in previews] == [
        ("bank", "元素 9bad（userTask）的标识不是有效的 XML 标识（须以字母或下划线开头）"),
        ("centre", ""),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('id="send"', 'id="start"'), "元素标识 start 重复"),
        (
            (
                "<bpmn:sendTask",
                '<bpmn:textAnnotation id="x">'
                + "<a>" * 3000
                + "</a>" * 3000
                + "</bpmn:textAnnotation><bpmn:sendTask",
            ),
            "文件中元素嵌套层数过深",
        ),
        (('camunda:assignee="zhang"', f'camunda:assignee="{"z" * 10001}"'), "过长，无法保留"),
    ],
)
def test_hostile_files_are_refused_in_chinese_not_with_a_crash(
    change: tuple[str, str], message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        import_bpmn(CAMUNDA_COLLABORATION.replace(*change, 1), "centre")
    assert message in refused.value.message


def test_a_file_with_too_many_top_level_definitions_is_refused_before_reading_them() -> None:
    messages = "".join(f'<message id="m{n}"/>' for n in range(5001))
    with pytest.raises(ValidationFailed) as refused:
        import_bpmn(f'<definitions xmlns="{BPMN}">{messages}<process id="p"/></definitions>')
    assert "超过 5000 个" in refused.value.message


def test_ids_the_export_makes_up_never_collide_with_a_designs_own() -> None:
    body = parse_workflow(WORKFLOWS["cancellation"])
    clash = body.model_copy(
        update={"steps": [*body.steps, body.steps[1].model_copy(update={"id": "t1_di", "x": 900})]}
    )
    assert xsd_errors(export_bpmn(clash, key="c", version=1)) == []
