"""The interface registry: national seed, search, register, edit, disable, delete — versioned.

Province-wide interfaces (``tenant_code == ""``, e.g. the national sharing services) are
maintained by province administrators; a county registers and maintains its own systems.
Every change bumps the interface's revision, keeps before/after in ``InterfaceRevision`` and
goes to the operation log in the same transaction.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Collection
from dataclasses import asdict, dataclass, fields, replace
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.errors import NotFound, ValidationFailed
from console.core.paging import Page, PageRequest, contains, paginate
from console.dictionaries.seed import SEED_ACTOR, SEED_DIR
from console.iam.models import Organization
from console.interfaces.models import (
    AUTH_KINDS,
    DIRECTIONS,
    HEALTH_LABELS,
    METHODS,
    PROTOCOLS,
    SHARING_CLASSES,
    Channel,
    InterfaceDef,
    InterfaceRevision,
    ProbeResult,
    SharingTask,
)
from console.tenancy.models import Tenant
from console.tenancy.scope import ensure_visible, scope_of

OBJ = "interfaces.registry"
PROVINCE_WIDE = ""
NATIONAL_SEED = "sharing_interfaces.csv"
PROVINCE_ONLY = "全省共用的接口只能由省级管理员维护"
_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TIMEOUT_RANGE = (100, 120_000)
RATE_LIMIT_RANGE = (1, 100_000)


@dataclass(frozen=True)
class InterfaceDraft:
    """The fields an administrator edits (health and revision are the console's own)."""

    code: str
    name: str
    direction: str = "outbound"
    tenant_code: str = PROVINCE_WIDE
    department: str = ""
    sharing_class: str = ""
    version: str = "1.0"
    endpoint_url: str = ""
    method: str = "POST"
    protocol: str = "HTTP/JSON"
    auth_kind: str = "api_key"
    timeout_ms: int = 5000
    rate_limit_per_minute: int = 600
    owner_org_id: int | None = None
    description: str = ""
    request_fields: str = ""
    response_fields: str = ""


EDITABLE_FIELDS = (*(f.name for f in fields(InterfaceDraft)), "enabled")


@dataclass(frozen=True)
class InterfaceRow:
    """An interface as the registry table shows it."""

    id: int
    code: str
    name: str
    direction: str
    tenant_code: str
    department: str
    sharing_class: str
    version: str
    endpoint_url: str
    method: str
    protocol: str
    auth_kind: str
    enabled: bool
    builtin: bool
    revision: int
    health: str
    consecutive_failures: int
    last_probe_at: str
    last_latency_ms: int | None


@dataclass(frozen=True)
class InterfaceDetail(InterfaceRow):
    """Every field of one interface, with the names of its tenant and owner organisation."""

    tenant_name: str
    timeout_ms: int
    rate_limit_per_minute: int
    owner_org_id: int | None
    owner_org_name: str
    description: str
    request_fields: str
    response_fields: str
    created_at: str
    updated_at: str

    def to_draft(self) -> InterfaceDraft:
        """The edit form's starting values."""
        return InterfaceDraft(**{f.name: getattr(self, f.name) for f in fields(InterfaceDraft)})


@dataclass(frozen=True)
class RevisionRow:
    """One version of an interface registration."""

    revision: int
    time: str
    actor: str
    action: str
    before: str
    after: str


# --- national seed -------------------------------------------------------------------------


def _national_rows() -> list[dict[str, str]]:
    with (SEED_DIR / NATIONAL_SEED).open(encoding="utf-8") as handle:
        handle.readline()  # the "# source" line
        return list(csv.DictReader(handle))


_INT_FIELDS = ("timeout_ms", "rate_limit_per_minute")


def national_drafts() -> list[InterfaceDraft]:
    """The national sharing interfaces of the seed file, as province-wide outbound drafts."""
    return [
        InterfaceDraft(
            **{name: value for name, value in row.items() if name not in _INT_FIELDS},
            direction="outbound",
            tenant_code=PROVINCE_WIDE,
            timeout_ms=int(row["timeout_ms"]),
            rate_limit_per_minute=int(row["rate_limit_per_minute"]),
        )
        for row in _national_rows()
    ]


def load_national_interfaces(session: Session) -> int:
    """Add the national sharing interfaces that are missing; return how many were added.

    Idempotent. An existing interface with the same code is never touched: once loaded, the
    row belongs to the administrators (endpoint, limits, even the name) and their edits win.
    """
    existing = set(session.exec(select(InterfaceDef.code)).all())
    added = [
        InterfaceDef(**asdict(draft), builtin=True)
        for draft in national_drafts()
        if draft.code not in existing
    ]
    session.add_all(added)
    session.flush()
    for interface in added:
        assert interface.id is not None
        session.add(
            InterfaceRevision(
                interface_id=interface.id,
                revision=interface.revision,
                actor_account=SEED_ACTOR,
                action="create",
                after=_dump(snapshot(interface)),
            )
        )
    return len(added)


# --- reading ---------------------------------------------------------------------------------


def visible_to(actor: Actor) -> sa.ColumnElement[bool]:
    """Province-wide interfaces plus those of the tenants in the actor's scope."""
    scope = scope_of(actor)
    if scope.all_tenants:
        return sa.true()
    return InterfaceDef.tenant_code.in_([PROVINCE_WIDE, *sorted(scope.codes)])  # type: ignore[attr-defined]


def interface_names(*, session: Session, actor: Actor) -> dict[str, str]:
    """Code → name of the interfaces the actor's tenants may see (labels for statistics)."""
    statement = select(InterfaceDef.code, InterfaceDef.name).where(visible_to(actor))
    return dict(session.exec(statement).all())


def registered_departments(*, session: Session) -> dict[str, str]:
    """Code → department of every registered interface (any tenant's): the calls' check.

    A call is judged against the whole registry, not the viewer's part of it: an interface a
    county registered is still registered when the province looks at its calls.
    """
    return dict(session.exec(select(InterfaceDef.code, InterfaceDef.department)).all())


def _list_statement(
    actor: Actor, search: str, direction: str | None, department: str | None, health: str | None
) -> sa.Select:
    statement = (
        select(InterfaceDef)
        .where(visible_to(actor))
        .order_by(InterfaceDef.department, InterfaceDef.code)
    )
    if text := search.strip():
        statement = statement.where(
            sa.or_(
                contains(InterfaceDef.code, text),
                contains(InterfaceDef.name, text),
                contains(InterfaceDef.department, text),
            )
        )
    if direction:
        _require_choice(direction, DIRECTIONS, "方向")
        statement = statement.where(InterfaceDef.direction == direction)
    if department:
        statement = statement.where(InterfaceDef.department == department)
    if health:
        _require_choice(health, HEALTH_LABELS, "健康状态")
        statement = statement.where(InterfaceDef.health == health)
    return statement


def list_interfaces(
    *,
    session: Session,
    actor: Actor,
    search: str = "",
    direction: str | None = None,
    department: str | None = None,
    health: str | None = None,
    page: PageRequest | None = None,
) -> Page[InterfaceRow]:
    """Interfaces in the actor's scope: search code, name or department; filter; one page.

    Raises:
        Forbidden: the actor may not read the registry.
        ValidationFailed: an unknown direction or health filter.
    """
    authz.require(actor, OBJ, "read")
    page = page or PageRequest()
    statement = _list_statement(actor, search, direction, department, health)
    interfaces, total = paginate(session, statement, page)
    return Page([_row(i) for i in interfaces], total, page.page, page.size)


def departments(*, session: Session, actor: Actor) -> list[str]:
    """Departments of the interfaces in the actor's scope, for the filter's options."""
    authz.require(actor, OBJ, "read")
    rows = session.exec(
        select(InterfaceDef.department)
        .where(visible_to(actor), InterfaceDef.department != "")
        .distinct()
        .order_by(InterfaceDef.department)
    ).all()
    return list(rows)


def load_visible(
    session: Session, actor: Actor, interface_id: int, *, action: str = "read"
) -> InterfaceDef:
    """The interface, if the actor's scope includes it.

    Raises:
        NotFound: no such interface, or another tenant's (that attempt is logged).
    """
    interface = session.get(InterfaceDef, interface_id)
    if interface is None:
        raise NotFound("接口不存在")
    if interface.tenant_code:
        ensure_visible(actor, interface.tenant_code, obj=OBJ, action=action, target=interface.code)
    return interface


def get_interface(*, session: Session, actor: Actor, interface_id: int) -> InterfaceDetail:
    """Every field of one interface.

    Raises:
        Forbidden: the actor may not read the registry.
        NotFound: no such interface in the actor's scope.
    """
    authz.require(actor, OBJ, "read")
    return _detail(session, load_visible(session, actor, interface_id))


def list_revisions(*, session: Session, actor: Actor, interface_id: int) -> list[RevisionRow]:
    """Versions of the registration, newest first: who, when, what, before and after."""
    authz.require(actor, OBJ, "read")
    load_visible(session, actor, interface_id)
    revisions = session.exec(
        select(InterfaceRevision)
        .where(InterfaceRevision.interface_id == interface_id)
        .order_by(InterfaceRevision.revision.desc(), InterfaceRevision.id.desc())  # type: ignore[attr-defined, union-attr]
    ).all()
    return [
        RevisionRow(r.revision, to_local_text(r.ts), r.actor_account, r.action, r.before, r.after)
        for r in revisions
    ]


def _row(interface: InterfaceDef) -> InterfaceRow:
    return InterfaceRow(**_row_values(interface))


def _row_values(interface: InterfaceDef) -> dict[str, object]:
    values = {f.name: getattr(interface, f.name) for f in fields(InterfaceRow)}
    values["id"] = interface.id or 0
    values["last_probe_at"] = to_local_text(interface.last_probe_at)
    return values


def _detail(session: Session, interface: InterfaceDef) -> InterfaceDetail:
    tenant = session.get(Tenant, interface.tenant_code) if interface.tenant_code else None
    owner = session.get(Organization, interface.owner_org_id) if interface.owner_org_id else None
    return InterfaceDetail(
        **_row_values(interface),
        tenant_name=tenant.name if tenant else "全省",
        timeout_ms=interface.timeout_ms,
        rate_limit_per_minute=interface.rate_limit_per_minute,
        owner_org_id=interface.owner_org_id,
        owner_org_name=owner.name if owner else "",
        description=interface.description,
        request_fields=interface.request_fields,
        response_fields=interface.response_fields,
        created_at=to_local_text(interface.created_at),
        updated_at=to_local_text(interface.updated_at),
    )


# --- validation ------------------------------------------------------------------------------


def _require_choice(value: str, choices: Collection[str], field: str) -> None:
    if value not in choices:
        raise ValidationFailed(f"应为以下之一：{'、'.join(choices)}", field=field)


def _require_length(value: str, low: int, high: int, field: str) -> None:
    if not low <= len(value) <= high:
        limit = f"最多 {high} 个字" if low == 0 else f"应为 {low} 到 {high} 个字"
        raise ValidationFailed(limit, field=field)


def _require_range(value: int, bounds: tuple[int, int], field: str, unit: str) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(f"应为 {low} 到 {high} {unit}之间的整数", field=field)


def endpoint_problem(url: str) -> str:
    """Why ``url`` cannot be an interface address, or "" (empty is allowed: not yet known)."""
    if not url:
        return ""
    if len(url) > 500:
        return "最多 500 个字符"
    if any(c.isspace() for c in url):
        return "不能包含空格"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        return "不是有效的网址"
    if parts.scheme not in ("http", "https") or not host:
        return "应为 http:// 或 https:// 开头的完整网址，或留空"
    return ""


def normalized(draft: InterfaceDraft) -> InterfaceDraft:
    """The draft with surrounding blanks removed from its one-line text fields."""
    return replace(
        draft,
        code=draft.code.strip(),
        name=draft.name.strip(),
        tenant_code=draft.tenant_code.strip(),
        department=draft.department.strip(),
        sharing_class=draft.sharing_class.strip(),
        version=draft.version.strip(),
        endpoint_url=draft.endpoint_url.strip(),
    )


def check_draft(draft: InterfaceDraft) -> None:
    """The checks that need no database (also run on every row of the national seed).

    Raises:
        ValidationFailed: naming the first offending field.
    """
    if not _CODE.fullmatch(draft.code):
        raise ValidationFailed(
            "应为 2-64 位小写字母、数字、点、下划线或连字符，以字母或数字开头", field="接口编码"
        )
    _require_length(draft.name, 1, 128, "接口名称")
    _require_choice(draft.direction, DIRECTIONS, "方向")
    if draft.direction == "inbound" and not draft.tenant_code:
        raise ValidationFailed("接入接口须指定所属区县", field="所属区县")
    if draft.direction == "outbound" and not draft.sharing_class:
        raise ValidationFailed("共享接口须选择共享分类", field="共享分类")
    if draft.sharing_class:
        _require_choice(draft.sharing_class, SHARING_CLASSES, "共享分类")
    _require_length(draft.department, 0, 64, "所属部门")
    _require_length(draft.version, 1, 32, "版本")
    if problem := endpoint_problem(draft.endpoint_url):
        raise ValidationFailed(problem, field="接口地址")
    _require_choice(draft.method, METHODS, "请求方法")
    _require_choice(draft.protocol, PROTOCOLS, "协议")
    _require_choice(draft.auth_kind, AUTH_KINDS, "认证方式")
    _require_range(draft.timeout_ms, TIMEOUT_RANGE, "超时时间", "毫秒")
    _require_range(draft.rate_limit_per_minute, RATE_LIMIT_RANGE, "每分钟限流", "次")
    _require_length(draft.description, 0, 2000, "说明")
    _require_length(draft.request_fields, 0, 2000, "请求字段")
    _require_length(draft.response_fields, 0, 2000, "返回字段")


def _ensure_may_maintain(actor: Actor, tenant_code: str, target: str) -> None:
    """Province-wide rows are the province's; a tenant's rows only for actors who see it."""
    if not tenant_code:
        if not scope_of(actor).all_tenants:
            raise ValidationFailed(PROVINCE_ONLY, field="适用范围")
        return
    ensure_visible(actor, tenant_code, obj=OBJ, action="write", target=target)


def _check_against_database(
    session: Session, draft: InterfaceDraft, *, own_id: int | None = None
) -> None:
    duplicate = session.exec(select(InterfaceDef).where(InterfaceDef.code == draft.code)).first()
    if duplicate is not None and duplicate.id != own_id:
        raise ValidationFailed(f"接口编码 {draft.code} 已存在", field="接口编码")
    if draft.tenant_code and session.get(Tenant, draft.tenant_code) is None:
        raise ValidationFailed(f"区县 {draft.tenant_code} 不存在", field="所属区县")
    if draft.owner_org_id is not None:
        owner = session.get(Organization, draft.owner_org_id)
        if owner is None:
            raise ValidationFailed("责任单位不存在", field="责任单位")
        if draft.tenant_code and owner.tenant_code != draft.tenant_code:
            raise ValidationFailed("责任单位应属于接口所属区县", field="责任单位")


# --- changes ---------------------------------------------------------------------------------


def snapshot(interface: InterfaceDef) -> dict[str, object]:
    """The editable fields, as revisions and the operation log record them."""
    return {name: getattr(interface, name) for name in EDITABLE_FIELDS}


def _dump(values: dict[str, object] | None) -> str:
    return json.dumps(values, ensure_ascii=False, default=str) if values else ""


def _record_change(
    session: Session,
    actor: Actor,
    interface: InterfaceDef,
    action: str,
    before: dict[str, object] | None,
) -> None:
    """Revision row and operation log for a change already applied to ``interface``."""
    assert interface.id is not None
    after = snapshot(interface)
    session.add(
        InterfaceRevision(
            interface_id=interface.id,
            revision=interface.revision,
            actor_account=actor.account,
            action=action,
            before=_dump(before),
            after=_dump(after),
        )
    )
    record(
        session,
        actor=actor,
        obj=OBJ,
        action=action,
        target=interface.code,
        tenant=interface.tenant_code or None,
        detail={"revision": interface.revision, "before": before, "after": after},
    )


def create_interface(*, session: Session, actor: Actor, draft: InterfaceDraft) -> InterfaceRow:
    """Register an interface, province-wide (``tenant_code == ""``) or for one tenant.

    A county actor registers for its own tenant (the form fills it in); only province
    administrators register province-wide interfaces.

    Raises:
        Forbidden: the actor may not write the registry.
        NotFound: the tenant is outside the actor's scope.
        ValidationFailed: a field breaks a rule, naming the field.
    """
    draft = normalized(draft)
    authz.require(actor, OBJ, "write", tenant=draft.tenant_code or None, target=draft.code)
    _ensure_may_maintain(actor, draft.tenant_code, draft.code)
    check_draft(draft)
    _check_against_database(session, draft)
    interface = InterfaceDef(**asdict(draft))
    session.add(interface)
    session.flush()
    _record_change(session, actor, interface, "create", None)
    return _row(interface)


def load_writable(
    session: Session, actor: Actor, interface_id: int, *, action: str = "write"
) -> InterfaceDef:
    """The interface, if the actor may change it (permission, scope, province-wide rule).

    Raises:
        NotFound: no such interface in the actor's scope.
        Forbidden: the actor lacks the permission.
        ValidationFailed: a county actor and a province-wide interface.
    """
    interface = load_visible(session, actor, interface_id, action=action)
    authz.require(actor, OBJ, action, tenant=interface.tenant_code or None, target=interface.code)
    _ensure_may_maintain(actor, interface.tenant_code, interface.code)
    return interface


def update_interface(
    *, session: Session, actor: Actor, interface_id: int, draft: InterfaceDraft
) -> InterfaceRow:
    """Edit a registration (a new revision); an edit that changes nothing is not a revision.

    Raises:
        Forbidden, NotFound, ValidationFailed: as for ``create_interface``; the code is the
        interface's identity (channels list it) and cannot change.
    """
    interface = load_writable(session, actor, interface_id)
    draft = normalized(draft)
    if draft.code != interface.code:
        raise ValidationFailed(
            "接口编码是接口的标识，不能修改；请新增接口并停用旧接口", field="接口编码"
        )
    if draft.tenant_code != interface.tenant_code:
        _ensure_may_maintain(actor, draft.tenant_code, draft.code)
    check_draft(draft)
    _check_against_database(session, draft, own_id=interface.id)
    before = snapshot(interface)
    for name, value in asdict(draft).items():
        setattr(interface, name, value)
    if snapshot(interface) == before:
        return _row(interface)
    _bump(session, interface)
    _record_change(session, actor, interface, "update", before)
    return _row(interface)


def _bump(session: Session, interface: InterfaceDef) -> None:
    interface.revision += 1
    interface.updated_at = utcnow()
    session.add(interface)


def set_enabled(
    *, session: Session, actor: Actor, interface_id: int, enabled: bool
) -> InterfaceRow:
    """Disable (or re-enable) an interface: it is no longer probed or offered to tasks.

    Raises:
        Forbidden, NotFound, ValidationFailed: as for ``update_interface``.
    """
    interface = load_writable(session, actor, interface_id)
    if interface.enabled == enabled:
        return _row(interface)
    before = snapshot(interface)
    interface.enabled = enabled
    _bump(session, interface)
    _record_change(session, actor, interface, "enable" if enabled else "disable", before)
    return _row(interface)


def _uses(session: Session, interface: InterfaceDef) -> list[str]:
    """What still refers to the interface, in words; empty when nothing does."""
    uses: list[str] = []
    tasks = session.exec(
        select(sa.func.count())
        .select_from(SharingTask)
        .where(SharingTask.interface_id == interface.id)
    ).one()
    if tasks:
        uses.append(f"{tasks} 个共享任务")
    # Channels list codes comma-separated: narrow with LIKE, then compare whole codes.
    candidates = session.exec(
        select(Channel.interface_codes).where(contains(Channel.interface_codes, interface.code))
    ).all()
    channels = sum(interface.code in codes.split(",") for codes in candidates)
    if channels:
        uses.append(f"{channels} 个机构通道")
    return uses


def delete_interface(*, session: Session, actor: Actor, interface_id: int) -> str:
    """Delete an unused interface an administrator registered; return its code.

    National (built-in) or used interfaces can only be disabled. The operation log keeps the
    last values and the whole revision history.

    Raises:
        Forbidden, NotFound: as for ``update_interface``.
        ValidationFailed: built-in, or still used by sharing tasks or channels.
    """
    interface = load_writable(session, actor, interface_id, action="delete")
    if interface.builtin:
        raise ValidationFailed("内置的国家共享接口不能删除，可以停用", field="接口编码")
    if uses := _uses(session, interface):
        raise ValidationFailed(
            f"{interface.code} 正被{'、'.join(uses)}使用，只能停用", field="接口编码"
        )
    revisions = session.exec(
        select(InterfaceRevision).where(InterfaceRevision.interface_id == interface_id)
    ).all()
    kept = [
        {
            "revision": r.revision,
            "ts": to_local_text(r.ts),
            "actor": r.actor_account,
            "after": r.after,
        }
        for r in revisions
    ]
    probes = session.exec(sa.delete(ProbeResult).where(ProbeResult.interface_id == interface_id))
    for revision in revisions:
        session.delete(revision)
    session.flush()  # dependent rows go before the interface their foreign keys point at
    session.delete(interface)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="delete",
        target=interface.code,
        tenant=interface.tenant_code or None,
        detail={"before": snapshot(interface), "revisions": kept, "probes": probes.rowcount},
    )
    return interface.code
