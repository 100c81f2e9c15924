"""BPMN 2.0 round trip on the seeded workflows, and what an import refuses."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from console.core.errors import ValidationFailed
from console.workflows.bpmn import BPMN, CAMUNDA, FLOWABLE, export_bpmn, import_bpmn
from console.workflows.schema import parse_workflow
from console.workflows.seed import WORKFLOWS


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


def test_unsupported_elements_are_reported_and_the_rest_imported() -> None:
    text = export_bpmn(parse_workflow(WORKFLOWS["cancellation"]), key="c", version=1)
    text = text.replace(
        "</bpmn:process>",
        '<bpmn:parallelGateway id="fork" name="并行" /></bpmn:process>',
    )
    body, skipped = import_bpmn(text)
    assert skipped == ["不支持的 BPMN 元素 parallelGateway（fork）未导入"]
    assert [s.name for s in body.steps] == ["申请", "受理", "审核", "登簿", "办结"]


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
        ("<definitions/>", "不是 BPMN 2.0 文件：缺少 definitions/process"),
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
