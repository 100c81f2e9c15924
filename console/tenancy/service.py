"""Tenants: list, create, edit, suspend and resume — permission-checked and logged.

Tenancy sits below the domains that use it: what it needs of them (how many accounts a
tenant has, whether a code is in the division dictionary) is passed in by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record
from console.authz.service import require
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.crypto import keyring
from console.core.errors import NotFound, ValidationFailed
from console.core.masking import mask_name, mask_phone
from console.core.paging import Page, PageRequest, contains, paginate
from console.core.settings import get_settings
from console.tenancy.models import Tenant, TenantLevel, TenantStatus
from console.tenancy.scope import base_scope, ensure_visible, restrict

OBJ = "tenancy.tenants"
# Tenant codes → number of accounts in each (IAM answers it for the tenant list).
UserCounts = Callable[[Session, list[str]], dict[str, int]]
# Whether a division code exists (the dictionary's checker; None when it is not loaded).
# Why a code cannot be a new tenant's (historical, a placeholder, unknown), or None.
DivisionProblem = Callable[[str], str | None] | None
_PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


@dataclass(frozen=True)
class TenantDraft:
    """Fields an administrator fills in for a tenant."""

    code: str
    name: str
    contact_name: str = ""
    contact_phone: str = ""


@dataclass(frozen=True)
class TenantRow:
    """A tenant as lists show it (contact masked)."""

    code: str
    name: str
    level: str
    status: str
    status_label: str
    contact_name: str
    contact_phone: str
    updated_at: str
    users: int = 0


def _check(draft: TenantDraft, division_problem: DivisionProblem) -> None:
    province = get_settings().province_code
    if not re.fullmatch(r"\d{6}", draft.code):
        raise ValidationFailed("应为6位数字行政区划代码", field="租户代码")
    if draft.code[:2] != province[:2]:
        raise ValidationFailed(f"应属于本省（以 {province[:2]} 开头）", field="租户代码")
    if draft.code.endswith("00"):
        raise ValidationFailed("应为区县级代码（末两位不为 00）", field="租户代码")
    if division_problem is not None and (problem := division_problem(draft.code)):
        raise ValidationFailed(problem, field="租户代码")
    if not 2 <= len(draft.name.strip()) <= 64:
        raise ValidationFailed("应为 2 到 64 个字", field="租户名称")
    if draft.contact_phone and not _PHONE.fullmatch(draft.contact_phone):
        raise ValidationFailed("应为11位手机号或带区号的固定电话", field="联系电话")


def _row(tenant: Tenant, users: int = 0) -> TenantRow:
    ring = keyring()
    name = ring.decrypt(tenant.contact_name_enc) if tenant.contact_name_enc else ""
    phone = ring.decrypt(tenant.contact_phone_enc) if tenant.contact_phone_enc else ""
    return TenantRow(
        code=tenant.code,
        name=tenant.name,
        level=tenant.level,
        status=tenant.status,
        status_label=TenantStatus(tenant.status).label,
        contact_name=mask_name(name),
        contact_phone=mask_phone(phone),
        updated_at=to_local_text(tenant.updated_at),
        users=users,
    )


def list_tenants(
    *,
    session: Session,
    actor: Actor,
    search: str = "",
    status: str | None = None,
    page: PageRequest | None = None,
    user_counts: UserCounts | None = None,
) -> Page[TenantRow]:
    """Tenants in the actor's scope, filtered and paged on the server.

    ``user_counts`` fills each row's number of accounts (0 without it).
    """
    require(actor, OBJ, "read")
    page = page or PageRequest()
    statement = restrict(select(Tenant), Tenant.code, actor).order_by(Tenant.code)
    if search.strip():
        statement = statement.where(
            sa.or_(contains(Tenant.code, search.strip()), contains(Tenant.name, search.strip()))
        )
    if status:
        statement = statement.where(Tenant.status == status)
    rows, total = paginate(session, statement, page)
    counts = user_counts(session, [t.code for t in rows]) if user_counts else {}
    return Page([_row(t, counts.get(t.code, 0)) for t in rows], total, page.page, page.size)


def get_tenant(*, session: Session, actor: Actor, code: str) -> TenantRow:
    """One tenant in scope."""
    require(actor, OBJ, "read")
    return _row(_load(session, actor, code, action="read"))


def _load(session: Session, actor: Actor, code: str, *, action: str) -> Tenant:
    tenant = session.get(Tenant, code)
    if tenant is None:
        raise NotFound(f"租户 {code} 不存在")
    ensure_visible(actor, code, obj=OBJ, action=action, target=code)
    return tenant


def create_tenant(
    *, session: Session, actor: Actor, draft: TenantDraft, division_problem: DivisionProblem
) -> TenantRow:
    """Add a county/district tenant under the province; its code must be a known division."""
    require(actor, OBJ, "write", target=draft.code)
    _check(draft, division_problem)
    if session.get(Tenant, draft.code) is not None:
        raise ValidationFailed(f"租户 {draft.code} 已存在", field="租户代码")
    ring = keyring()
    tenant = Tenant(
        code=draft.code,
        name=draft.name.strip(),
        parent_code=get_settings().province_code,
        level=TenantLevel.COUNTY.value,
        contact_name_enc=ring.encrypt(draft.contact_name) if draft.contact_name else None,
        contact_phone_enc=ring.encrypt(draft.contact_phone) if draft.contact_phone else None,
    )
    session.add(tenant)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="create",
        target=draft.code,
        tenant=draft.code,
        detail={"after": {"code": draft.code, "name": tenant.name}},
    )
    session.flush()
    return _row(tenant)


def update_tenant(*, session: Session, actor: Actor, draft: TenantDraft) -> TenantRow:
    """Change a tenant's name and contact (its code is its identity and never changes)."""
    require(actor, OBJ, "write", tenant=draft.code, target=draft.code)
    tenant = _load(session, actor, draft.code, action="write")
    if not 2 <= len(draft.name.strip()) <= 64:
        raise ValidationFailed("应为 2 到 64 个字", field="租户名称")
    if draft.contact_phone and not _PHONE.fullmatch(draft.contact_phone):
        raise ValidationFailed("应为11位手机号或带区号的固定电话", field="联系电话")
    ring = keyring()
    before = tenant.name
    tenant.name = draft.name.strip()
    # The form never shows the stored contact unmasked: a blank field keeps it.
    if draft.contact_name:
        tenant.contact_name_enc = ring.encrypt(draft.contact_name)
    if draft.contact_phone:
        tenant.contact_phone_enc = ring.encrypt(draft.contact_phone)
    tenant.updated_at = utcnow()
    session.add(tenant)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="update",
        target=draft.code,
        tenant=draft.code,
        detail={
            "before": {"name": before},
            "after": {
                "name": tenant.name,
                "contact_name": mask_name(draft.contact_name),
                "contact_phone": mask_phone(draft.contact_phone) if draft.contact_phone else "",
            },
        },
    )
    return _row(tenant)


def set_tenant_status(
    *, session: Session, actor: Actor, code: str, status: TenantStatus, reason: str
) -> TenantRow:
    """Suspend or resume a tenant; a suspended tenant's users are refused at their next action."""
    require(actor, OBJ, "write", tenant=code, target=code)
    tenant = _load(session, actor, code, action="write")
    if tenant.level == TenantLevel.PROVINCE.value:
        raise ValidationFailed("省级租户不能停用", field="租户")
    if not reason.strip():
        raise ValidationFailed("请填写原因", field="原因")
    before = tenant.status
    tenant.status = status.value
    tenant.updated_at = utcnow()
    session.add(tenant)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="set_status",
        target=code,
        tenant=code,
        detail={"before": before, "after": status.value, "reason": reason.strip()},
    )
    return _row(tenant)


def tenant_choices(*, session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(code, name) of the tenants an actor may switch its view to; empty for county users."""
    scope = base_scope(actor)
    if not scope.all_tenants and len(scope.codes) <= 1:
        return []
    statement = select(Tenant).where(Tenant.level == TenantLevel.COUNTY.value).order_by(Tenant.code)
    if not scope.all_tenants:
        statement = statement.where(Tenant.code.in_(sorted(scope.codes)))  # type: ignore[attr-defined]
    return [(t.code, t.name) for t in session.exec(statement).all()]


def tenant_names(*, session: Session, actor: Actor) -> dict[str, str]:
    """Code → name of the tenants in the actor's scope (labels for figures and lists)."""
    statement = restrict(select(Tenant.code, Tenant.name), Tenant.code, actor)  # type: ignore[arg-type]
    return dict(session.exec(statement).all())


def tenant_labels(session: Session, codes: set[str]) -> dict[str, str]:
    """Each tenant code as lists show it, 名称（代码） (the code alone when unknown)."""
    if not codes:
        return {}
    statement = select(Tenant.code, Tenant.name).where(Tenant.code.in_(sorted(codes)))  # type: ignore[attr-defined]
    names = dict(session.exec(statement).all())
    return {code: f"{names[code]}（{code}）" if code in names else code for code in codes}


def get_tenant_name(session: Session, code: str) -> str:
    """Name of a tenant for labels (the code itself when unknown)."""
    tenant = session.get(Tenant, code)
    return tenant.name if tenant else code


def tenant_is_active(session: Session, code: str) -> bool:
    """Whether users of ``code`` may act (used at login and on every session check)."""
    tenant = session.get(Tenant, code)
    return tenant is not None and tenant.status == TenantStatus.ACTIVE.value
