"""State of the 组织机构 page: the tree of a tenant's organisations."""

from __future__ import annotations

import dataclasses

import reflex as rx
from sqlmodel import Session

from console.authz.service import can
from console.core.actor import Actor
from console.core.identifiers import uscc_problem
from console.iam import org_service
from console.iam.models import ORG_KIND_LABELS
from console.iam.state import TenantOption
from console.tenancy import service as tenancy
from console.ui.form_state import FilterMixin, FormMixin
from console.ui.list_state import PagedListMixin

KIND_OPTIONS = list(ORG_KIND_LABELS.items())


@dataclasses.dataclass(frozen=True)
class OrgView:
    """One node, indented by depth."""

    id: int
    tenant_code: str
    tenant_name: str
    name: str
    kind: str
    kind_label: str
    uscc: str
    indent: str
    parent_id: int
    members: int


class OrgsState(PagedListMixin, FilterMixin, FormMixin, rx.State):
    """组织机构."""

    rows: list[OrgView] = []
    tenant_filter: str = "*"
    tenant_options: list[TenantOption] = []
    can_write: bool = False
    can_delete: bool = False
    can_export: bool = False

    edit_open: bool = False
    edit_id: int = 0  # 0 = creating
    edit_name: str = ""
    edit_kind: str = "registry"
    edit_uscc: str = ""
    edit_tenant: str = ""
    edit_parent: str = "none"
    form_error: str = ""
    uscc_error: str = ""

    @rx.event(background=True)
    async def load(self):
        """Fetch the tree (a tenant has tens of organisations, shown whole)."""

        def prepare():  # inside the state lock: read what the fetch needs
            tenant = self._chosen("tenant_filter")

            def fetch(session, actor):
                nodes = org_service.org_tree(session=session, actor=actor, tenant_code=tenant)
                choices = tenancy.tenant_choices(session=session, actor=actor)
                if actor.tenant_code not in dict(choices):
                    own = tenancy.get_tenant_name(session, actor.tenant_code)
                    choices = [(actor.tenant_code, own), *choices]
                rights = tuple(
                    can(actor, org_service.OBJ, act) for act in ("write", "delete", "export")
                )
                return nodes, choices, rights

            return fetch

        def show(value):  # inside the state lock: what the page shows
            nodes, choices, (self.can_write, self.can_delete, self.can_export) = value
            self.rows = [
                OrgView(
                    n.id,
                    n.tenant_code,
                    n.tenant_name,
                    n.name,
                    n.kind,
                    n.kind_label,
                    n.uscc,
                    "　" * (2 * n.depth),
                    n.parent_id or 0,
                    n.members,
                )
                for n in nodes
            ]
            self.total = len(self.rows)
            self.tenant_options = [TenantOption(code, name) for code, name in choices]

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event(background=True)
    async def export(self):
        """Download the tree shown as CSV (the export is logged)."""
        async with self:
            tenant = self._chosen("tenant_filter")

        async for event in self._download_csv(
            lambda s, a: org_service.export_orgs(session=s, actor=a, tenant_code=tenant),
            filename="组织机构.csv",
            done="已导出 {count} 条",
        ):
            yield event

    @rx.event
    def open_create(self, parent_id: int, tenant_code: str) -> None:
        """New organisation, optionally under ``parent_id``."""
        default_tenant = tenant_code or (self.tenant_options[0].code if self.tenant_options else "")
        self.edit_open, self.edit_id, self.edit_name = True, 0, ""
        self.edit_kind, self.edit_uscc, self.edit_tenant = "registry", "", default_tenant
        self.edit_parent = str(parent_id) if parent_id else "none"
        self.form_error = self.uscc_error = ""

    @rx.event
    def open_edit(self, org_id: int) -> None:
        """Edit an organisation."""
        node = next(row for row in self.rows if row.id == org_id)
        self.edit_open, self.edit_id, self.edit_name = True, node.id, node.name
        self.edit_kind, self.edit_uscc, self.edit_tenant = node.kind, node.uscc, node.tenant_code
        self.edit_parent = str(node.parent_id) if node.parent_id else "none"
        self.form_error = self.uscc_error = ""

    @rx.event
    def set_edit_kind(self, value: str) -> None:
        """Organisation kind."""
        self.edit_kind = value

    @rx.event
    def set_edit_tenant(self, value: str) -> None:
        """Tenant of a new organisation (its parent choices follow)."""
        self.edit_tenant, self.edit_parent = value, "none"

    @rx.event
    def set_edit_parent(self, value: str) -> None:
        """Parent organisation."""
        self.edit_parent = value

    @rx.event
    def check_uscc(self, value: str) -> None:
        """Live check of the credit code."""
        self.uscc_error = (uscc_problem(value) or "") if value.strip() else ""

    @rx.event(background=True)
    async def save(self, form: dict[str, str]):
        """Create or update."""
        async with self:
            org_id = self.edit_id
            draft = org_service.OrgDraft(
                tenant_code=self.edit_tenant,
                name=form.get("name", "").strip(),
                kind=self.edit_kind,
                uscc=form.get("uscc", "").strip(),
                parent_id=None if self.edit_parent == "none" else int(self.edit_parent),
            )

        def apply(session, actor):
            if org_id:
                return org_service.update_org(
                    session=session, actor=actor, org_id=org_id, draft=draft
                )
            return org_service.create_org(session=session, actor=actor, draft=draft)

        async for event in self._submit(
            apply, dialog="edit", error="form_error", success=f"机构 {draft.name} 已保存"
        ):
            yield event

    def _delete_one(self, session: Session, actor: Actor, key: str) -> None:
        org_service.delete_org(session=session, actor=actor, org_id=int(key))

    def _deleted_text(self) -> str:
        return "机构已删除"
