"""流程配置: what a tenant works with — inheritance resolved, checked, listed, compared, served.

Who owns what: the province's templates belong to the province tenant; a county's override
belongs to that county. Every call acts for the *viewing tenant* — a county user's own
county, or the county a province user narrowed the view to, or the province itself.
The permission checks, the operation log and the publishing checks shared by the other
services live here: drafts in ``draft_service``, publishing in ``publish_service``, override
and revert in ``inheritance_service``, what the editor offers in ``editor_service``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text
from console.core.errors import NotFound, ValidationFailed
from console.core.paging import Page, PageRequest
from console.core.settings import get_settings
from console.dictionaries import lookup
from console.tenancy.models import Tenant, TenantLevel
from console.tenancy.scope import ensure_visible, scope_of
from console.workflows.diffing import DiffRow, diff_businesses, diff_workflows
from console.workflows.guide import compose_guide, process_order
from console.workflows.models import KIND_LABELS, STATUS_LABELS, Definition, Kind, Status, Version
from console.workflows.rules import PLACEHOLDERS, Problem, check_business, check_workflow
from console.workflows.schema import BusinessBody, WorkflowBody, parse_business, parse_workflow
from console.workflows.store import (
    active,
    draft_of,
    owned,
    published,
    version_numbered,
    versions_of,
)

OBJ = "workflows.definitions"


class Origin:
    """Where the setting a tenant works with comes from."""

    TEMPLATE = "template"  # the province's own template (viewed by the province)
    INHERITED = "inherited"  # a county follows the province template
    OVERRIDDEN = "overridden"  # a county's own copy, changed there
    LOCAL = "local"  # a county's own definition with no province template


ORIGIN_LABELS = {
    Origin.TEMPLATE: "省级模板",
    Origin.INHERITED: "继承省级模板",
    Origin.OVERRIDDEN: "本地覆盖",
    Origin.LOCAL: "本地自建",
}


@dataclass(frozen=True)
class DefinitionRow:
    """A workflow or business as the list shows it, for the viewing tenant."""

    kind: str
    key: str
    name: str
    category: str  # registration type of a business; step count of a workflow
    origin: str
    origin_label: str
    served_version: int  # 0: nothing published that applies
    has_draft: bool
    updated: str
    category_label: str = ""  # what the list shows: the 登记类型's name, not its code


@dataclass(frozen=True)
class VersionRow:
    """One version in a definition's history."""

    number: int
    status: str
    status_label: str
    based_on: str
    note: str
    created_by: str
    created: str
    published_by: str
    published: str


@dataclass(frozen=True)
class DefinitionView:
    """Everything the editor needs about one definition, for the viewing tenant."""

    kind: str
    key: str
    name: str
    tenant: str
    origin: str
    origin_label: str
    owner: str  # the tenant whose definition is shown
    versions: list[VersionRow]
    served_version: int
    draft_number: int  # 0: no draft
    body: dict[str, Any]  # the draft, or the version served, as JSON
    problems: list[Problem] = field(default_factory=list)
    template_version: int = 0  # the province template's published version, for counties


@dataclass(frozen=True)
class UsageRow:
    """Which version a tenant works with."""

    tenant_code: str
    tenant_name: str
    origin_label: str
    version: int


def province_code() -> str:
    """The province tenant, owner of the templates."""
    return get_settings().province_code


def viewing_tenant(actor: Actor) -> str:
    """The tenant an actor's calls act for."""
    return actor.context_tenant or actor.tenant_code


def kind_label(kind: Kind) -> str:
    """流程 or 业务."""
    return KIND_LABELS[kind]


def _target(kind: Kind, key: str) -> str:
    return f"{kind_label(kind)} {key}"


def resolve(session: Session, *, kind: Kind, key: str, tenant: str) -> tuple[Definition, Version]:
    """The definition and published version that apply to ``tenant``, inheritance resolved.

    A county's override applies once it has a published version; until then, and after a
    revert, the province template does.

    Raises:
        NotFound: nothing published applies.
    """
    if tenant != province_code():
        own = active(owned(session, kind, key, tenant))
        version = published(session, own)
        if own is not None and version is not None:
            return own, version
    template = owned(session, kind, key, province_code())
    version = published(session, template)
    if template is None or version is None:
        raise NotFound(f"{kind_label(kind)} {key} 未配置或尚未发布")
    return template, version


def _served_number(session: Session, kind: Kind, key: str, tenant: str) -> int:
    """The version number ``tenant`` runs, 0 when nothing published applies."""
    try:
        return resolve(session, kind=kind, key=key, tenant=tenant)[1].number
    except NotFound:
        return 0


def _origin(definition: Definition, tenant: str, has_template: bool) -> str:
    if definition.tenant_code == province_code():
        return Origin.TEMPLATE if tenant == province_code() else Origin.INHERITED
    return Origin.OVERRIDDEN if has_template else Origin.LOCAL


# ---- permissions, the operation log, the checks (shared by the other services) ------------


def require_read(actor: Actor, kind: Kind, key: str = "") -> str:
    """The viewing tenant, once the actor may read the workflow settings there."""
    tenant = viewing_tenant(actor)
    authz.require(actor, OBJ, "read", tenant=tenant, target=_target(kind, key))
    return tenant


def guard(actor: Actor, action: str, kind: Kind, key: str) -> str:
    """The viewing tenant, once the actor may ``action`` there (a refusal is logged)."""
    tenant = viewing_tenant(actor)
    target = _target(kind, key)
    authz.require(actor, OBJ, action, tenant=tenant, target=target)
    ensure_visible(actor, tenant, obj=OBJ, action=action, target=target)
    return tenant


def body_of(kind: Kind, text: str | dict[str, Any]) -> WorkflowBody | BusinessBody:
    """A version's body parsed as its kind's shape."""
    return parse_workflow(text) if kind == Kind.WORKFLOW else parse_business(text)


def readable(session: Session, actor: Actor, kind: Kind, key: str) -> tuple[Definition, bool]:
    """The definition the viewing tenant works with, and whether it is the tenant's own.

    Raises:
        NotFound: neither the tenant nor the province has it.
    """
    tenant = viewing_tenant(actor)
    own = active(owned(session, kind, key, tenant))
    if own is not None:
        return own, True
    template = owned(session, kind, key, province_code())
    if template is None:
        raise NotFound(f"{kind_label(kind)} {key} 不存在")
    return template, False


def editable(session: Session, actor: Actor, kind: Kind, key: str, *, action: str) -> Definition:
    """The viewing tenant's own active definition, once the actor may ``action`` on it."""
    tenant = guard(actor, action, kind, key)
    own = active(owned(session, kind, key, tenant))
    if own is not None:
        return own
    if tenant != province_code() and owned(session, kind, key, province_code()) is not None:
        raise ValidationFailed(
            f"{kind_label(kind)} {key} 继承自省级模板，请先「本地覆盖」再修改", field="继承"
        )
    raise NotFound(f"{kind_label(kind)} {key} 不存在")


def log_change(
    session: Session,
    actor: Actor,
    definition: Definition,
    action: str,
    detail: dict[str, Any],
    *,
    tenant: str | None = None,
) -> None:
    """One operation-log entry about ``definition`` (its owner's tenant unless told)."""
    record(
        session,
        actor=actor,
        obj=OBJ,
        action=action,
        target=_target(Kind(definition.kind), definition.key),
        tenant=tenant or definition.tenant_code,
        detail={"name": definition.name, **detail},
    )


def check(
    *, session: Session, kind: Kind, key: str, tenant: str, body: dict[str, Any]
) -> list[Problem]:
    """Every problem that would stop ``body`` from being published for ``tenant``."""
    parsed = body_of(kind, body)
    if isinstance(parsed, WorkflowBody):
        return check_workflow(parsed, role_known=lambda r: lookup.is_known("workflow_role", r))
    workflow = None
    if parsed.workflow:
        try:
            _, version = resolve(session, kind=Kind.WORKFLOW, key=parsed.workflow, tenant=tenant)
            workflow = parse_workflow(version.body)
        except NotFound:
            workflow = None
    return check_business(
        key, parsed, workflow=workflow, known=known_code, registration_type_of=registration_type_of
    )


def registration_type_of(business_code: str) -> str:
    """The business dictionary's 登记类型 of a code ("" when it does not say)."""
    return lookup.categories("business_code").get(business_code, "")


def known_code(type_code: str, code: str) -> bool:
    """Whether a dictionary (``dict_type``) or a code of one exists, for the business checks."""
    if type_code == "dict_type":
        return lookup.has_type(code)
    return lookup.is_known(type_code, code)


def problems_of(
    session: Session, definition: Definition, parsed: WorkflowBody | BusinessBody
) -> list[Problem]:
    """The problems of ``parsed`` as a body of ``definition``, for its owner."""
    return check(
        session=session,
        kind=Kind(definition.kind),
        key=definition.key,
        tenant=definition.tenant_code,
        body=parsed.model_dump(mode="json"),
    )


# ---- reading ------------------------------------------------------------------------------


def list_definitions(
    *,
    session: Session,
    actor: Actor,
    kind: Kind,
    request: PageRequest,
    search: str = "",
    category: str = "",
    origin: str = "",
) -> Page[DefinitionRow]:
    """One page of the workflows or businesses the viewing tenant works with."""
    tenant = require_read(actor, kind)
    province = province_code()
    owners = {province} if tenant == province else {province, tenant}
    definitions = session.exec(
        select(Definition).where(
            Definition.kind == kind.value,
            Definition.tenant_code.in_(sorted(owners)),  # type: ignore[attr-defined]
        )
    ).all()
    templates = {d.key: d for d in definitions if d.tenant_code == province}
    own = {d.key: d for d in definitions if d.tenant_code != province and d.reverted_at is None}
    rows = [
        _list_row(session, kind, key, tenant, templates.get(key), own.get(key))
        for key in sorted(set(templates) | set(own))
    ]
    needle = search.strip()
    rows = [
        row
        for row in rows
        if (not needle or needle in row.key or needle in row.name)
        and (not category or row.category == category)
        and (not origin or row.origin == origin)
    ]
    start = request.offset
    return Page(rows[start : start + request.size], len(rows), request.page, request.size)


def _list_row(
    session: Session,
    kind: Kind,
    key: str,
    tenant: str,
    template: Definition | None,
    own: Definition | None,
) -> DefinitionRow:
    shown = own or template
    assert shown is not None
    origin = _origin(shown, tenant, template is not None)
    mine = shown.tenant_code == tenant
    latest = _visible_versions(session, shown, mine=mine)
    current = _current(latest, draft_of(session, shown) if mine else None)
    body = json.loads(current.body) if current else {}
    if kind == Kind.BUSINESS:
        category = body.get("registration_type") or registration_type_of(key)
        category_label = lookup.label("registration_type", category) if category else ""
    else:
        category = f"{sum(1 for s in body.get('steps', []) if s['kind'] == 'task')} 个环节"
        category_label = category
    return DefinitionRow(
        kind=kind.value,
        key=key,
        name=shown.name,
        category=category,
        origin=origin,
        origin_label=ORIGIN_LABELS[origin],
        served_version=_served_number(session, kind, key, tenant),
        has_draft=mine and draft_of(session, shown) is not None,
        updated=to_local_text(current.updated_at) if current else "",
        category_label=category_label,
    )


def _current(versions: list[Version], draft: Version | None) -> Version | None:
    """What an editor opens: the draft, else the newest published (a discarded one never)."""
    if draft is not None:
        return draft
    return next((v for v in versions if v.status == Status.PUBLISHED.value), None)


def _visible_versions(session: Session, definition: Definition, *, mine: bool) -> list[Version]:
    """All versions of one's own definition; of an inherited one, only what was published."""
    versions = versions_of(session, definition)
    if mine:
        return versions
    return [v for v in versions if v.status == Status.PUBLISHED.value]


def get_definition(*, session: Session, actor: Actor, kind: Kind, key: str) -> DefinitionView:
    """The definition the viewing tenant works with: its draft (if any) or served version.

    A county following the province template sees only the template's published versions.

    Raises:
        NotFound: no such definition for the viewing tenant.
    """
    tenant = require_read(actor, kind, key)
    shown, mine = readable(session, actor, kind, key)
    versions = _visible_versions(session, shown, mine=mine)
    draft = draft_of(session, shown) if mine else None
    current = _current(versions, draft)
    body = json.loads(current.body) if current else {}
    template = owned(session, kind, key, province_code())
    template_published = published(session, template)
    origin = _origin(shown, tenant, template is not None)
    return DefinitionView(
        kind=kind.value,
        key=key,
        name=shown.name,
        tenant=tenant,
        origin=origin,
        origin_label=ORIGIN_LABELS[origin],
        owner=shown.tenant_code,
        versions=[_version_row(v) for v in versions],
        served_version=_served_number(session, kind, key, tenant),
        draft_number=draft.number if draft else 0,
        body=body,
        problems=check(session=session, kind=kind, key=key, tenant=tenant, body=body)
        if body
        else [],
        template_version=template_published.number if template_published else 0,
    )


def _version_row(version: Version) -> VersionRow:
    status = Status(version.status)
    return VersionRow(
        number=version.number,
        status=status.value,
        status_label=STATUS_LABELS[status],
        based_on=version.based_on,
        note=version.note,
        created_by=version.created_by,
        created=to_local_text(version.created_at),
        published_by=version.published_by,
        published=to_local_text(version.published_at) if version.published_at else "",
    )


def version_body(
    *, session: Session, actor: Actor, kind: Kind, key: str, number: int
) -> dict[str, Any]:
    """The body of one version of the definition the viewing tenant works with."""
    require_read(actor, kind, key)
    definition, mine = readable(session, actor, kind, key)
    version = version_numbered(session, definition, number)
    if version is None or not (mine or version.status == Status.PUBLISHED.value):
        raise NotFound(f"版本 v{number} 不存在", field="版本")
    return json.loads(version.body)


def diff(
    *, session: Session, actor: Actor, kind: Kind, key: str, left: int, right: int
) -> list[DiffRow]:
    """What changed between two versions of the definition the viewing tenant works with."""
    before = version_body(session=session, actor=actor, kind=kind, key=key, number=left)
    after = version_body(session=session, actor=actor, kind=kind, key=key, number=right)
    if kind == Kind.WORKFLOW:
        return diff_workflows(before, after)
    return diff_businesses(before, after)


def usage(*, session: Session, actor: Actor, kind: Kind, key: str) -> list[UsageRow]:
    """Which version each county in the actor's scope works with."""
    require_read(actor, kind, key)
    scope = scope_of(actor)
    statement = select(Tenant).where(Tenant.level == TenantLevel.COUNTY.value)
    if not scope.all_tenants:
        statement = statement.where(Tenant.code.in_(sorted(scope.codes)))  # type: ignore[attr-defined]
    has_template = owned(session, kind, key, province_code()) is not None
    rows = []
    for tenant in session.exec(statement.order_by(Tenant.code)).all():
        try:
            definition, version = resolve(session, kind=kind, key=key, tenant=tenant.code)
        except NotFound:
            rows.append(UsageRow(tenant.code, tenant.name, "未配置", 0))
            continue
        origin = _origin(definition, tenant.code, has_template)
        rows.append(UsageRow(tenant.code, tenant.name, ORIGIN_LABELS[origin], version.number))
    return rows


# ---- served to registration systems -----------------------------------------------------


def served_business(*, session: Session, tenant: str, business_code: str) -> dict[str, Any]:
    """What a registration system of ``tenant`` runs for ``business_code``, all resolved.

    Raises:
        NotFound: the business (or its workflow) has nothing published for the tenant.
    """
    business_def, business_version = resolve(
        session, kind=Kind.BUSINESS, key=business_code, tenant=tenant
    )
    business = parse_business(business_version.body)
    workflow_def, workflow_version = resolve(
        session, kind=Kind.WORKFLOW, key=business.workflow, tenant=tenant
    )
    workflow = parse_workflow(workflow_version.body)
    guide = compose_guide(business=business, tasks=process_order(workflow))
    return {
        "business_code": business_code,
        "tenant": tenant,
        "business": {
            **_served_origin(business_def, business_version),
            **business.model_dump(mode="json", exclude={"workflow"}),
            "guide_text": guide,
            # What each {占位符} of an opinion template stands for in the case's data.
            "placeholders": PLACEHOLDERS,
        },
        "workflow": {
            "key": workflow_def.key,
            **_served_origin(workflow_def, workflow_version),
            # Parts kept from an imported BPMN file are for the next export, not for cases.
            **workflow.model_dump(mode="json", exclude={"kept"}),
        },
    }


def _served_origin(definition: Definition, version: Version) -> dict[str, Any]:
    """Whose definition is served, and which of its versions."""
    return {
        "origin": "province" if definition.tenant_code == province_code() else "tenant",
        "owner": definition.tenant_code,
        "version": version.number,
        "published_at": version.published_at,
    }
