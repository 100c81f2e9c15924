"""Exports are valid against the OMG BPMN 2.0 schema and run in SpiffWorkflow along every path."""

from __future__ import annotations

import pytest

from console.workflows.bpmn import export_bpmn
from console.workflows.rules import check_workflow
from console.workflows.schema import WorkflowBody, parse_workflow
from console.workflows.seed import WORKFLOWS
from tests.support import spiff


def _designed() -> WorkflowBody:
    """A design using the whole condition subset: and/or/not, numbers, strings, JUEL words."""
    task = {"kind": "task", "roles": ["review"], "actions": ["view", "approve"]}
    return parse_workflow(
        {
            "name": "抵押登记（含面积判断）",
            "steps": [
                {"id": "start", "name": "申请", "kind": "start"},
                {"id": "accept", "name": "受理", **task},
                {"id": "check", "name": "审核结果", "kind": "gateway"},
                {"id": "review2", "name": "复审", **task},
                {"id": "register", "name": "登簿", **task},
                {"id": "refused", "name": "不予登记", "kind": "end"},
                {"id": "end", "name": "办结", "kind": "end"},
            ],
            "transitions": [
                {"id": "f1", "source": "start", "target": "accept"},
                {"id": "f2", "source": "accept", "target": "check"},
                {
                    "id": "f3",
                    "source": "check",
                    "target": "accept",
                    "condition": "${result == '补正' && 次数 lt 3}",
                    "name": "补正",
                },
                {
                    "id": "f4",
                    "source": "check",
                    "target": "refused",
                    "condition": "${result eq '不予登记' || 次数 >= 3}",
                },
                {
                    "id": "f5",
                    "source": "check",
                    "target": "review2",
                    "condition": "${!(result == '补正') && 面积 > 144.5 and not 首套}",
                },
                {"id": "f6", "source": "check", "target": "register"},
                {"id": "f7", "source": "review2", "target": "register"},
                {"id": "f8", "source": "register", "target": "end"},
            ],
        }
    )


BODIES = {key: parse_workflow(data) for key, data in WORKFLOWS.items()} | {"designed": _designed()}


@pytest.mark.parametrize("key", sorted(BODIES))
def test_every_export_is_valid_against_the_bpmn_schema(key: str) -> None:
    assert check_workflow(BODIES[key]) == []
    assert spiff.xsd_errors(export_bpmn(BODIES[key], key=key, version=1)) == []


def test_the_schema_check_finds_what_is_wrong() -> None:
    text = export_bpmn(BODIES["general"], key="general", version=1)
    broken = text.replace("<bpmn:incoming>", "<bpmn:arriving>").replace(
        "</bpmn:incoming>", "</bpmn:arriving>"
    )
    assert spiff.xsd_errors(broken)


@pytest.mark.parametrize("key", sorted(BODIES))
def test_spiffworkflow_runs_the_export_along_every_path(key: str) -> None:
    body = BODIES[key]
    text = export_bpmn(body, key=key, version=1)
    walks = spiff.walks(body)
    assert walks
    for walk in walks:
        assert tuple(spiff.run(text, body, key, walk)) == walk.tasks


def test_the_designed_workflow_has_a_path_through_each_exit() -> None:
    exits = {edge.id for walk in spiff.walks(BODIES["designed"]) for edge in walk.edges}
    assert {"f3", "f4", "f5", "f6"} <= exits


def test_a_run_that_goes_another_way_than_the_path_fails() -> None:
    body = BODIES["designed"]
    text = export_bpmn(body, key="designed", version=1)
    # The engine now sends 复审 cases straight to 登簿: the harness must notice.
    swapped = text.replace('targetRef="review2"', 'targetRef="register"', 1)
    walk = next(w for w in spiff.walks(body) if "review2" in w.tasks)
    with pytest.raises(AssertionError):
        tuple(spiff.run(swapped, body, "designed", walk))
