"""BPMN 2.0 XML out and in, so Flowable or Camunda can run a design made here.

Roles travel as ``candidateGroups`` in both engines' namespaces; what BPMN has no word for
(step permissions, editable fields, step time limits) travels in ``extensionElements`` under
the console's own namespace, which engines ignore. Positions go in the diagram section, so a
modeller opens the design as it was drawn.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from console.core.errors import ValidationFailed
from console.workflows.schema import Step, WorkflowBody, parse_workflow

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FLOWABLE = "http://flowable.org/bpmn"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BDC = "urn:bdc-console:workflow:1"
NAMESPACES = {
    "bpmn": BPMN,
    "bpmndi": BPMNDI,
    "dc": DC,
    "di": DI,
    "xsi": XSI,
    "flowable": FLOWABLE,
    "camunda": CAMUNDA,
    "bdc": BDC,
}
_ELEMENT_OF_KIND = {
    "start": "startEvent",
    "task": "userTask",
    "gateway": "exclusiveGateway",
    "end": "endEvent",
}
_KIND_OF_ELEMENT = {
    "startEvent": "start",
    "userTask": "task",
    "task": "task",
    "manualTask": "task",
    "exclusiveGateway": "gateway",
    "endEvent": "end",
}
_SIZE = {"start": (36, 36), "end": (36, 36), "gateway": (50, 50), "task": (120, 60)}

for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


# An XML NCName starts with a letter or "_": a key such as 2024一般 cannot be an id as it is.
_NCNAME_START = re.compile(r"^[A-Za-z_]")


def process_id(key: str) -> str:
    """The process element's id for a workflow key: the key, made a valid NCName if needed."""
    return key if _NCNAME_START.match(key) else f"Process_{key}"


def export_bpmn(body: WorkflowBody, *, key: str, version: int) -> str:
    """The workflow as a BPMN 2.0 document (UTF-8 text)."""
    ident = process_id(key)
    root = ET.Element(
        _q(BPMN, "definitions"),
        {
            "id": f"Definitions_{ident}",
            "targetNamespace": "urn:bdc-console:processes",
            "exporter": "BDC Console",
            "exporterVersion": str(version),
        },
    )
    process = ET.SubElement(
        root, _q(BPMN, "process"), {"id": ident, "name": body.name, "isExecutable": "true"}
    )
    for step in body.steps:
        _export_step(process, step, body)
    for edge in body.transitions:
        flow = ET.SubElement(
            process,
            _q(BPMN, "sequenceFlow"),
            {"id": edge.id, "sourceRef": edge.source, "targetRef": edge.target},
        )
        if edge.condition.strip():
            expression = ET.SubElement(
                flow, _q(BPMN, "conditionExpression"), {_q(XSI, "type"): "bpmn:tFormalExpression"}
            )
            expression.text = edge.condition
    _export_diagram(root, ident, body)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _export_step(process: ET.Element, step: Step, body: WorkflowBody) -> None:
    attributes = {"id": step.id, "name": step.name}
    if step.kind == "task" and step.roles:
        groups = ",".join(step.roles)
        attributes[_q(FLOWABLE, "candidateGroups")] = groups
        attributes[_q(CAMUNDA, "candidateGroups")] = groups
    if step.kind == "gateway":
        # Engines take the exit without a condition only when it is named the default.
        default = [e.id for e in body.transitions if e.source == step.id and not e.condition]
        if default:
            attributes["default"] = default[0]
    element = ET.SubElement(process, _q(BPMN, _ELEMENT_OF_KIND[step.kind]), attributes)
    if step.kind == "task":
        extensions = ET.SubElement(element, _q(BPMN, "extensionElements"))
        ET.SubElement(
            extensions,
            _q(BDC, "step"),
            {
                "actions": ",".join(step.actions),
                "editableFields": ",".join(step.editable_fields),
                "limitWorkdays": f"{step.limit_workdays:g}",
            },
        )
    for edge in body.transitions:
        if edge.target == step.id:
            ET.SubElement(element, _q(BPMN, "incoming")).text = edge.id
    for edge in body.transitions:
        if edge.source == step.id:
            ET.SubElement(element, _q(BPMN, "outgoing")).text = edge.id


def _export_diagram(root: ET.Element, ident: str, body: WorkflowBody) -> None:
    diagram = ET.SubElement(root, _q(BPMNDI, "BPMNDiagram"), {"id": f"Diagram_{ident}"})
    plane = ET.SubElement(
        diagram, _q(BPMNDI, "BPMNPlane"), {"id": f"Plane_{ident}", "bpmnElement": ident}
    )
    centre: dict[str, tuple[float, float]] = {}
    for step in body.steps:
        width, height = _SIZE[step.kind]
        centre[step.id] = (step.x + width / 2, step.y + height / 2)
        shape = ET.SubElement(
            plane, _q(BPMNDI, "BPMNShape"), {"id": f"{step.id}_di", "bpmnElement": step.id}
        )
        ET.SubElement(
            shape,
            _q(DC, "Bounds"),
            {"x": f"{step.x:g}", "y": f"{step.y:g}", "width": str(width), "height": str(height)},
        )
    for edge in body.transitions:
        if edge.source not in centre or edge.target not in centre:
            continue
        shape = ET.SubElement(
            plane, _q(BPMNDI, "BPMNEdge"), {"id": f"{edge.id}_di", "bpmnElement": edge.id}
        )
        for x, y in (centre[edge.source], centre[edge.target]):
            ET.SubElement(shape, _q(DI, "waypoint"), {"x": f"{x:g}", "y": f"{y:g}"})


def import_bpmn(text: str) -> tuple[WorkflowBody, list[str]]:
    """A workflow body from BPMN 2.0 XML, and what could not be carried over.

    Raises:
        ValidationFailed: the text is not BPMN 2.0 XML, or holds no process.
    """
    try:
        root = SafeET.fromstring(text)
    except (ParseError, DefusedXmlException) as error:
        raise ValidationFailed(f"不是有效的 XML：{error}", field="BPMN 文件") from None
    process = root.find(_q(BPMN, "process"))
    if root.tag != _q(BPMN, "definitions") or process is None:
        raise ValidationFailed("不是 BPMN 2.0 文件：缺少 definitions/process", field="BPMN 文件")
    bounds = _bounds(root)
    steps: list[dict] = []
    transitions: list[dict] = []
    skipped: list[str] = []
    for element in process:
        local = element.tag.rsplit("}", 1)[-1]
        if local == "sequenceFlow":
            transitions.append(_import_flow(element))
        elif local in _KIND_OF_ELEMENT:
            steps.append(_import_step(element, _KIND_OF_ELEMENT[local], bounds))
        elif local not in {"extensionElements", "documentation", "laneSet"}:
            skipped.append(f"不支持的 BPMN 元素 {local}（{element.get('id', '')}）未导入")
    body = parse_workflow(
        {"name": process.get("name", ""), "steps": steps, "transitions": transitions}
    )
    return body, skipped


def _bounds(root: ET.Element) -> dict[str, tuple[float, float]]:
    found = {}
    for shape in root.iter(_q(BPMNDI, "BPMNShape")):
        box = shape.find(_q(DC, "Bounds"))
        if box is not None:
            found[shape.get("bpmnElement", "")] = (
                _number(box.get("x"), "图形位置"),
                _number(box.get("y"), "图形位置"),
            )
    return found


def _import_step(element: ET.Element, kind: str, bounds: dict) -> dict:
    step_id = element.get("id", "")
    roles = _split(element.get(_q(FLOWABLE, "candidateGroups"))) or _split(
        element.get(_q(CAMUNDA, "candidateGroups"))
    )
    extra = element.find(f"{_q(BPMN, 'extensionElements')}/{_q(BDC, 'step')}")
    x, y = bounds.get(step_id, (0.0, 0.0))
    return {
        "id": step_id,
        "name": element.get("name", ""),
        "kind": kind,
        "x": x,
        "y": y,
        "roles": roles if kind == "task" else [],
        "actions": _split(extra.get("actions")) if extra is not None else [],
        "editable_fields": _split(extra.get("editableFields")) if extra is not None else [],
        "limit_workdays": _number(extra.get("limitWorkdays"), "环节时限")
        if extra is not None
        else 0,
    }


def _number(text: str | None, what: str) -> float:
    try:
        return float(text or 0)
    except ValueError:
        raise ValidationFailed(f"{what} {text} 不是数字", field="BPMN 文件") from None


def _import_flow(element: ET.Element) -> dict:
    expression = element.find(_q(BPMN, "conditionExpression"))
    return {
        "id": element.get("id", ""),
        "source": element.get("sourceRef", ""),
        "target": element.get("targetRef", ""),
        "condition": (expression.text or "").strip() if expression is not None else "",
    }
