"""BPMN 2.0 XML out, so Flowable, Camunda or SpiffWorkflow can run a design made here.

Roles travel as ``candidateGroups`` in both engines' namespaces; what BPMN has no word for
(step permissions, editable fields, step time limits) travels in ``extensionElements`` under
the console's own namespace, which engines ignore, and so does whatever an imported file held
that the designer cannot show (``bdc:kept``, the original XML as text). Conditions are in the
expression language declared on the document (see ``conditions``). Positions go in the
diagram section, so a modeller opens the design as it was drawn. Reading is ``bpmn_reading``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass

from console.workflows.conditions import EXPRESSION_LANGUAGE
from console.workflows.schema import Kept, Step, Transition, WorkflowBody

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
_SIZE = {"start": (36, 36), "end": (36, 36), "gateway": (50, 50), "task": (120, 60)}

for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)


def q(namespace: str, name: str) -> str:
    """A qualified name in ElementTree's form, ``{namespace}name``."""
    return f"{{{namespace}}}{name}"


# An XML NCName starts with a letter or "_": a key such as 2024一般 cannot be an id as it is.
_NCNAME_START = re.compile(r"^[A-Za-z_]")


def process_id(key: str) -> str:
    """The process element's id for a workflow key: the key, made a valid NCName if needed."""
    return key if _NCNAME_START.match(key) else f"Process_{key}"


def export_bpmn(body: WorkflowBody, *, key: str, version: int) -> str:
    """The workflow as a BPMN 2.0 document (UTF-8 text)."""
    ids = _Ids(body)
    ident = ids.fresh(process_id(key))
    root = ET.Element(
        q(BPMN, "definitions"),
        {
            "id": ids.fresh(f"Definitions_{ident}"),
            "targetNamespace": "urn:bdc-console:processes",
            "expressionLanguage": EXPRESSION_LANGUAGE,
            "exporter": "BDC Console",
            "exporterVersion": str(version),
        },
    )
    process = ET.SubElement(
        root, q(BPMN, "process"), {"id": ident, "name": body.name, "isExecutable": "true"}
    )
    kept = _kept_by_owner(body)
    _extensions(process, kept.pop("", []))
    edges = _Edges.of(body)
    for step in body.steps:
        _export_step(process, step, edges, kept.get(step.id, []))
    for edge in body.transitions:
        _export_flow(process, edge, kept.get(edge.id, []))
    _export_diagram(root, ident, body, ids)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _kept_by_owner(body: WorkflowBody) -> dict[str, list[Kept]]:
    """Kept parts by the step or transition they belong to; the rest under "" (the process)."""
    owners = {step.id for step in body.steps} | {edge.id for edge in body.transitions}
    grouped: dict[str, list[Kept]] = defaultdict(list)
    for part in body.kept:
        grouped[part.element if part.element in owners else ""].append(part)
    return grouped


def _extensions(element: ET.Element, kept: list[Kept]) -> ET.Element | None:
    """The element's extensionElements holding the kept parts (None when there are none)."""
    if not kept:
        return None
    extensions = ET.SubElement(element, q(BPMN, "extensionElements"))
    for part in kept:
        attributes = {"element": part.element, "kind": part.kind}
        if part.value or part.kind.startswith("@"):
            attributes["value"] = part.value
        ET.SubElement(extensions, q(BDC, "kept"), attributes).text = part.xml or None
    return extensions


def _export_flow(process: ET.Element, edge: Transition, kept: list[Kept]) -> None:
    attributes = {"id": edge.id, "sourceRef": edge.source, "targetRef": edge.target}
    if edge.name:
        attributes["name"] = edge.name
    flow = ET.SubElement(process, q(BPMN, "sequenceFlow"), attributes)
    _extensions(flow, kept)
    if edge.condition.strip():
        expression = ET.SubElement(
            flow,
            q(BPMN, "conditionExpression"),
            {q(XSI, "type"): "bpmn:tFormalExpression", "language": EXPRESSION_LANGUAGE},
        )
        expression.text = edge.condition


class _Ids:
    """Ids the export makes up (process, diagram, shapes), never equal to a design's own."""

    def __init__(self, body: WorkflowBody) -> None:
        self.taken = {step.id for step in body.steps} | {edge.id for edge in body.transitions}

    def fresh(self, wanted: str) -> str:
        candidate, n = wanted, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{wanted}_{n}"
        self.taken.add(candidate)
        return candidate


@dataclass(frozen=True)
class _Edges:
    """Each step's incoming and outgoing transitions (looked up once, not per step)."""

    into: dict[str, list[Transition]]
    out_of: dict[str, list[Transition]]

    @classmethod
    def of(cls, body: WorkflowBody) -> _Edges:
        into: dict[str, list[Transition]] = defaultdict(list)
        out_of: dict[str, list[Transition]] = defaultdict(list)
        for edge in body.transitions:
            into[edge.target].append(edge)
            out_of[edge.source].append(edge)
        return cls(into, out_of)


def _export_step(process: ET.Element, step: Step, edges: _Edges, kept: list[Kept]) -> None:
    attributes = {"id": step.id, "name": step.name}
    if step.kind == "task" and step.roles:
        groups = ",".join(step.roles)
        attributes[q(FLOWABLE, "candidateGroups")] = groups
        attributes[q(CAMUNDA, "candidateGroups")] = groups
    if step.kind == "gateway":
        # Engines take the exit without a condition only when it is named the default.
        default = [e.id for e in edges.out_of.get(step.id, []) if not e.condition]
        if default:
            attributes["default"] = default[0]
    element = ET.SubElement(process, q(BPMN, _ELEMENT_OF_KIND[step.kind]), attributes)
    extensions = _extensions(element, kept)
    if step.kind == "task":
        if extensions is None:
            extensions = ET.SubElement(element, q(BPMN, "extensionElements"))
        ET.SubElement(
            extensions,
            q(BDC, "step"),
            {
                "actions": ",".join(step.actions),
                "editableFields": ",".join(step.editable_fields),
                "limitWorkdays": f"{step.limit_workdays:g}",
            },
        )
    for edge in edges.into.get(step.id, []):
        ET.SubElement(element, q(BPMN, "incoming")).text = edge.id
    for edge in edges.out_of.get(step.id, []):
        ET.SubElement(element, q(BPMN, "outgoing")).text = edge.id


def _export_diagram(root: ET.Element, ident: str, body: WorkflowBody, ids: _Ids) -> None:
    diagram = ET.SubElement(root, q(BPMNDI, "BPMNDiagram"), {"id": ids.fresh(f"Diagram_{ident}")})
    plane = ET.SubElement(
        diagram, q(BPMNDI, "BPMNPlane"), {"id": ids.fresh(f"Plane_{ident}"), "bpmnElement": ident}
    )
    centre: dict[str, tuple[float, float]] = {}
    for step in body.steps:
        width, height = _SIZE[step.kind]
        centre[step.id] = (step.x + width / 2, step.y + height / 2)
        shape = ET.SubElement(
            plane,
            q(BPMNDI, "BPMNShape"),
            {"id": ids.fresh(f"{step.id}_di"), "bpmnElement": step.id},
        )
        ET.SubElement(
            shape,
            q(DC, "Bounds"),
            {"x": f"{step.x:g}", "y": f"{step.y:g}", "width": str(width), "height": str(height)},
        )
    for edge in body.transitions:
        if edge.source not in centre or edge.target not in centre:
            continue
        shape = ET.SubElement(
            plane, q(BPMNDI, "BPMNEdge"), {"id": ids.fresh(f"{edge.id}_di"), "bpmnElement": edge.id}
        )
        for x, y in (centre[edge.source], centre[edge.target]):
            ET.SubElement(shape, q(DI, "waypoint"), {"x": f"{x:g}", "y": f"{y:g}"})
