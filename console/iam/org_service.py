"""Organisations: a tree per tenant, credit codes checked (GB 32100)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import NotFound, ValidationFailed
from console.core.exporting import to_csv
from console.core.identifiers import require_valid, uscc_problem
from console.iam.models import ORG_KIND_LABELS, Organization, User
from console.tenancy.models import Tenant
from console.tenancy.scope import ensure_visible, restrict

OBJ = "iam.organizations"


@dataclass(frozen=True)
class OrgDraft:
    """Fields of an organisation."""

    tenant_code: str
    name: str
    kind: str
    parent_id: int | None = None
    uscc: str = ""


@dataclass(frozen=True)
class OrgNode:
    """An organisation with its depth in the tree, in display order."""

    id: int
    tenant_code: str
    tenant_name: str
    name: str
    kind: str
    kind_label: str
    uscc: str
    depth: int
    parent_id: int | None
    members: int


def _check(session: Session, draft: OrgDraft, *, own_id: int | None = None) -> None:
    if not 2 <= len(draft.name.strip()) <= 128:
        raise ValidationFailed("应为 2 到 128 个字", field="机构名称")
    if draft.kind not in ORG_KIND_LABELS:
        raise ValidationFailed("请选择机构类别", field="机构类别")
    if draft.uscc:
        require_valid(uscc_problem(draft.uscc), field="统一社会信用代码")
    if session.get(Tenant, draft.tenant_code) is None:
        raise ValidationFailed(f"租户 {draft.tenant_code} 不存在", field="所属租户")
    if draft.parent_id is not None:
        parent = session.get(Organization, draft.parent_id)
        if parent is None or parent.tenant_code != draft.tenant_code:
            raise ValidationFailed("上级机构须属于同一租户", field="上级机构")
        if own_id is not None and _is_descendant(session, draft.parent_id, own_id):
            raise ValidationFailed("不能把机构移到它自己或其下级之下", field="上级机构")


def _is_descendant(session: Session, candidate: int, ancestor: int) -> bool:
    current: int | None = candidate
    while current is not None:
        if current == ancestor:
            return True
        node = session.get(Organization, current)
        current = node.parent_id if node else None
    return False


def create_org(*, session: Session, actor: Actor, draft: OrgDraft) -> Organization:
    """Add an organisation to a tenant's tree."""
    authz.require(actor, OBJ, "write", tenant=draft.tenant_code, target=draft.name)
    ensure_visible(actor, draft.tenant_code, obj=OBJ, action="write", target=draft.name)
    _check(session, draft)
    org = Organization(
        tenant_code=draft.tenant_code,
        name=draft.name.strip(),
        kind=draft.kind,
        parent_id=draft.parent_id,
        uscc=draft.uscc.strip().upper() or None,
    )
    session.add(org)
    session.flush()
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="create",
        target=str(org.id),
        tenant=draft.tenant_code,
        detail={"after": {"name": org.name, "kind": org.kind}},
    )
    return org


def update_org(*, session: Session, actor: Actor, org_id: int, draft: OrgDraft) -> Organization:
    """Rename, re-classify or move an organisation within its tenant."""
    org = _load(session, actor, org_id, action="write")
    authz.require(actor, OBJ, "write", tenant=org.tenant_code, target=str(org_id))
    if draft.tenant_code != org.tenant_code:
        raise ValidationFailed("机构不能移到其他租户", field="所属租户")
    _check(session, draft, own_id=org_id)
    before = {"name": org.name, "kind": org.kind, "parent_id": org.parent_id, "uscc": org.uscc}
    org.name, org.kind, org.parent_id = draft.name.strip(), draft.kind, draft.parent_id
    org.uscc, org.updated_at = draft.uscc.strip().upper() or None, utcnow()
    session.add(org)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="update",
        target=str(org_id),
        tenant=org.tenant_code,
        detail={
            "before": before,
            "after": {
                "name": org.name,
                "kind": org.kind,
                "parent_id": org.parent_id,
                "uscc": org.uscc,
            },
        },
    )
    return org


def delete_org(*, session: Session, actor: Actor, org_id: int) -> None:
    """Delete an organisation with no sub-organisations and no members."""
    org = _load(session, actor, org_id, action="delete")
    authz.require(actor, OBJ, "delete", tenant=org.tenant_code, target=str(org_id))
    if session.exec(select(Organization).where(Organization.parent_id == org_id)).first():
        raise ValidationFailed("请先删除或移走下级机构", field="机构")
    if session.exec(select(User).where(User.org_id == org_id)).first():
        raise ValidationFailed("仍有用户属于该机构，请先调整用户", field="机构")
    session.delete(org)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="delete",
        target=str(org_id),
        tenant=org.tenant_code,
        detail={"before": {"name": org.name}},
    )


def _load(session: Session, actor: Actor, org_id: int, *, action: str) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("机构不存在")
    ensure_visible(actor, org.tenant_code, obj=OBJ, action=action, target=str(org_id))
    return org


def org_tree(*, session: Session, actor: Actor, tenant_code: str | None = None) -> list[OrgNode]:
    """Organisations in scope as a depth-first list (parents before children)."""
    authz.require(actor, OBJ, "read")
    return _tree(session, actor, tenant_code)


def export_orgs(
    *, session: Session, actor: Actor, tenant_code: str | None = None
) -> tuple[str, int]:
    """The tree as CSV (indented names); the export is logged with its size."""
    authz.require(actor, OBJ, "export")
    nodes = _tree(session, actor, tenant_code)
    text = to_csv(
        ("机构名称", "类别", "统一社会信用代码", "所属租户", "人员数"),
        (["　" * n.depth + n.name, n.kind_label, n.uscc, n.tenant_name, n.members] for n in nodes),
    )
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="export",
        target=f"{len(nodes)} 条",
        detail={"rows": len(nodes), "tenant": tenant_code or "全部"},
    )
    return text, len(nodes)


def _tree(session: Session, actor: Actor, tenant_code: str | None) -> list[OrgNode]:
    statement = restrict(select(Organization), Organization.tenant_code, actor)
    if tenant_code:
        statement = statement.where(Organization.tenant_code == tenant_code)
    orgs = session.exec(statement.order_by(Organization.sort_order, Organization.id)).all()
    tenants = {t.code: t.name for t in session.exec(select(Tenant)).all()}
    members: dict[int, int] = {}
    for org_id in session.exec(select(User.org_id).where(User.org_id.is_not(None))).all():  # type: ignore[union-attr]
        members[org_id] = members.get(org_id, 0) + 1
    children: dict[int | None, list[Organization]] = {}
    known = {org.id for org in orgs}
    for org in orgs:
        parent = org.parent_id if org.parent_id in known else None
        children.setdefault(parent, []).append(org)
    ordered: list[OrgNode] = []

    def walk(parent: int | None, depth: int) -> None:
        for org in children.get(parent, []):
            assert org.id is not None
            ordered.append(
                OrgNode(
                    org.id,
                    org.tenant_code,
                    tenants.get(org.tenant_code, ""),
                    org.name,
                    org.kind,
                    ORG_KIND_LABELS[org.kind],
                    org.uscc or "",
                    depth,
                    org.parent_id,
                    members.get(org.id, 0),
                )
            )
            walk(org.id, depth + 1)

    walk(None, 0)
    return ordered
