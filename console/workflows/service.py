"""流程配置: list, edit, publish, compare, override and revert workflows and businesses.

Who owns what: the province's templates belong to the province tenant; a county's override
belongs to that county. Every call acts for the *viewing tenant* — a county user's own
county, or the county a province user narrowed the view to, or the province itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.errors import NotFound, ValidationFailed
from console.core.paging import Page, PageRequest
from console.core.settings import get_settings
from console.dictionaries import lookup
from console.dictionaries.models import DictType
from console.stats.models import BusinessTimeLimit
from console.tenancy.models import Tenant, TenantLevel
from console.tenancy.scope import ensure_visible, scope_of
from console.workflows import bpmn
from console.workflows.diffing import DiffRow, diff_businesses, diff_workflows
from console.workflows.guide import compose_guide, process_order
from console.workflows.models import (
    KIND_LABELS,
    STATUS_LABELS,
    Definition,
    Kind,
    Status,
    Version,
)
from console.workflows.rules import (
    BUSINESS_CODE,
    PLACEHOLDERS,
    Problem,
    check_business,
    check_workflow,
    fill_opinion,
)
from console.workflows.schema import (
    BusinessBody,
    WorkflowBody,
    dumps,
    parse_business,
    parse_workflow,
)

OBJ = "workflows.definitions"
WORKFLOW_KEY_CHARS = "字母、数字、下划线"


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


def _label(kind: Kind) -> str:
    return KIND_LABELS[kind]


def _target(kind: Kind, key: str) -> str:
    return f"{_label(kind)} {key}"


def _owned(session: Session, kind: Kind, key: str, tenant: str) -> Definition | None:
    return session.exec(
        select(Definition).where(
            Definition.kind == kind.value, Definition.key == key, Definition.tenant_code == tenant
        )
    ).first()


def _active(definition: Definition | None) -> Definition | None:
    return definition if definition is not None and definition.reverted_at is None else None


def _versions(session: Session, definition: Definition) -> list[Version]:
    return list(
        session.exec(
            select(Version)
            .where(Version.definition_id == definition.id)
            .order_by(Version.number.desc())  # type: ignore[attr-defined]
        ).all()
    )


def _published(session: Session, definition: Definition | None) -> Version | None:
    """The newest published version in force: for an override, published since it began."""
    if definition is None:
        return None
    statement = select(Version).where(
        Version.definition_id == definition.id, Version.status == Status.PUBLISHED.value
    )
    if definition.overridden_at is not None:
        statement = statement.where(Version.published_at >= definition.overridden_at)  # type: ignore[operator]
    return session.exec(statement.order_by(Version.number.desc())).first()  # type: ignore[attr-defined]


def _draft(session: Session, definition: Definition) -> Version | None:
    return session.exec(
        select(Version).where(
            Version.definition_id == definition.id, Version.status == Status.DRAFT.value
        )
    ).first()


def resolve(session: Session, *, kind: Kind, key: str, tenant: str) -> tuple[Definition, Version]:
    """The definition and published version that apply to ``tenant``, inheritance resolved.

    A county's override applies once it has a published version; until then, and after a
    revert, the province template does.

    Raises:
        NotFound: nothing published applies.
    """
    if tenant != province_code():
        own = _active(_owned(session, kind, key, tenant))
        version = _published(session, own)
        if own is not None and version is not None:
            return own, version
    template = _owned(session, kind, key, province_code())
    version = _published(session, template)
    if template is None or version is None:
        raise NotFound(f"{_label(kind)} {key} 未配置或尚未发布")
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


def _require_read(actor: Actor, kind: Kind, key: str = "") -> str:
    tenant = viewing_tenant(actor)
    authz.require(actor, OBJ, "read", tenant=tenant, target=_target(kind, key))
    return tenant


def _guard(actor: Actor, action: str, kind: Kind, key: str) -> str:
    """The viewing tenant, once the actor may ``action`` there (a refusal is logged)."""
    tenant = viewing_tenant(actor)
    target = _target(kind, key)
    authz.require(actor, OBJ, action, tenant=tenant, target=target)
    ensure_visible(actor, tenant, obj=OBJ, action=action, target=target)
    return tenant


def _body_of(kind: Kind, text: str | dict[str, Any]) -> WorkflowBody | BusinessBody:
    return parse_workflow(text) if kind == Kind.WORKFLOW else parse_business(text)


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
    tenant = _require_read(actor, kind)
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
    current = _current(latest, _draft(session, shown) if mine else None)
    body = json.loads(current.body) if current else {}
    if kind == Kind.BUSINESS:
        category = body.get("registration_type", key[:3])
    else:
        category = f"{sum(1 for s in body.get('steps', []) if s['kind'] == 'task')} 个环节"
    return DefinitionRow(
        kind=kind.value,
        key=key,
        name=shown.name,
        category=category,
        origin=origin,
        origin_label=ORIGIN_LABELS[origin],
        served_version=_served_number(session, kind, key, tenant),
        has_draft=mine and _draft(session, shown) is not None,
        updated=to_local_text(current.updated_at) if current else "",
    )


def _current(versions: list[Version], draft: Version | None) -> Version | None:
    """What an editor opens: the draft, else the newest published (a discarded one never)."""
    if draft is not None:
        return draft
    return next((v for v in versions if v.status == Status.PUBLISHED.value), None)


def _visible_versions(session: Session, definition: Definition, *, mine: bool) -> list[Version]:
    """All versions of one's own definition; of an inherited one, only what was published."""
    versions = _versions(session, definition)
    if mine:
        return versions
    return [v for v in versions if v.status == Status.PUBLISHED.value]


def get_definition(*, session: Session, actor: Actor, kind: Kind, key: str) -> DefinitionView:
    """The definition the viewing tenant works with: its draft (if any) or served version.

    A county following the province template sees only the template's published versions.

    Raises:
        NotFound: no such definition for the viewing tenant.
    """
    tenant = _require_read(actor, kind, key)
    shown, mine = _readable(session, actor, kind, key)
    versions = _visible_versions(session, shown, mine=mine)
    draft = _draft(session, shown) if mine else None
    current = _current(versions, draft)
    body = json.loads(current.body) if current else {}
    template = _owned(session, kind, key, province_code())
    template_published = _published(session, template)
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
    _require_read(actor, kind, key)
    definition, mine = _readable(session, actor, kind, key)
    version = session.exec(
        select(Version).where(Version.definition_id == definition.id, Version.number == number)
    ).first()
    if version is None or not (mine or version.status == Status.PUBLISHED.value):
        raise NotFound(f"版本 v{number} 不存在", field="版本")
    return json.loads(version.body)


def check(
    *, session: Session, kind: Kind, key: str, tenant: str, body: dict[str, Any]
) -> list[Problem]:
    """Every problem that would stop ``body`` from being published for ``tenant``."""
    parsed = _body_of(kind, body)
    if isinstance(parsed, WorkflowBody):
        return check_workflow(parsed, role_known=lambda r: lookup.is_known("workflow_role", r))
    workflow = None
    if parsed.workflow:
        try:
            _, version = resolve(session, kind=Kind.WORKFLOW, key=parsed.workflow, tenant=tenant)
            workflow = parse_workflow(version.body)
        except NotFound:
            workflow = None
    return check_business(key, parsed, workflow=workflow, known=_known)


def _known(type_code: str, code: str) -> bool:
    if type_code == "dict_type":
        return lookup.has_type(code)
    return lookup.is_known(type_code, code)


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
    _require_read(actor, kind, key)
    scope = scope_of(actor)
    statement = select(Tenant).where(Tenant.level == TenantLevel.COUNTY.value)
    if not scope.all_tenants:
        statement = statement.where(Tenant.code.in_(sorted(scope.codes)))  # type: ignore[attr-defined]
    has_template = _owned(session, kind, key, province_code()) is not None
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


# ---- writing ------------------------------------------------------------------------------


def _readable(session: Session, actor: Actor, kind: Kind, key: str) -> tuple[Definition, bool]:
    """The definition the viewing tenant works with, and whether it is the tenant's own.

    Raises:
        NotFound: neither the tenant nor the province has it.
    """
    tenant = viewing_tenant(actor)
    own = _active(_owned(session, kind, key, tenant))
    if own is not None:
        return own, True
    template = _owned(session, kind, key, province_code())
    if template is None:
        raise NotFound(f"{_label(kind)} {key} 不存在")
    return template, False


def _editable(session: Session, actor: Actor, kind: Kind, key: str, *, action: str) -> Definition:
    """The viewing tenant's own active definition, once the actor may ``action`` on it."""
    tenant = _guard(actor, action, kind, key)
    own = _active(_owned(session, kind, key, tenant))
    if own is not None:
        return own
    if tenant != province_code() and _owned(session, kind, key, province_code()) is not None:
        raise ValidationFailed(
            f"{_label(kind)} {key} 继承自省级模板，请先「本地覆盖」再修改", field="继承"
        )
    raise NotFound(f"{_label(kind)} {key} 不存在")


def _log(
    session: Session,
    actor: Actor,
    definition: Definition,
    action: str,
    detail: dict[str, Any],
    *,
    tenant: str | None = None,
) -> None:
    record(
        session,
        actor=actor,
        obj=OBJ,
        action=action,
        target=_target(Kind(definition.kind), definition.key),
        tenant=tenant or definition.tenant_code,
        detail={"name": definition.name, **detail},
    )


def _next_number(session: Session, definition: Definition) -> int:
    top = session.scalar(
        sa.select(sa.func.max(Version.number)).where(Version.definition_id == definition.id)
    )
    return int(top or 0) + 1


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
    return dumps(parse_business({"name": name, "registration_type": key[:3]}))


def create_definition(
    *, session: Session, actor: Actor, kind: Kind, key: str, name: str
) -> DefinitionView:
    """A new definition of the viewing tenant, starting as draft v1.

    The province creates templates; a county creates only what has no province template.
    """
    key, name = key.strip(), name.strip()
    tenant = _guard(actor, "write", kind, key)
    if kind == Kind.BUSINESS and not BUSINESS_CODE.match(key):
        raise ValidationFailed("业务代码应为 7 位数字", field="业务代码")
    if kind == Kind.WORKFLOW and not key.replace("_", "").isalnum():
        raise ValidationFailed(f"流程标识只能包含{WORKFLOW_KEY_CHARS}", field="流程标识")
    if not 1 <= len(name) <= 60:
        raise ValidationFailed("名称应为 1–60 个字", field="名称")
    if _owned(session, kind, key, tenant) is not None:
        raise ValidationFailed(f"{_label(kind)} {key} 已存在", field="标识")
    if tenant != province_code() and _owned(session, kind, key, province_code()) is not None:
        raise ValidationFailed(
            f"省级已有{_label(kind)} {key} 的模板，请使用「本地覆盖」", field="标识"
        )
    definition = Definition(
        kind=kind.value, key=key, tenant_code=tenant, name=name, created_by=actor.account
    )
    session.add(definition)
    session.flush()
    _new_version(session, actor, definition, _starting_body(kind, key, name), "新建")
    _log(session, actor, definition, "create", {})
    return get_definition(session=session, actor=actor, kind=kind, key=key)


def _new_version(
    session: Session, actor: Actor, definition: Definition, body: str, based_on: str
) -> Version:
    assert definition.id is not None
    version = Version(
        definition_id=definition.id,
        number=_next_number(session, definition),
        body=body,
        based_on=based_on,
        created_by=actor.account,
    )
    session.add(version)
    session.flush()
    return version


def save_draft(
    *, session: Session, actor: Actor, kind: Kind, key: str, body: dict[str, Any] | str
) -> list[Problem]:
    """Store the draft (made from the newest version if there is none); returns its problems.

    A draft may hold problems — designs are saved half done; publishing refuses them.

    Raises:
        ValidationFailed: the body has the wrong shape (a field of the wrong type or length).
    """
    definition = _editable(session, actor, kind, key, action="write")
    parsed = _body_of(kind, body)
    text = dumps(parsed)
    draft = _draft(session, definition)
    if draft is None:
        latest = _published(session, definition)
        based_on = f"v{latest.number}" if latest else ""
        draft = _new_version(session, actor, definition, text, based_on)
    elif draft.body == text:
        return _problems(session, definition, kind, key, parsed)
    else:
        draft.body = text
        draft.updated_at = utcnow()
        session.add(draft)
    _log(session, actor, definition, "save_draft", {"version": draft.number})
    return _problems(session, definition, kind, key, parsed)


def _problems(
    session: Session,
    definition: Definition,
    kind: Kind,
    key: str,
    parsed: WorkflowBody | BusinessBody,
) -> list[Problem]:
    return check(
        session=session,
        kind=kind,
        key=key,
        tenant=definition.tenant_code,
        body=parsed.model_dump(mode="json"),
    )


def new_draft(*, session: Session, actor: Actor, kind: Kind, key: str, from_number: int) -> int:
    """A draft copied from a published version; returns the draft's number."""
    definition = _editable(session, actor, kind, key, action="write")
    if _draft(session, definition) is not None:
        raise ValidationFailed("已有草稿：请先发布或放弃当前草稿", field="版本")
    source = session.exec(
        select(Version).where(Version.definition_id == definition.id, Version.number == from_number)
    ).first()
    if source is None:
        raise NotFound(f"版本 v{from_number} 不存在", field="版本")
    draft = _new_version(session, actor, definition, source.body, f"v{from_number}")
    _log(session, actor, definition, "new_draft", {"version": draft.number, "from": from_number})
    return draft.number


def discard_draft(*, session: Session, actor: Actor, kind: Kind, key: str) -> None:
    """Throw the draft away (published versions stay)."""
    definition = _editable(session, actor, kind, key, action="write")
    draft = _draft(session, definition)
    if draft is None:
        raise NotFound("没有草稿", field="版本")
    draft.status = Status.DISCARDED.value
    draft.updated_at = utcnow()
    session.add(draft)
    _log(session, actor, definition, "discard_draft", {"version": draft.number})


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
    definition = _editable(session, actor, kind, key, action="approve")
    draft = _draft(session, definition)
    if draft is None:
        raise ValidationFailed("没有可发布的草稿", field="版本")
    if expected_draft is not None and draft.number != expected_draft:
        raise ValidationFailed(
            f"草稿已变为 v{draft.number}（他人刚刚修改），请重新打开核对后再发布", field="版本"
        )
    if len(note) > 200:
        raise ValidationFailed("发布说明不能超过 200 字", field="发布说明")
    parsed = _body_of(kind, draft.body)
    problems = _problems(session, definition, kind, key, parsed)
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
        _sync_time_limit(
            session, actor, key, parsed.time_limit_workdays, f"业务定义 v{draft.number}"
        )
    _log(session, actor, definition, "publish", {"version": draft.number, "note": note})
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
        for problem in check_business(business.key, parsed, workflow=body, known=_known):
            problems.append(Problem(f"业务 {business.key}：{problem.message}", field="绑定业务"))
    return problems


def _sync_time_limit(session: Session, actor: Actor, code: str, workdays: int, basis: str) -> None:
    """The province's promised limit is what 办理时效 measures every county against."""
    row = session.get(BusinessTimeLimit, code) or BusinessTimeLimit(
        business_code=code, workdays=workdays
    )
    row.workdays, row.basis = workdays, basis[:200]
    row.updated_by = actor.account
    row.updated_at = utcnow()
    session.add(row)


def has_template(session: Session, *, kind: Kind, key: str) -> bool:
    """Whether the province has a definition of ``key``."""
    return _owned(session, kind, key, province_code()) is not None


def publish_time_limit(
    *, session: Session, actor: Actor, business_code: str, workdays: int, basis: str
) -> int:
    """A new published version of the province business with only its promised limit changed.

    Raises:
        ValidationFailed: the business has an unpublished draft (decide it in 流程配置 first).
    """
    if viewing_tenant(actor) != province_code():
        raise ValidationFailed("承诺办结时限全省统一，请在全省视图中修改", field="承诺时限")
    template = _owned(session, Kind.BUSINESS, business_code, province_code())
    if template is None:
        raise NotFound(f"业务 {business_code} 不存在")
    if _draft(session, template) is not None:
        raise ValidationFailed(
            f"业务 {business_code} 有未发布的草稿：请在「流程配置」中修改承诺时限并发布",
            field="承诺时限",
        )
    current = _published(session, template)
    body = json.loads(current.body) if current else {}
    body["time_limit_workdays"] = workdays
    save_draft(session=session, actor=actor, kind=Kind.BUSINESS, key=business_code, body=body)
    note = f"调整承诺时限为 {workdays} 个工作日" + (f"：{basis.strip()}" if basis.strip() else "")
    return publish(
        session=session, actor=actor, kind=Kind.BUSINESS, key=business_code, note=note[:200]
    )


def override(*, session: Session, actor: Actor, kind: Kind, key: str) -> int:
    """Copy the province template into the viewing county as a draft (copy on write).

    The county keeps following the template until it publishes its copy.
    """
    tenant = _guard(actor, "write", kind, key)
    if tenant == province_code():
        raise ValidationFailed("省级模板本身不能覆盖：请先在顶部选择区县", field="租户")
    template = _owned(session, kind, key, province_code())
    source = _published(session, template)
    if template is None or source is None:
        raise NotFound(f"省级没有已发布的{_label(kind)} {key}")
    own = _owned(session, kind, key, tenant)
    if own is not None and own.reverted_at is None:
        raise ValidationFailed("本租户已覆盖该设置", field="继承")
    if own is None:
        own = Definition(
            kind=kind.value,
            key=key,
            tenant_code=tenant,
            name=template.name,
            created_by=actor.account,
            overridden_at=utcnow(),
        )
        session.add(own)
        session.flush()
    else:
        # A new override period: what was published before the revert stays history.
        own.reverted_at, own.overridden_at = None, utcnow()
        session.add(own)
        stale = _draft(session, own)
        if stale is not None:
            stale.status = Status.DISCARDED.value
            session.add(stale)
            session.flush()
    draft = _new_version(session, actor, own, source.body, f"省级模板 v{source.number}")
    _log(session, actor, own, "override", {"template_version": source.number})
    return draft.number


def revert(*, session: Session, actor: Actor, kind: Kind, key: str) -> None:
    """Drop the viewing county's override: the province template applies again.

    The override's versions stay as history (they were in force once).
    """
    definition = _editable(session, actor, kind, key, action="write")
    if definition.tenant_code == province_code():
        raise ValidationFailed("省级模板不能恢复继承", field="继承")
    if _owned(session, kind, key, province_code()) is None:
        raise ValidationFailed("本地自建的设置没有可恢复的省级模板", field="继承")
    definition.reverted_at = utcnow()
    session.add(definition)
    _log(session, actor, definition, "revert", {})


# ---- BPMN -------------------------------------------------------------------------------


def export_bpmn(*, session: Session, actor: Actor, key: str, number: int) -> str:
    """BPMN 2.0 XML of one version of a workflow (logged as an export)."""
    body = parse_workflow(
        version_body(session=session, actor=actor, kind=Kind.WORKFLOW, key=key, number=number)
    )
    definition, _ = _readable(session, actor, Kind.WORKFLOW, key)
    _log(
        session,
        actor,
        definition,
        "export_bpmn",
        {"version": number},
        tenant=viewing_tenant(actor),
    )
    return bpmn.export_bpmn(body, key=key, version=number)


def import_bpmn(
    *, session: Session, actor: Actor, key: str, text: str
) -> tuple[list[Problem], list[str]]:
    """Replace the workflow's draft by a BPMN design; returns its problems and what was skipped."""
    _editable(session, actor, Kind.WORKFLOW, key, action="write")  # refuse before parsing
    body, skipped = bpmn.import_bpmn(text)
    problems = save_draft(
        session=session,
        actor=actor,
        kind=Kind.WORKFLOW,
        key=key,
        body=body.model_dump(mode="json"),
    )
    return problems, skipped


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
            "origin": "province" if business_def.tenant_code == province_code() else "tenant",
            "owner": business_def.tenant_code,
            "version": business_version.number,
            "published_at": business_version.published_at,
            **business.model_dump(mode="json", exclude={"workflow"}),
            "guide_text": guide,
            # What each {占位符} of an opinion template stands for in the case's data.
            "placeholders": PLACEHOLDERS,
        },
        "workflow": {
            "key": workflow_def.key,
            "origin": "province" if workflow_def.tenant_code == province_code() else "tenant",
            "owner": workflow_def.tenant_code,
            "version": workflow_version.number,
            "published_at": workflow_version.published_at,
            **workflow.model_dump(mode="json"),
        },
    }


# ---- what the editor offers ---------------------------------------------------------------

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
    tenant = _require_read(actor, Kind.WORKFLOW)
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
    tenant = _require_read(actor, kind, key)
    return check(session=session, kind=kind, key=key, tenant=tenant, body=body)


def workflow_tasks(*, session: Session, actor: Actor, key: str) -> list[str]:
    """Task names of the workflow ``key`` as the viewing tenant runs it ([] if none)."""
    tenant = _require_read(actor, Kind.WORKFLOW, key)
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
