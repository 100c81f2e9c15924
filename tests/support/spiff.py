"""Run an exported workflow in SpiffWorkflow along every path, and check it against BPMN20.xsd.

SpiffWorkflow evaluates conditions as Python; the export declares JUEL (``${…}``). The
harness translates each condition with ``console.workflows.conditions.to_python`` — the
documented mapping — and runs the document as exported otherwise. A path is a walk from the
start to an end in which each conditional exit of a gateway is taken at most once (so a
补正 loop is walked once, then left); for each decision the harness finds variable values
that make exactly that exit's condition true (or none, for the default exit) and hands them
to the task before the gateway.
"""

from __future__ import annotations

import ast
import functools
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import CodeType
from typing import Any

import SpiffWorkflow
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser, BpmnValidator
from SpiffWorkflow.util.task import TaskState

from console.workflows.bpmn import BPMN, process_id
from console.workflows.conditions import to_python, variables
from console.workflows.schema import Transition, WorkflowBody

SCHEMAS = os.path.join(os.path.dirname(SpiffWorkflow.__file__), "bpmn", "parser", "schema")
XSD = os.path.join(SCHEMAS, "BPMN20.xsd")


def xsd_errors(text: str) -> list[str]:
    """What the OMG BPMN 2.0 schema (as SpiffWorkflow ships it) finds wrong with a document."""
    schema = etree.XMLSchema(etree.parse(XSD))
    schema.validate(etree.fromstring(text.encode("utf-8")))
    return [f"{error.line}: {error.message}" for error in schema.error_log]


@dataclass(frozen=True)
class Walk:
    """One path: the exits taken in order, and the tasks a person handles along it."""

    edges: tuple[Transition, ...]
    tasks: tuple[str, ...]
    end: str


def walks(body: WorkflowBody) -> list[Walk]:
    """Every path from the start to an end, each conditional exit taken at most once."""
    kinds = {step.id: step.kind for step in body.steps}
    exits: dict[str, list[Transition]] = {}
    for edge in body.transitions:
        exits.setdefault(edge.source, []).append(edge)
    start = next(step.id for step in body.steps if step.kind == "start")
    found: list[Walk] = []

    def walk(node: str, taken: tuple[Transition, ...]) -> None:
        if kinds[node] == "end":
            tasks = tuple(e.target for e in taken if kinds[e.target] == "task")
            found.append(Walk(taken, tasks, node))
            return
        for edge in exits.get(node, []):
            decided = kinds[node] == "gateway"
            if decided and edge in taken:
                continue
            if len(taken) > 4 * len(body.transitions):  # a loop without a decision
                raise AssertionError(f"endless loop through {node}")
            walk(edge.target, (*taken, edge))

    walk(start, ())
    return found


def _literals(conditions: list[str]) -> list[Any]:
    values: list[Any] = ["", "其他", True, False]
    for condition in conditions:
        for node in ast.walk(ast.parse(to_python(condition), mode="eval")):
            if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
                value = node.value
                values.append(value)
                if isinstance(value, int | float):
                    values.extend([value - 1, value + 1, -value])
    return list(dict.fromkeys(values))


@functools.lru_cache(maxsize=256)
def _compiled(condition: str) -> CodeType:
    return compile(to_python(condition), "<condition>", "eval")


def _holds(condition: str, data: dict[str, Any]) -> bool | None:
    """Whether the condition holds; None when the values do not fit it ("a" < 1)."""
    try:
        return bool(eval(_compiled(condition), {"__builtins__": {}}, dict(data)))
    except TypeError:
        return None


def choice(body: WorkflowBody, edge: Transition) -> dict[str, Any]:
    """Variable values under which the gateway takes ``edge`` and no other exit."""
    siblings = [e for e in body.transitions if e.source == edge.source and e.condition]
    conditions = [e.condition for e in siblings]
    names = list(dict.fromkeys(n for c in conditions for n in variables(c)))
    candidates = _literals(conditions)
    for values in itertools.product(candidates, repeat=len(names)):
        data = dict(zip(names, values, strict=True))
        held = {e.id: _holds(e.condition, data) for e in siblings}
        if None in held.values():  # the engine would stop on it: not a way through
            continue
        true = [e for e in siblings if held[e.id]]
        if (edge.condition and true == [edge]) or (not edge.condition and not true):
            return data
    raise AssertionError(f"no values take exit {edge.id} of {edge.source}")


def _spec(text: str, key: str):
    root = etree.fromstring(text.encode("utf-8"))
    for expression in root.iter(f"{{{BPMN}}}conditionExpression"):
        expression.text = to_python(expression.text or "")
    parser = BpmnParser(validator=BpmnValidator())
    parser.add_bpmn_xml(etree.ElementTree(root), filename=f"{key}.bpmn")
    return parser.get_spec(process_id(key))


def _decisions_ahead(body: WorkflowBody, walk: Walk, position: int) -> dict[str, Any]:
    """Values for every gateway decision between this point and the next task."""
    kinds = {step.id: step.kind for step in body.steps}
    data: dict[str, Any] = {}
    for edge in walk.edges[position:]:
        if kinds[edge.source] == "gateway":
            wanted = choice(body, edge)
            clash = {k for k in wanted if k in data and data[k] != wanted[k]}
            assert not clash, f"two decisions before one task need different {clash}"
            data.update(wanted)
        if kinds[edge.target] in {"task", "end"}:
            break
    return data


def run(text: str, body: WorkflowBody, key: str, walk: Walk) -> Iterator[str]:
    """Run the exported document along one path; yields each task a person completes."""
    workflow = BpmnWorkflow(_spec(text, key))
    kinds = {step.id: step.kind for step in body.steps}
    position = 0  # index into walk.edges of the next edge to leave from
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(_decisions_ahead(body, walk, 0))
    workflow.do_engine_steps()
    while not workflow.is_completed():
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        assert len(ready) == 1, f"expected one task to handle, got {ready}"
        task = ready[0]
        step = task.task_spec.bpmn_id
        arrived = next(
            i for i in range(position, len(walk.edges)) if kinds[walk.edges[i].target] == "task"
        )
        expected = walk.edges[arrived].target
        assert step == expected, f"the engine went to {step}, the path to {expected}"
        position = arrived + 1
        task.data.update(_decisions_ahead(body, walk, position))
        task.run()
        workflow.do_engine_steps()
        yield step
    ended = [
        t.task_spec.bpmn_id
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if kinds.get(t.task_spec.bpmn_id or "") == "end"
    ]
    assert ended == [walk.end], f"ended at {ended}, expected {walk.end}"
