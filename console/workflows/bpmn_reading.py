"""Reading BPMN 2.0 files made by any tool: which processes they hold, and one as a workflow.

A file may hold several processes (a collaboration of pools, or several in one file); the
administrator sees each with its lanes and what the designer cannot show, then picks one.
Nothing is dropped without a word: each element or attribute without a counterpart here is
listed by id and kind and kept (``WorkflowBody.kept``), so the next export writes it back
into the extension elements. Activities of other kinds (service tasks, sub-processes,
intermediate events …) become 办理环节 and other gateways 条件分支, so the graph stays
connected; their originals are kept whole. Lanes become step roles where a lane's name or id
is a role of the 岗位 dictionary.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
import networkx as nx
from defusedxml import DefusedXmlException
from pydantic import ValidationError

from console.core.errors import ValidationFailed
from console.workflows.bpmn import BDC, BPMN, BPMNDI, CAMUNDA, DC, FLOWABLE, NAMESPACES, q
from console.workflows.schema import Kept, Step, Transition, WorkflowBody, parse_workflow

RoleOf = Callable[[str], str | None]
MAX_PROCESSES = 100
MAX_KEPT = 20_000  # WorkflowBody's bounds
MAX_STEPS, MAX_TRANSITIONS = 2000, 4000
MAX_ROOT_ELEMENTS = 5_000  # messages, signals, item definitions … beside the processes
_FIELD = "BPMN 文件"
_KIND_OF_ELEMENT = {
    "startEvent": "start",
    "userTask": "task",
    "task": "task",
    "manualTask": "task",
    "exclusiveGateway": "gateway",
    "endEvent": "end",
}
# Drawn here as the nearest kind, the original kept whole: the graph stays connected.
_APPROXIMATED = {
    **dict.fromkeys(
        (
            "serviceTask",
            "scriptTask",
            "sendTask",
            "receiveTask",
            "businessRuleTask",
            "callActivity",
            "subProcess",
            "adHocSubProcess",
            "transaction",
            "intermediateCatchEvent",
            "intermediateThrowEvent",
        ),
        "task",
    ),
    **dict.fromkeys(
        ("parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"), "gateway"
    ),
}
_KIND_WORDS = {"task": "办理环节", "gateway": "条件分支"}
# Attributes the designer reads, and attributes whose value is BPMN's default (nothing lost).
_READ_ATTRIBUTES = {
    "id",
    "name",
    "default",
    "sourceRef",
    "targetRef",
    "isExecutable",
    q(FLOWABLE, "candidateGroups"),
    q(CAMUNDA, "candidateGroups"),
}
_DEFAULT_VALUES = {
    "startQuantity": "1",
    "completionQuantity": "1",
    "isForCompensation": "false",
    "isInterrupting": "true",
    "parallelMultiple": "false",
    "instantiate": "false",
    "gatewayDirection": None,  # any value: the graph already says it
    "implementation": "##unspecified",
    "isImmediate": None,
    "isClosed": "false",
    "processType": "None",
}
_DERIVED_CHILDREN = {"incoming", "outgoing"}
_PREFIX_OF = {
    **{uri: prefix for prefix, uri in NAMESPACES.items()},
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
    "http://camunda.org/schema/modeler/1.0": "modeler",
    "http://activiti.org/bpmn": "activiti",
    "http://www.signavio.com": "signavio",
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn",
}


@dataclass(frozen=True)
class Unrepresented:
    """Something of the file the designer cannot show: kept for export, listed for the user."""

    element: str
    kind: str
    note: str


@dataclass(frozen=True)
class LaneView:
    """A lane and the role its tasks get (``role`` is "" when no role matches its name)."""

    id: str
    name: str
    role: str
    steps: int


@dataclass
class ProcessPreview:
    """One process of a file, as the import would take it."""

    id: str
    name: str
    steps: int = 0
    transitions: int = 0
    lanes: list[LaneView] = field(default_factory=list)
    unrepresented: list[Unrepresented] = field(default_factory=list)
    problem: str = ""  # why it cannot be imported ("" when it can)


def parse_file(text: str) -> ET.Element:
    """The definitions element of a BPMN 2.0 file, parsed safely.

    Raises:
        ValidationFailed: not XML, hostile XML, or not BPMN 2.0.
    """
    try:
        root = SafeET.fromstring(text)
    except (ParseError, DefusedXmlException) as error:
        raise ValidationFailed(f"不是有效的 XML：{error}", field=_FIELD) from None
    if root.tag != q(BPMN, "definitions"):
        raise ValidationFailed("不是 BPMN 2.0 文件：缺少 definitions 根元素", field=_FIELD)
    if len(root) > MAX_ROOT_ELEMENTS:  # each process's preview reads them all again
        raise ValidationFailed(
            f"文件的顶层定义有 {len(root)} 个，超过 {MAX_ROOT_ELEMENTS} 个，请拆分后导入",
            field=_FIELD,
        )
    return root


@dataclass(frozen=True)
class _File:
    """A parsed file and what every process of it looks up: read once, not per process."""

    root: ET.Element
    bounds: dict[str, tuple[float, float]]
    pools: dict[str, str]  # participant (pool) names by the process they stand for

    @classmethod
    def parse(cls, text: str) -> _File:
        root = parse_file(text)
        pools = {
            p.get("processRef", ""): p.get("name", "")
            for p in root.iter(q(BPMN, "participant"))
            if p.get("processRef")
        }
        return cls(root, _bounds(root), pools)

    def name_of(self, process: ET.Element) -> str:
        """The process's name, else its pool's, else its id."""
        return _clean(
            process.get("name") or self.pools.get(process.get("id", "")) or process.get("id")
        )


def read_processes(text: str, *, role_of: RoleOf) -> list[ProcessPreview]:
    """Every process of the file, each with what its import would give and leave out.

    Raises:
        ValidationFailed: the file is not BPMN 2.0, or holds no process at all.
    """
    file = _File.parse(text)
    return [_preview_or_problem(file, process, role_of) for process in _processes(file.root)]


def _preview_or_problem(file: _File, process: ET.Element, role_of: RoleOf) -> ProcessPreview:
    """The process's preview; one that cannot be read says why, the others stay choosable."""
    try:
        return _Reader(file, process, role_of).preview()
    except ValidationFailed as refused:
        return ProcessPreview(
            id=process.get("id", ""), name=file.name_of(process), problem=refused.message
        )


def import_process(
    text: str, *, process_id: str = "", role_of: RoleOf
) -> tuple[WorkflowBody, ProcessPreview]:
    """One process of the file as a workflow body (the only one when ``process_id`` is "").

    Raises:
        ValidationFailed: no such process, several and none chosen, or nothing to import.
    """
    file = _File.parse(text)
    processes = _processes(file.root)
    if not process_id and len(processes) > 1:
        names = "、".join(file.name_of(p) for p in processes)
        raise ValidationFailed(
            f"文件中有 {len(processes)} 个流程（{names}），请选择一个", field=_FIELD
        )
    chosen = [p for p in processes if not process_id or p.get("id") == process_id]
    if not chosen:
        raise ValidationFailed(f"文件中没有流程 {process_id}", field=_FIELD)
    reader = _Reader(file, chosen[0], role_of)
    preview = reader.preview()
    if preview.problem:
        raise ValidationFailed(preview.problem, field=_FIELD)
    return reader.body(), preview


def _processes(root: ET.Element) -> list[ET.Element]:
    """The file's processes (refused when it has none, e.g. only a collaboration or imports)."""
    found = root.findall(q(BPMN, "process"))
    if not found:
        raise ValidationFailed(
            "文件中没有流程（process）：可能只是协作图或对其他文件的引用", field=_FIELD
        )
    if len(found) > MAX_PROCESSES:  # each is read whole for its preview: keep that bounded
        raise ValidationFailed(
            f"文件中有 {len(found)} 个流程，超过 {MAX_PROCESSES} 个，请拆分后导入", field=_FIELD
        )
    return found


def _lf(text: str) -> str:
    """Line ends as XML reads them back: a carriage return (``&#13;``) becomes a line feed."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _local(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def qualified(name: str) -> str:
    """``camunda:assignee`` for ``{http://camunda.org/schema/1.0/bpmn}assignee``."""
    if not name.startswith("{") or "}" not in name:
        return name
    uri, local = name[1:].split("}", 1)
    return f"{_PREFIX_OF.get(uri, uri)}:{local}"


def _xml(element: ET.Element) -> str:
    """The element as XML text, carriage returns made line feeds.

    A ``&#13;`` in the file would become a line feed anyway once the text is written and read
    again (XML's line-end handling): normalised now, an import of the export gives the same.
    """
    tail, element.tail = element.tail, None
    try:
        text = ET.tostring(element, encoding="unicode")
    except RecursionError:
        raise ValidationFailed("文件中元素嵌套层数过深", field=_FIELD) from None
    finally:
        element.tail = tail
    return _lf(text)


class _Reader:
    """One process of a parsed file, read into steps, transitions, lanes and kept parts."""

    def __init__(self, file: _File, process: ET.Element, role_of: RoleOf) -> None:
        self.file, self.root, self.process, self.role_of = file, file.root, process, role_of
        self.steps: list[dict] = []
        self.transitions: list[dict] = []
        self.kept: list[Kept] = []
        self.listed: list[Unrepresented] = []
        self.lanes: list[LaneView] = []
        self._read()

    # ---- what the user sees --------------------------------------------------------------

    def preview(self) -> ProcessPreview:
        problem = ""
        if not any(step["kind"] == "task" for step in self.steps):  # an empty pool, or nearly
            problem = f"流程「{self.file.name_of(self.process)}」中没有可导入的办理环节"
        elif len(self.steps) > MAX_STEPS or len(self.transitions) > MAX_TRANSITIONS:
            problem = (
                f"环节 {len(self.steps)} 个、连线 {len(self.transitions)} 条，超过设计器的上限"
                f"（{MAX_STEPS} 个环节、{MAX_TRANSITIONS} 条连线）"
            )
        elif len(self.kept) > MAX_KEPT:
            problem = f"设计器无法显示的内容有 {len(self.kept)} 项，超过 {MAX_KEPT} 项，无法保留"
        return ProcessPreview(
            id=self.process.get("id", ""),
            name=self.file.name_of(self.process),
            steps=len(self.steps),
            transitions=len(self.transitions),
            lanes=self.lanes,
            unrepresented=self.listed,
            problem=problem,
        )

    def body(self) -> WorkflowBody:
        return parse_workflow(
            {
                "name": self.file.name_of(self.process)[:60],
                "steps": self.steps,
                "transitions": self.transitions,
                "kept": [
                    k.model_dump()
                    for k in _in_export_order(self.kept, self.steps, self.transitions)
                ],
            }
        )

    # ---- reading ---------------------------------------------------------------------------

    def _keep(self, owner: str, element: ET.Element, note: str = "已保留，导出时写回") -> None:
        kind = qualified(element.tag)
        if kind.startswith("bpmn:"):
            kind = kind.removeprefix("bpmn:")
        self.kept.append(_kept(element=owner, kind=kind, xml=_xml(element)))
        own = element.get("id", "")
        # "start › timer": the part's own id, after the step it belongs to.
        shown = f"{owner} › {own}" if owner and own and own != owner else own or owner
        self.listed.append(Unrepresented(shown, kind, note))

    def _keep_attribute(self, owner: str, name: str, value: str) -> None:
        self.kept.append(_kept(element=owner, kind=f"@{name}", value=value))
        self.listed.append(Unrepresented(owner, f"属性 {qualified(name)}", "已保留，导出时写回"))

    def _read(self) -> None:
        bounds = self.file.bounds
        self._unread_attributes(self.process, "")
        nodes: dict[str, ET.Element] = {}
        for element in self.process:
            if _is_node(element):
                step_id = element.get("id", "")
                if step_id in nodes:
                    raise ValidationFailed(f"元素标识 {step_id[:80]} 重复", field=_FIELD)
                nodes[step_id] = element
        for element in self.process:
            local = _local(element)
            if _is_node(element):
                self._read_node(element, bounds)
            elif local == "sequenceFlow":
                self._read_flow(element, nodes)
            elif local == "extensionElements":
                self._read_extensions(element, "")
            elif local == "laneSet":
                self._keep("", element, "泳道划分已保留；能对应岗位的泳道已写入环节岗位")
            else:
                self._keep("", element, _process_part_note(local))
        self._read_lanes()
        self._read_surroundings()
        _place_unplaced(self.steps, self.transitions)

    def _read_node(self, element: ET.Element, bounds: dict[str, tuple[float, float]]) -> None:
        local, step_id = _local(element), element.get("id", "")
        kind = _KIND_OF_ELEMENT.get(local) or _APPROXIMATED[local]
        x, y = bounds.get(step_id, (None, None))
        step = {"id": step_id, "name": _clean(element.get("name")), "kind": kind, "x": x, "y": y}
        if len(step["name"]) > 60:
            self._keep_attribute(step_id, "name", element.get("name", ""))
            step["name"] = step["name"][:60]
        if local in _APPROXIMATED:
            self._keep(step_id, element, f"按{_KIND_WORDS[kind]}导入，原元素已保留，导出时写回")
        else:
            self._read_node_parts(element, step)
        if kind == "task":
            step["roles"] = _split(element.get(q(FLOWABLE, "candidateGroups"))) or _split(
                element.get(q(CAMUNDA, "candidateGroups"))
            )
        self.steps.append(_checked_step(step, local))

    def _read_node_parts(self, element: ET.Element, step: dict) -> None:
        owner = step["id"]
        self._unread_attributes(element, owner)
        for child in element:
            local = _local(child)
            if local in _DERIVED_CHILDREN:
                continue
            if local == "extensionElements":
                ours = child.find(q(BDC, "step"))
                if ours is not None and step["kind"] == "task":
                    step["actions"] = _split(ours.get("actions"))
                    step["editable_fields"] = _split(ours.get("editableFields"))
                    step["limit_workdays"] = _number(ours.get("limitWorkdays"), "环节时限")
                self._read_extensions(child, owner)
            else:
                self._keep(owner, child, _part_note(local))

    def _read_extensions(self, extensions: ET.Element, owner: str) -> None:
        for child in extensions:
            if child.tag == q(BDC, "step"):
                continue
            if child.tag == q(BDC, "kept"):
                self._restore(child, owner)
            else:
                self._keep(owner, child, "扩展属性，已保留，导出时写回")

    def _restore(self, element: ET.Element, owner: str) -> None:
        """A part kept by an earlier import, written back by our export: kept again."""
        kind = element.get("kind", "")
        if not kind:
            return
        belongs = element.get("element", owner)
        text = _lf(element.text or "")
        self.kept.append(
            _kept(element=belongs, kind=kind, xml=text, value=element.get("value", ""))
        )
        shown = f"属性 {qualified(kind[1:])}" if kind.startswith("@") else kind
        self.listed.append(Unrepresented(belongs, shown, "由先前导入保留，导出时写回"))

    def _unread_attributes(self, element: ET.Element, owner: str) -> None:
        for name, value in element.attrib.items():
            if name in _READ_ATTRIBUTES:
                continue
            if name in _DEFAULT_VALUES and _DEFAULT_VALUES[name] in {None, value}:
                continue
            self._keep_attribute(owner or element.get("id", ""), name, value)

    def _read_flow(self, element: ET.Element, nodes: dict[str, ET.Element]) -> None:
        flow_id = element.get("id", "")
        source, target = element.get("sourceRef", ""), element.get("targetRef", "")
        if source not in nodes or target not in nodes:
            self._keep("", element, "连接未导入的元素（如边界事件），已保留，导出时写回")
            return
        condition = ""
        self._unread_attributes(element, flow_id)
        for child in element:
            local = _local(child)
            if local == "conditionExpression":
                condition = _lf(child.text or "").strip()
                for name, value in child.attrib.items():
                    if name not in {q(NAMESPACES["xsi"], "type"), "language"}:
                        self._keep_attribute(flow_id, name, value)
            elif local == "extensionElements":
                self._read_extensions(child, flow_id)
            else:
                self._keep(flow_id, child, _part_note(local))
        transition = {
            "id": flow_id,
            "source": source,
            "target": target,
            "condition": condition,
            "name": _clean(element.get("name"))[:200],
        }
        if len(_clean(element.get("name"))) > 200:
            self._keep_attribute(flow_id, "name", element.get("name", ""))
        try:
            self.transitions.append(Transition.model_validate(transition).model_dump())
        except ValidationError as error:
            raise _element_error(flow_id, "sequenceFlow", error) from None

    def _read_lanes(self) -> None:
        role_of_step: dict[str, str] = {}
        for lane in self.process.iter(q(BPMN, "lane")):  # outer lanes first, inner ones win
            name = _clean(lane.get("name"))
            role = self.role_of(name) or self.role_of(lane.get("id", "")) or ""
            refs = [ref.text.strip() for ref in lane.findall(q(BPMN, "flowNodeRef")) if ref.text]
            self.lanes.append(LaneView(lane.get("id", ""), name, role, len(refs)))
            if role:
                role_of_step.update(dict.fromkeys(refs, role))
        for step in self.steps:
            if step["kind"] == "task" and not step["roles"] and step["id"] in role_of_step:
                step["roles"] = [role_of_step[step["id"]]]

    def _read_surroundings(self) -> None:
        """Root elements this process may use, and message flows that touch it."""
        ids = {step["id"] for step in self.steps} | {self.process.get("id", "")}
        for element in self.root:
            local = _local(element)
            if local in {"process", "collaboration", "BPMNDiagram"}:
                continue
            if element.tag.startswith(f"{{{BPMN}}}"):
                self._keep("", element, "文件级定义，已保留，导出时写回")
        for flow in self.root.iter(q(BPMN, "messageFlow")):
            if flow.get("sourceRef") in ids or flow.get("targetRef") in ids:
                self._keep("", flow, "消息流（与其他参与方之间），已保留，导出时写回")


def _in_export_order(kept: list[Kept], steps: list[dict], transitions: list[dict]) -> list[Kept]:
    """The process's own parts first, then each step's and each transition's, as exported."""
    rank = {item["id"]: index + 1 for index, item in enumerate([*steps, *transitions])}
    return sorted(kept, key=lambda part: rank.get(part.element, 0))


def _kept(**fields: str) -> Kept:
    """A kept part, or a refusal naming it when it is past what a design keeps."""
    try:
        return Kept(**fields)
    except ValidationError:
        owner = fields.get("element", "")[:80] or "（流程）"
        raise ValidationFailed(
            f"元素 {owner} 的 {fields.get('kind', '')[:40]} 过长，无法保留", field=_FIELD
        ) from None


def _is_node(element: ET.Element) -> bool:
    """A flow node the designer draws (as itself or as the nearest kind)."""
    return element.tag.startswith(f"{{{BPMN}}}") and (
        _local(element) in _KIND_OF_ELEMENT or _local(element) in _APPROXIMATED
    )


def _process_part_note(local: str) -> str:
    if local == "boundaryEvent":
        return "边界事件未导入为环节，已保留，导出时写回"
    return "已保留，导出时写回"


def _part_note(local: str) -> str:
    if local.endswith("EventDefinition"):
        return "事件定义（定时、消息、终止等），已保留，导出时写回"
    if local.endswith("LoopCharacteristics"):
        return "多实例或循环标记，已保留，导出时写回"
    if local in {"potentialOwner", "humanPerformer", "performer"}:
        return "办理人设置，已保留，导出时写回"
    return "已保留，导出时写回"


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _number(text: str | None, what: str) -> float:
    try:
        number = float(text or 0)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValidationFailed(f"{what} {text} 不是数字", field=_FIELD)
    return number


def _bounds(root: ET.Element) -> dict[str, tuple[float, float]]:
    found = {}
    for shape in root.iter(q(BPMNDI, "BPMNShape")):
        box = shape.find(q(DC, "Bounds"))
        if box is not None:
            # Whole tenths of a pixel: what the canvas draws, and what an export writes back.
            found[shape.get("bpmnElement", "")] = (
                round(_number(box.get("x"), "图形位置"), 1),
                round(_number(box.get("y"), "图形位置"), 1),
            )
    return found


def _checked_step(step: dict, local: str) -> dict:
    """The step as read; its shape checked now so a refusal names the element."""
    try:
        Step.model_validate({**step, "x": 0, "y": 0})
    except ValidationError as error:
        raise _element_error(step["id"], local, error) from None
    return step


def _element_error(element_id: str, local: str, error: ValidationError) -> ValidationFailed:
    first = error.errors()[0]
    where = {"id": "标识", "name": "名称", "condition": "条件"}.get(str(first["loc"][0]), "")
    reason = "不是有效的 XML 标识（须以字母或下划线开头）" if where == "标识" else "格式不正确"
    return ValidationFailed(
        f"元素 {element_id or '（无标识）'}（{local}）的{where}{reason}", field=_FIELD
    )


def _place_unplaced(steps: list[dict], transitions: list[dict]) -> None:
    """Positions for steps the file drew nowhere: left to right by distance from the start."""
    if all(step["x"] is not None for step in steps):
        return
    graph = nx.DiGraph()
    graph.add_nodes_from(step["id"] for step in steps)
    graph.add_edges_from((t["source"], t["target"]) for t in transitions)
    starts = [s["id"] for s in steps if s["kind"] == "start"] or [steps[0]["id"]]
    # One search from every start at once (a virtual source one step before them all).
    source = object()
    graph.add_edges_from((source, start) for start in starts)
    depth = {
        node: distance - 1
        for node, distance in nx.single_source_shortest_path_length(graph, source).items()
        if node is not source
    }
    rows: dict[int, int] = {}
    for step in steps:
        if step["x"] is None:
            column = depth.get(step["id"], max(depth.values(), default=0) + 1)
            row = rows.get(column, 0)
            rows[column] = row + 1
            step["x"], step["y"] = 40 + 180 * column, 40 + 120 * row
