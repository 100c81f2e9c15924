"""流程配置 drafts: create a definition, save, start or discard its draft, BPMN in and out.

A draft may hold problems (designs are saved half done); ``publish_service`` refuses them.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import NotFound, ValidationFailed
from console.dictionaries import lookup
from console.workflows import bpmn, bpmn_reading
from console.workflows.bpmn_reading import ProcessPreview, Unrepresented
from console.workflows.models import Definition, Kind, Status
from console.workflows.rules import BUSINESS_CODE, Problem
from console.workflows.schema import dumps, parse_business, parse_workflow
from console.workflows.service import (
    DefinitionView,
    body_of,
    editable,
    get_definition,
    guard,
    kind_label,
    log_change,
    problems_of,
    province_code,
    readable,
    registration_type_of,
    version_body,
    viewing_tenant,
)
from console.workflows.store import draft_of, new_version, owned, published, version_numbered

WORKFLOW_KEY_CHARS = "字母、数字、下划线"


def _starting_body(kind: Kind, key: str, name: str) -> str:
    if kind == Kind.WORKFLOW:
        return dumps(
            parse_workflow(
                {
                    "name": name,
                    "steps": [
                        {"id": "start", "name": "申请", "kind": "start", "x": 0, "y": 0},
                        {"id": "end", "name": "办结", "kind": "end", "x": 0, "y": 220},
                    ],
                }
            )
        )
    # The business dictionary's 登记类型 of the code, never its first three digits.
    return dumps(parse_business({"name": name, "registration_type": registration_type_of(key)}))


def create_definition(
    *, session: Session, actor: Actor, kind: Kind, key: str, name: str
) -> DefinitionView:
    """A new definition of the viewing tenant, starting as draft v1.

    The province creates templates; a county creates only what has no province template.
    """
    key, name = key.strip(), name.strip()
    tenant = guard(actor, "write", kind, key)
    if kind == Kind.BUSINESS and not BUSINESS_CODE.match(key):
        raise ValidationFailed("业务代码应为 7 位数字", field="业务代码")
    if kind == Kind.WORKFLOW and not key.replace("_", "").isalnum():
        raise ValidationFailed(f"流程标识只能包含{WORKFLOW_KEY_CHARS}", field="流程标识")
    if not 1 <= len(name) <= 60:
        raise ValidationFailed("名称应为 1–60 个字", field="名称")
    if owned(session, kind, key, tenant) is not None:
        raise ValidationFailed(f"{kind_label(kind)} {key} 已存在", field="标识")
    if tenant != province_code() and owned(session, kind, key, province_code()) is not None:
        raise ValidationFailed(
            f"省级已有{kind_label(kind)} {key} 的模板，请使用「本地覆盖」", field="标识"
        )
    definition = Definition(
        kind=kind.value, key=key, tenant_code=tenant, name=name, created_by=actor.account
    )
    session.add(definition)
    session.flush()
    new_version(session, actor, definition, _starting_body(kind, key, name), "新建")
    log_change(session, actor, definition, "create", {})
    return get_definition(session=session, actor=actor, kind=kind, key=key)


def save_draft(
    *, session: Session, actor: Actor, kind: Kind, key: str, body: dict[str, Any] | str
) -> list[Problem]:
    """Store the draft (made from the newest version if there is none); returns its problems.

    A draft may hold problems — designs are saved half done; publishing refuses them.

    Raises:
        ValidationFailed: the body has the wrong shape (a field of the wrong type or length).
    """
    definition = editable(session, actor, kind, key, action="write")
    parsed = body_of(kind, body)
    text = dumps(parsed)
    draft = draft_of(session, definition)
    if draft is None:
        latest = published(session, definition)
        based_on = f"v{latest.number}" if latest else ""
        draft = new_version(session, actor, definition, text, based_on)
    elif draft.body == text:
        return problems_of(session, definition, parsed)
    else:
        draft.body = text
        draft.updated_at = utcnow()
        session.add(draft)
    log_change(session, actor, definition, "save_draft", {"version": draft.number})
    return problems_of(session, definition, parsed)


def new_draft(*, session: Session, actor: Actor, kind: Kind, key: str, from_number: int) -> int:
    """A draft copied from a published version; returns the draft's number."""
    definition = editable(session, actor, kind, key, action="write")
    if draft_of(session, definition) is not None:
        raise ValidationFailed("已有草稿：请先发布或放弃当前草稿", field="版本")
    source = version_numbered(session, definition, from_number)
    if source is None:
        raise NotFound(f"版本 v{from_number} 不存在", field="版本")
    draft = new_version(session, actor, definition, source.body, f"v{from_number}")
    log_change(
        session, actor, definition, "new_draft", {"version": draft.number, "from": from_number}
    )
    return draft.number


def discard_draft(*, session: Session, actor: Actor, kind: Kind, key: str) -> None:
    """Throw the draft away (published versions stay)."""
    definition = editable(session, actor, kind, key, action="write")
    draft = draft_of(session, definition)
    if draft is None:
        raise NotFound("没有草稿", field="版本")
    draft.status = Status.DISCARDED.value
    draft.updated_at = utcnow()
    session.add(draft)
    log_change(session, actor, definition, "discard_draft", {"version": draft.number})


# ---- BPMN -------------------------------------------------------------------------------


def export_bpmn(*, session: Session, actor: Actor, key: str, number: int) -> str:
    """BPMN 2.0 XML of one version of a workflow (logged as an export)."""
    body = parse_workflow(
        version_body(session=session, actor=actor, kind=Kind.WORKFLOW, key=key, number=number)
    )
    definition, _ = readable(session, actor, Kind.WORKFLOW, key)
    log_change(
        session,
        actor,
        definition,
        "export_bpmn",
        {"version": number},
        tenant=viewing_tenant(actor),
    )
    return bpmn.export_bpmn(body, key=key, version=number)


def role_of_lane(name: str) -> str | None:
    """The 岗位 a BPMN lane stands for: its name or id is a role's code or label."""
    wanted = name.strip()
    if not wanted:
        return None
    for code, label in lookup.labels("workflow_role").items():
        if wanted in {code, label}:
            return code
    return None


def preview_bpmn(*, session: Session, actor: Actor, key: str, text: str) -> list[ProcessPreview]:
    """The processes a BPMN file holds, each with its lanes and what an import leaves out."""
    editable(session, actor, Kind.WORKFLOW, key, action="write")  # refuse before parsing
    return bpmn_reading.read_processes(text, role_of=role_of_lane)


def import_bpmn(
    *, session: Session, actor: Actor, key: str, text: str, process_id: str = ""
) -> tuple[list[Problem], list[Unrepresented]]:
    """Replace the workflow's draft by one process of a BPMN file.

    Returns the draft's problems and what the designer cannot show (kept for export).
    """
    definition = editable(session, actor, Kind.WORKFLOW, key, action="write")  # before parsing
    body, preview = bpmn_reading.import_process(text, process_id=process_id, role_of=role_of_lane)
    problems = save_draft(
        session=session,
        actor=actor,
        kind=Kind.WORKFLOW,
        key=key,
        body=body.model_dump(mode="json"),
    )
    detail = {"process": preview.id, "steps": preview.steps, "kept": len(preview.unrepresented)}
    log_change(session, actor, definition, "import_bpmn", detail)
    return problems, preview.unrepresented
