"""What makes a workflow or a business publishable, each problem said in Chinese.

Drafts may hold problems (a design is saved half done); publishing refuses while any remain.
Each problem names the step, transition or field it is about, so the designer can mark it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import networkx as nx

from console.workflows import conditions
from console.workflows.schema import BusinessBody, WorkflowBody

BUSINESS_CODE = re.compile(r"^\d{7}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# What an opinion template may say about its case; a registration system fills the same names.
PLACEHOLDERS: dict[str, str] = {
    "业务名称": "business_name",
    "受理编号": "case_no",
    "受理日期": "accepted_date",
    "申请人": "applicant",
    "权利人": "holder",
    "坐落": "location",
    "不动产单元号": "unit_no",
    "办理人": "handler",
    "日期": "today",
    "登记机构": "office",
}


@dataclass(frozen=True)
class Problem:
    """One reason a definition cannot be published; ``ref`` is a step or transition id."""

    message: str
    ref: str = ""
    field: str = ""


def _name(step_names: Mapping[str, str], step_id: str) -> str:
    return step_names.get(step_id) or step_id


def check_workflow(
    body: WorkflowBody, *, role_known: Callable[[str], bool] | None = None
) -> list[Problem]:
    """Every problem of a workflow graph, in a stable order."""
    problems: list[Problem] = []
    steps = {step.id: step for step in body.steps}
    names = {step.id: step.name for step in body.steps}
    if not body.name.strip():
        problems.append(Problem("流程名称不能为空", field="名称"))
    ids = Counter([step.id for step in body.steps] + [edge.id for edge in body.transitions])
    for duplicate in sorted(ref for ref, count in ids.items() if count > 1):
        problems.append(
            Problem(f"标识 {duplicate} 重复（环节与连线的标识须各不相同）", ref=duplicate)
        )
    starts = [step for step in body.steps if step.kind == "start"]
    if len(starts) != 1:
        problems.append(Problem(f"流程必须有且只有一个开始节点（现有 {len(starts)} 个）"))
    if not any(step.kind == "end" for step in body.steps):
        problems.append(Problem("流程至少需要一个结束节点"))
    for name, count in Counter(step.name.strip() for step in body.steps).items():
        if name and count > 1:
            for step in body.steps:
                if step.name.strip() == name:
                    problems.append(Problem(f"环节名称「{name}」重复", ref=step.id))
    for step in body.steps:
        problems.extend(_step_problems(step, role_known))
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(steps)
    for edge in body.transitions:
        problems.extend(_transition_problems(edge, steps, names))
        if edge.source in steps and edge.target in steps:
            graph.add_edge(edge.source, edge.target)
    if len(starts) == 1:
        problems.extend(_reach_problems(graph, starts[0].id, body, names))
    return problems


def _step_problems(step, role_known: Callable[[str], bool] | None) -> list[Problem]:
    problems = []
    label = step.name.strip() or step.id
    if not step.name.strip():
        problems.append(Problem(f"环节 {step.id} 未命名", ref=step.id, field="名称"))
    if step.kind == "task":
        if not step.roles:
            problems.append(Problem(f"环节「{label}」未指定办理岗位", ref=step.id, field="岗位"))
        unknown = [role for role in step.roles if role_known and not role_known(role)]
        if unknown:
            problems.append(
                Problem(f"环节「{label}」的岗位 {unknown[0]} 不在岗位字典中", ref=step.id)
            )
        if step.editable_fields and "edit" not in step.actions:
            problems.append(
                Problem(f"环节「{label}」列出了可编辑字段，但未授予编辑表单权限", ref=step.id)
            )
    elif step.roles or step.actions or step.editable_fields:
        problems.append(Problem(f"「{label}」不是办理环节，不能设置岗位和权限", ref=step.id))
    return problems


def _transition_problems(edge, steps: Mapping, names: Mapping[str, str]) -> list[Problem]:
    missing = [end for end in (edge.source, edge.target) if end not in steps]
    if missing:
        return [Problem(f"连线 {edge.id} 指向不存在的环节 {missing[0]}", ref=edge.id)]
    text = f"{_name(names, edge.source)} → {_name(names, edge.target)}"
    problems = []
    if steps[edge.source].kind == "end":
        problems.append(Problem(f"结束节点不能有出口连线（{text}）", ref=edge.id))
    if steps[edge.target].kind == "start":
        problems.append(Problem(f"开始节点不能有进入连线（{text}）", ref=edge.id))
    if edge.condition.strip() and steps[edge.source].kind != "gateway":
        problems.append(
            Problem(f"连线「{text}」设置了条件，但条件只能设在条件分支之后", ref=edge.id)
        )
    reason = conditions.problem(edge.condition)
    if reason:
        problems.append(Problem(f"连线「{text}」的条件无法识别：{reason}", ref=edge.id))
    return problems


def _reach_problems(
    graph: nx.MultiDiGraph, start: str, body: WorkflowBody, names: Mapping[str, str]
) -> list[Problem]:
    problems = []
    reachable = nx.descendants(graph, start) | {start}
    ends = [step.id for step in body.steps if step.kind == "end"]
    finishing = set(ends).union(*(nx.ancestors(graph, end) for end in ends)) if ends else set()
    for step in body.steps:
        label = _name(names, step.id)
        if step.id not in reachable:
            problems.append(Problem(f"环节「{label}」无法从开始节点到达", ref=step.id))
        elif ends and step.id not in finishing:
            problems.append(Problem(f"环节「{label}」无法到达结束节点", ref=step.id))
        if step.kind == "gateway":
            problems.extend(_gateway_problems(step, body, label))
    return problems


def _gateway_problems(step, body: WorkflowBody, label: str) -> list[Problem]:
    exits = [edge for edge in body.transitions if edge.source == step.id]
    if len(exits) < 2:
        return [Problem(f"条件分支「{label}」至少需要两条出口连线", ref=step.id)]
    if sum(1 for edge in exits if not edge.condition.strip()) > 1:
        return [Problem(f"条件分支「{label}」至多一条出口可不设条件（默认路径）", ref=step.id)]
    return []


def check_business(
    code: str,
    body: BusinessBody,
    *,
    workflow: WorkflowBody | None,
    known: Callable[[str, str], bool],
    registration_type_of: Callable[[str], str] | None = None,
) -> list[Problem]:
    """Every problem of a business definition; ``known(type_code, code)`` asks the dictionaries.

    ``registration_type_of(code)``: the business dictionary's 登记类型 of a code ("" when the
    dictionary does not say) — the type is never read from the code's first digits.
    """
    problems: list[Problem] = []
    if not BUSINESS_CODE.match(code):
        problems.append(Problem("业务代码应为 7 位数字", field="业务代码"))
    if not body.name.strip():
        problems.append(Problem("业务名称不能为空", field="业务名称"))
    if not known("registration_type", body.registration_type):
        problems.append(Problem("请选择登记类型", field="登记类型"))
    elif registration_type_of is not None and (
        (expected := registration_type_of(code)) and expected != body.registration_type
    ):
        problems.append(
            Problem(f"业务字典中 {code} 属于登记类型 {expected}，应与之一致", field="登记类型")
        )
    if body.right_type and not known("right_type", body.right_type):
        problems.append(Problem(f"权利类型 {body.right_type} 不在字典中", field="权利类型"))
    if not body.workflow:
        problems.append(Problem("请绑定流程", field="流程"))
    elif workflow is None:
        problems.append(Problem(f"流程 {body.workflow} 不存在或尚无已发布版本", field="流程"))
    problems.extend(_form_problems(body, known))
    problems.extend(_material_problems(body))
    problems.extend(_opinion_problems(body))
    if workflow is not None:
        problems.extend(_binding_problems(body, workflow))
    return problems


def _form_problems(body: BusinessBody, known: Callable[[str, str], bool]) -> list[Problem]:
    problems = []
    for name, count in Counter(field.name for field in body.form).items():
        if count > 1:
            problems.append(Problem(f"表单字段 {name} 重复", field="表单"))
    for field in body.form:
        if not FIELD_NAME.match(field.name):
            problems.append(
                Problem(
                    f"表单字段标识 {field.name or '（空）'} 应以小写字母开头，"
                    "只含小写字母、数字和下划线",
                    field="表单",
                )
            )
        if not field.label.strip():
            problems.append(Problem(f"表单字段 {field.name} 缺少显示名称", field="表单"))
        if field.type == "select" and not field.dictionary:
            problems.append(Problem(f"字典选择字段「{field.label}」须绑定字典", field="表单"))
        if field.dictionary and not known("dict_type", field.dictionary):
            problems.append(
                Problem(f"字段「{field.label}」绑定的字典 {field.dictionary} 不存在", field="表单")
            )
    return problems


def _material_problems(body: BusinessBody) -> list[Problem]:
    problems = []
    if not body.materials:
        problems.append(Problem("至少列出一项申请材料", field="材料"))
    for name, count in Counter(material.name.strip() for material in body.materials).items():
        if not name:
            problems.append(Problem("材料名称不能为空", field="材料"))
        elif count > 1:
            problems.append(Problem(f"材料「{name}」重复", field="材料"))
    return problems


def _binding_problems(body: BusinessBody, workflow: WorkflowBody) -> list[Problem]:
    problems = []
    fields = {field.name for field in body.form}
    tasks = {step.name for step in workflow.steps if step.kind == "task"}
    for step in workflow.steps:
        for name in step.editable_fields:
            if name not in fields:
                problems.append(
                    Problem(f"环节「{step.name}」的可编辑字段 {name} 不在表单中", field="表单")
                )
    for opinion in body.opinions:
        if opinion.step not in tasks:
            problems.append(
                Problem(f"意见模板所属环节「{opinion.step}」不在流程中", field="意见模板")
            )
    return problems


def _opinion_problems(body: BusinessBody) -> list[Problem]:
    problems = []
    for opinion in body.opinions:
        unknown = [p for p in PLACEHOLDER.findall(opinion.text) if p not in PLACEHOLDERS]
        if unknown:
            allowed = "、".join(f"{{{p}}}" for p in PLACEHOLDERS)
            problems.append(
                Problem(
                    f"意见模板「{opinion.step}」中的占位符 {{{unknown[0]}}} 无法识别，"
                    f"可用：{allowed}",
                    field="意见模板",
                )
            )
    return problems


def fill_opinion(text: str, case: Mapping[str, str]) -> str:
    """The template with each ``{占位符}`` replaced by the case's value (blank line if unknown)."""

    def value(match: re.Match[str]) -> str:
        key = PLACEHOLDERS.get(match.group(1))
        return str(case.get(key, "") or "＿＿＿＿") if key else match.group(0)

    return PLACEHOLDER.sub(value, text)
