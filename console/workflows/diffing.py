"""Side-by-side differences of two versions, item by item (steps by id, materials by name …)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from console.workflows.schema import (
    ACTIONS,
    FIELD_CHECKS,
    FIELD_TYPES,
    GUIDE_LABELS,
    MATERIAL_FORMS,
    STEP_KINDS,
)


@dataclass(frozen=True)
class DiffRow:
    """One changed item: what it is, how it changed, both sides as text."""

    section: str
    item: str
    change: str
    left: str
    right: str


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _step_text(step: dict[str, Any]) -> str:
    parts = [f"{STEP_KINDS.get(step['kind'], step['kind'])}「{step['name']}」"]
    if step.get("roles"):
        parts.append("岗位 " + "、".join(step["roles"]))
    if step.get("actions"):
        parts.append("权限 " + "、".join(ACTIONS.get(a, a) for a in step["actions"]))
    if step.get("editable_fields"):
        parts.append("可编辑 " + "、".join(step["editable_fields"]))
    if step.get("limit_workdays"):
        parts.append(f"时限 {step['limit_workdays']:g} 个工作日")
    return "；".join(parts)


def _edge_key(edge: dict[str, Any], names: dict[str, str]) -> str:
    source, target = edge["source"], edge["target"]
    return f"{names.get(source, source)} → {names.get(target, target)}"


def _transition_text(edge: dict[str, Any], names: dict[str, str]) -> str:
    text = _edge_key(edge, names)
    if edge.get("name"):
        text = f"{text}「{edge['name']}」"
    return f"{text}（条件 {edge['condition']}）" if edge.get("condition") else text


def _kept_text(body: dict[str, Any]) -> str:
    """What an imported BPMN file held that the designer cannot show, counted by kind."""
    kinds: dict[str, int] = {}
    for part in body.get("kept", []):
        kinds[part["kind"]] = kinds.get(part["kind"], 0) + 1
    counted = "、".join(f"{kind} {count} 项" for kind, count in sorted(kinds.items()))
    # Same kinds and counts can still be other content: a digest tells them apart.
    digest = hashlib.sha256(json.dumps(body.get("kept", []), sort_keys=True).encode()).hexdigest()
    return f"{counted}（内容摘要 {digest[:8]}）" if counted else ""


def _field_text(field: dict[str, Any]) -> str:
    parts = [f"{field['label']}（{field['name']}）", FIELD_TYPES.get(field["type"], field["type"])]
    if field.get("required"):
        parts.append("必填")
    if field.get("dictionary"):
        parts.append(f"字典 {field['dictionary']}")
    if field.get("check"):
        parts.append(FIELD_CHECKS.get(field["check"], field["check"]))
    return "；".join(parts)


def _material_text(material: dict[str, Any]) -> str:
    return "；".join(
        [
            material["name"],
            "必收" if material["required"] else "非必收",
            MATERIAL_FORMS.get(material["form"], material["form"]),
            f"{material['count']} 份",
            f"可收电子材料 {_yes(material['electronic'])}",
        ]
        + ([material["spec"]] if material.get("spec") else [])
    )


def _compare(
    section: str,
    left: list[dict[str, Any]],
    right: list[dict[str, Any]],
    key: Callable[[dict[str, Any]], str],
    text: Callable[[dict[str, Any]], str],
    signature: Callable[[dict[str, Any]], object] | None = None,
) -> list[DiffRow]:
    """Items matched by ``key``; changed when their ``signature`` (default: text) differs."""
    same = signature or text
    before = {key(item): item for item in left}
    after = {key(item): item for item in right}
    rows = []
    for item in list(before) + [k for k in after if k not in before]:
        old, new = before.get(item), after.get(item)
        if old is not None and new is not None and same(old) == same(new):
            continue
        change = "新增" if old is None else "删除" if new is None else "修改"
        rows.append(
            DiffRow(
                section,
                item,
                change,
                text(old) if old is not None else "",
                text(new) if new is not None else "",
            )
        )
    return rows


def _scalars(section: str, labels: dict[str, str], left: dict, right: dict) -> list[DiffRow]:
    return _compare(
        section,
        [{"k": k, "v": left.get(k, "")} for k in labels],
        [{"k": k, "v": right.get(k, "")} for k in labels],
        lambda item: labels[item["k"]],
        lambda item: str(item["v"]),
    )


def diff_workflows(left: dict[str, Any], right: dict[str, Any]) -> list[DiffRow]:
    """What changed from ``left`` to ``right`` (positions on the canvas are not a change).

    Steps and transitions are matched by id; each side is described with its own names.
    """
    old = {s["id"]: s["name"] for s in left["steps"]}
    new = {s["id"]: s["name"] for s in right["steps"]}
    labels = {e["id"]: _edge_key(e, old) for e in left["transitions"]} | {
        e["id"]: _edge_key(e, new) for e in right["transitions"]
    }
    edges = _compare(
        "连线",
        [{**e, "_text": _transition_text(e, old)} for e in left["transitions"]],
        [{**e, "_text": _transition_text(e, new)} for e in right["transitions"]],
        lambda e: labels[e["id"]],
        lambda e: e["_text"],
        # A renamed step is a change of the step, not of the transitions touching it.
        lambda e: (e["source"], e["target"], e.get("condition", ""), e.get("name", "")),
    )
    kept = {"name": "导入时保留的 BPMN 内容"}
    return [
        *_scalars("流程", {"name": "流程名称"}, left, right),
        *(
            _scalars("流程", kept, {"name": _kept_text(left)}, {"name": _kept_text(right)})
            if left.get("kept") != right.get("kept")
            else []
        ),
        *_compare("环节", left["steps"], right["steps"], lambda s: s["id"], _step_text),
        *edges,
    ]


_BUSINESS_SCALARS = {
    "name": "业务名称",
    "registration_type": "登记类型",
    "right_type": "权利类型",
    "time_limit_workdays": "承诺时限（工作日）",
    "workflow": "绑定流程",
}


def diff_businesses(left: dict[str, Any], right: dict[str, Any]) -> list[DiffRow]:
    """What changed from ``left`` to ``right``, section by section."""
    return [
        *_scalars("基本信息", _BUSINESS_SCALARS, left, right),
        *_compare("表单", left["form"], right["form"], lambda f: f["name"], _field_text),
        *_compare(
            "材料", left["materials"], right["materials"], lambda m: m["name"], _material_text
        ),
        *_compare(
            "意见模板",
            left["opinions"],
            right["opinions"],
            lambda o: o["step"],
            lambda o: o["text"],
        ),
        *_scalars("办事指南", GUIDE_LABELS, left["guide"], right["guide"]),
    ]
