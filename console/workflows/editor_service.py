"""What the 流程配置 editor offers: bindable choices, live checks, task names, opinion previews.

Nothing here writes: the editor saves through ``draft_service`` and publishes through
``publish_service``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from console.core.actor import Actor
from console.core.errors import NotFound
from console.dictionaries import lookup
from console.dictionaries.models import DictType
from console.workflows.guide import process_order
from console.workflows.models import Definition, Kind
from console.workflows.rules import Problem, fill_opinion
from console.workflows.schema import parse_workflow
from console.workflows.service import check, province_code, require_read, resolve

# What an opinion preview is filled with: a made-up case, masked as the screen shows people.
SAMPLE_CASE = {
    "business_name": "",
    "case_no": "330106-20261127-000123",
    "accepted_date": "2026年11月27日",
    "applicant": "张*明",
    "holder": "张*明",
    "location": "西湖区文三路 100 号 1 幢 1 单元 501 室",
    "unit_no": "330106001001GB00001F00010501",
    "handler": "李*",
    "today": "2026年11月27日",
    "office": "西湖区不动产登记中心",
}


@dataclass(frozen=True)
class EditorChoices:
    """The dictionaries and workflows the editor offers, as (value, label) pairs."""

    workflows: list[tuple[str, str]]
    roles: list[tuple[str, str]]
    registration_types: list[tuple[str, str]]
    right_types: list[tuple[str, str]]
    dictionaries: list[tuple[str, str]]


def editor_choices(*, session: Session, actor: Actor) -> EditorChoices:
    """What the viewing tenant may bind: its workflows (inheritance resolved) and dictionaries."""
    tenant = require_read(actor, Kind.WORKFLOW)
    owners = sorted({province_code(), tenant})
    definitions = session.exec(
        select(Definition).where(
            Definition.kind == Kind.WORKFLOW.value,
            Definition.tenant_code.in_(owners),  # type: ignore[attr-defined]
            Definition.reverted_at.is_(None),  # type: ignore[union-attr]
        )
    ).all()
    workflows = {d.key: d.name for d in definitions if d.tenant_code == province_code()}
    workflows |= {d.key: d.name for d in definitions if d.tenant_code != province_code()}
    types = session.exec(select(DictType).order_by(DictType.code)).all()

    def pairs(type_code: str) -> list[tuple[str, str]]:
        return list(lookup.labels(type_code).items())

    return EditorChoices(
        workflows=sorted(workflows.items()),
        roles=pairs("workflow_role"),
        registration_types=pairs("registration_type"),
        right_types=pairs("right_type"),
        dictionaries=[(t.code, t.name) for t in types],
    )


def check_draft(
    *, session: Session, actor: Actor, kind: Kind, key: str, body: dict[str, Any]
) -> list[Problem]:
    """The problems of an edit in progress, as publishing would see them (nothing is saved).

    Raises:
        ValidationFailed: the body has the wrong shape.
    """
    tenant = require_read(actor, kind, key)
    return check(session=session, kind=kind, key=key, tenant=tenant, body=body)


def workflow_tasks(*, session: Session, actor: Actor, key: str) -> list[str]:
    """Task names of the workflow ``key`` as the viewing tenant runs it ([] if none)."""
    tenant = require_read(actor, Kind.WORKFLOW, key)
    if not key:
        return []
    try:
        _, version = resolve(session, kind=Kind.WORKFLOW, key=key, tenant=tenant)
    except NotFound:
        return []
    return task_names(version.body)


def task_names(body: str) -> list[str]:
    """Names of a workflow's tasks, in the order a case meets them."""
    return process_order(parse_workflow(body))


def opinion_preview(text: str, business_name: str) -> str:
    """An opinion template filled from the sample case."""
    return fill_opinion(text, {**SAMPLE_CASE, "business_name": business_name})
