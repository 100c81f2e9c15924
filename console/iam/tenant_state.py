"""State of the 租户管理 page."""

from __future__ import annotations

import dataclasses

import reflex as rx
from sqlmodel import Session

from console.authz.service import can
from console.core.actor import Actor
from console.core.paging import PageRequest
from console.dictionaries import lookup
from console.iam.user_service import count_by_tenant
from console.tenancy import service
from console.tenancy.models import TenantStatus
from console.ui.actions import call
from console.ui.effects_state import toast
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 20


@dataclasses.dataclass(frozen=True)
class TenantView:
    """One tenant row (contact masked)."""

    code: str
    name: str
    level: str
    status: str
    status_label: str
    contact_name: str
    contact_phone: str
    users: int
    updated_at: str


def _save(session: Session, actor: Actor, draft: service.TenantDraft, *, editing: bool) -> object:
    if editing:
        return service.update_tenant(session=session, actor=actor, draft=draft)
    problem = lookup.new_tenant_division_problem
    return service.create_tenant(
        session=session, actor=actor, draft=draft, division_problem=problem
    )


class TenantsState(PagedListMixin, rx.State):
    """租户管理: list, create/edit dialog, suspend/resume with a reason."""

    rows: list[TenantView] = []
    status_filter: str = "*"
    can_write: bool = False

    edit_open: bool = False
    editing_code: str = ""  # "" = creating
    edit_name: str = ""
    form_error: str = ""
    form_field: str = ""

    status_open: bool = False
    status_code: str = ""
    status_name: str = ""
    status_suspend: bool = True
    status_error: str = ""

    @rx.event(background=True)
    async def load(self):
        """Fetch the current page."""

        def prepare():  # inside the state lock: read what the fetch needs
            keyword, page = self.keyword, self.page
            status = None if self.status_filter == "*" else self.status_filter

            def fetch(session, actor):
                listing = service.list_tenants(
                    session=session,
                    actor=actor,
                    search=keyword,
                    status=status,
                    page=PageRequest(page, PAGE_SIZE),
                    user_counts=count_by_tenant,
                )
                return listing, can(actor, service.OBJ, "write")

            return fetch

        def show(value):  # inside the state lock: what the page shows
            listing, self.can_write = value
            self.rows = [
                TenantView(
                    r.code,
                    r.name,
                    r.level,
                    r.status,
                    r.status_label,
                    r.contact_name,
                    r.contact_phone,
                    r.users,
                    r.updated_at,
                )
                for r in listing.items
            ]
            self.total, self.pages = listing.total, listing.pages

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event
    def set_status_filter(self, value: str):
        """Filter by status."""
        self.status_filter, self.page = value, 1
        return TenantsState.load

    @rx.event
    def open_create(self) -> None:
        """Open an empty tenant form."""
        self.edit_open, self.editing_code, self.edit_name = True, "", ""
        self.form_error = self.form_field = ""

    @rx.event
    def open_edit(self, code: str, name: str) -> None:
        """Open the form for an existing tenant (contact must be typed again: never unmasked)."""
        self.edit_open, self.editing_code, self.edit_name = True, code, name
        self.form_error = self.form_field = ""

    @rx.event
    def set_edit_open(self, value: bool) -> None:
        """Close the form."""
        self.edit_open = value

    @rx.event(background=True)
    async def save(self, form: dict[str, str]):
        """Create or update the tenant."""
        async with self:
            token, editing = await self._token(), self.editing_code
        draft = service.TenantDraft(
            code=editing or form.get("code", "").strip(),
            name=form.get("name", "").strip(),
            contact_name=form.get("contact_name", "").strip(),
            contact_phone=form.get("contact_phone", "").strip(),
        )
        outcome = await call(token, lambda s, a: _save(s, a, draft, editing=bool(editing)))
        async with self:
            if not outcome.ok:
                self.form_error, self.form_field = outcome.error or outcome.relogin, outcome.field
                return
            self.edit_open = False
        yield toast.success(f"租户 {draft.name} 已保存")
        yield TenantsState.load

    @rx.event
    def ask_status(self, code: str, name: str, suspend: bool) -> None:
        """Ask for confirmation and a reason before suspending or resuming."""
        self.status_open, self.status_code, self.status_name = True, code, name
        self.status_suspend, self.status_error = suspend, ""

    @rx.event
    def set_status_open(self, value: bool) -> None:
        """Close the confirmation."""
        self.status_open = value

    @rx.event(background=True)
    async def apply_status(self, form: dict[str, str]):
        """Suspend (its users are refused at their next action) or resume the tenant."""
        async with self:
            token, code, suspend = await self._token(), self.status_code, self.status_suspend
        status = TenantStatus.SUSPENDED if suspend else TenantStatus.ACTIVE
        reason = form.get("reason", "")
        outcome = await call(
            token,
            lambda s, a: service.set_tenant_status(
                session=s, actor=a, code=code, status=status, reason=reason
            ),
        )
        async with self:
            if not outcome.ok:
                self.status_error = outcome.error or outcome.relogin
                return
            self.status_open = False
        yield toast.success("租户已停用" if suspend else "租户已启用")
        yield TenantsState.load
