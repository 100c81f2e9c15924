"""流程配置 publishing: a checked draft becomes the version served, and never changes again.

Publishing a province business also keeps its promised time limit (``limits``) in step;
办理时效 changes a limit through ``publish_time_limit``, as a new published version.
"""

from __future__ import annotations

import json

from sqlmodel import Session, select

from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import NotFound, ValidationFailed
from console.workflows.draft_service import save_draft
from console.workflows.limits import keep_time_limit
from console.workflows.models import Definition, Kind, Status
from console.workflows.rules import Problem, check_business
from console.workflows.schema import BusinessBody, WorkflowBody, parse_business
from console.workflows.service import (
    body_of,
    editable,
    known_code,
    log_change,
    problems_of,
    province_code,
    registration_type_of,
    resolve,
    viewing_tenant,
)
from console.workflows.store import draft_of, owned, published


def publish(
    *,
    session: Session,
    actor: Actor,
    kind: Kind,
    key: str,
    note: str = "",
    expected_draft: int | None = None,
) -> int:
    """Publish the draft: from now on it is served and never changes. Returns its number.

    ``expected_draft`` is the draft the publisher looked at: someone else's newer draft is
    never published in its place.

    Raises:
        ValidationFailed: the draft still has problems (the first is named, with the count),
            or it is not the draft the publisher saw.
    """
    definition = editable(session, actor, kind, key, action="approve")
    draft = draft_of(session, definition)
    if draft is None:
        raise ValidationFailed("没有可发布的草稿", field="版本")
    if expected_draft is not None and draft.number != expected_draft:
        raise ValidationFailed(
            f"草稿已变为 v{draft.number}（他人刚刚修改），请重新打开核对后再发布", field="版本"
        )
    if len(note) > 200:
        raise ValidationFailed("发布说明不能超过 200 字", field="发布说明")
    parsed = body_of(kind, draft.body)
    problems = problems_of(session, definition, parsed)
    if isinstance(parsed, WorkflowBody):
        problems = problems or _bound_business_problems(session, definition, parsed)
    if problems:
        more = f"（共 {len(problems)} 处问题）" if len(problems) > 1 else ""
        raise ValidationFailed(f"不能发布：{problems[0].message}{more}", field="发布")
    if parsed.name and parsed.name != definition.name:
        definition.name = parsed.name  # the list shows the name in force, not a draft's
        session.add(definition)
    draft.status = Status.PUBLISHED.value
    draft.note = note.strip()
    draft.published_by = actor.account
    draft.published_at = utcnow()
    session.add(draft)
    if isinstance(parsed, BusinessBody) and definition.tenant_code == province_code():
        # The province's promised limit is what 办理时效 measures every county against.
        keep_time_limit(
            session,
            business_code=key,
            workdays=parsed.time_limit_workdays,
            basis=f"业务定义 v{draft.number}",
            account=actor.account,
        )
    log_change(session, actor, definition, "publish", {"version": draft.number, "note": note})
    return draft.number


def _bound_business_problems(
    session: Session, workflow: Definition, body: WorkflowBody
) -> list[Problem]:
    """What the new workflow would break in the owner's published businesses bound to it."""
    tenant = workflow.tenant_code
    problems = []
    for business in session.exec(
        select(Definition).where(
            Definition.kind == Kind.BUSINESS.value,
            Definition.tenant_code.in_(sorted({tenant, province_code()})),  # type: ignore[attr-defined]
            Definition.reverted_at.is_(None),  # type: ignore[union-attr]
        )
    ).all():
        try:
            shown, version = resolve(session, kind=Kind.BUSINESS, key=business.key, tenant=tenant)
        except NotFound:
            continue
        parsed = parse_business(version.body)
        if shown.id != business.id or parsed.workflow != workflow.key:
            continue
        found = check_business(
            business.key,
            parsed,
            workflow=body,
            known=known_code,
            registration_type_of=registration_type_of,
        )
        for problem in found:
            problems.append(Problem(f"业务 {business.key}：{problem.message}", field="绑定业务"))
    return problems


# ---- promised limits changed from 办理时效 ---------------------------------------------------


def has_template(session: Session, *, kind: Kind, key: str) -> bool:
    """Whether the province has a definition of ``key``."""
    return owned(session, kind, key, province_code()) is not None


def publish_time_limit(
    *, session: Session, actor: Actor, business_code: str, workdays: int, basis: str
) -> int:
    """A new published version of the province business with only its promised limit changed.

    Raises:
        ValidationFailed: the business has an unpublished draft (decide it in 流程配置 first).
    """
    if viewing_tenant(actor) != province_code():
        raise ValidationFailed("承诺办结时限全省统一，请在全省视图中修改", field="承诺时限")
    template = owned(session, Kind.BUSINESS, business_code, province_code())
    if template is None:
        raise NotFound(f"业务 {business_code} 不存在")
    if draft_of(session, template) is not None:
        raise ValidationFailed(
            f"业务 {business_code} 有未发布的草稿：请在「流程配置」中修改承诺时限并发布",
            field="承诺时限",
        )
    current = published(session, template)
    body = json.loads(current.body) if current else {}
    body["time_limit_workdays"] = workdays
    save_draft(session=session, actor=actor, kind=Kind.BUSINESS, key=business_code, body=body)
    note = f"调整承诺时限为 {workdays} 个工作日" + (f"：{basis.strip()}" if basis.strip() else "")
    return publish(
        session=session, actor=actor, kind=Kind.BUSINESS, key=business_code, note=note[:200]
    )
