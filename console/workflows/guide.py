"""办事指南: the public guide of a business, put together from its definition.

The process, materials and time limit come from the definition itself, so the guide can never
disagree with what the registration system runs; the scope, legal basis, fee basis and notes
are the administrator's text.
"""

from __future__ import annotations

import networkx as nx

from console.workflows.models import LEGAL_LIMIT_WORKDAYS
from console.workflows.schema import GUIDE_LABELS, MATERIAL_FORMS, BusinessBody, WorkflowBody


def process_order(workflow: WorkflowBody) -> list[str]:
    """Task names in the order a case meets them (breadth first from the start)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(step.id for step in workflow.steps)
    graph.add_edges_from((edge.source, edge.target) for edge in workflow.transitions)
    starts = [step.id for step in workflow.steps if step.kind == "start"]
    names = {step.id: step.name for step in workflow.steps if step.kind == "task"}
    if not starts or starts[0] not in graph:
        return list(names.values())
    ordered = [node for node in nx.bfs_tree(graph, starts[0]) if node in names]
    return [names[node] for node in ordered] + [
        name for node, name in names.items() if node not in ordered
    ]


def _material_line(number: int, material) -> str:
    parts = [
        MATERIAL_FORMS.get(material.form, material.form) + f" {material.count} 份",
        "必收" if material.required else "非必收",
        "可提交电子材料" if material.electronic else "须提交纸质材料",
    ]
    spec = f"。{material.spec}" if material.spec else ""
    return f"{number}. {material.name}（{'，'.join(parts)}）{spec}"


def compose_guide(*, business: BusinessBody, tasks: list[str]) -> str:
    """The guide as plain text, one numbered part per line group."""
    limit = business.time_limit_workdays
    sections = [
        (GUIDE_LABELS["scope"], business.guide.scope or "—"),
        (GUIDE_LABELS["basis"], business.guide.basis or "—"),
        ("办理流程", " → ".join(["申请", *tasks, "办结"]) if tasks else "—"),
        (
            "申请材料",
            "\n".join(_material_line(i, m) for i, m in enumerate(business.materials, 1)) or "—",
        ),
        (
            "办理时限",
            f"自受理之日起 {limit} 个工作日内办结（法定时限 {LEGAL_LIMIT_WORKDAYS} 个工作日）"
            if limit
            else "即时办结",
        ),
        (GUIDE_LABELS["fee_basis"], business.guide.fee_basis or "—"),
        (GUIDE_LABELS["notes"], business.guide.notes or "—"),
    ]
    numerals = "一二三四五六七"
    lines = [f"{business.name}办事指南"]
    for numeral, (title, text) in zip(numerals, sections, strict=True):
        lines.append(f"{numeral}、{title}：\n{text}")
    return "\n".join(lines)
