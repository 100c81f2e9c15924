"""State of the 流程配置 list: businesses and workflows the viewing tenant works with.

It opens the editor (``editor_state.EditorState``) for a row, a new definition, or the
definition the address names; the editor never refers back to it.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from console.authz.service import can
from console.core.paging import PageRequest
from console.ui.actions import call
from console.ui.effects_state import toast
from console.ui.list_state import PagedListMixin
from console.workflows import draft_service, service
from console.workflows.editor_state import EditorState
from console.workflows.models import Kind
from console.workflows.service import OBJ

PAGE_SIZE = 20
ORIGIN_FILTERS = [("*", "全部来源"), *service.ORIGIN_LABELS.items()]


@dataclasses.dataclass(frozen=True)
class DefinitionRowView:
    """One row of the list."""

    key: str
    name: str
    category: str  # the 登记类型's name (its code in the tooltip)
    category_code: str
    origin: str
    origin_label: str
    served: str
    draft: str
    updated: str


class WorkflowsState(PagedListMixin, rx.State):
    """流程配置 (list)."""

    kind: str = Kind.BUSINESS.value
    rows: list[DefinitionRowView] = []
    origin_filter: str = "*"
    viewing: str = ""
    can_write: bool = False

    create_open: bool = False
    create_error: str = ""

    @rx.event
    def enter(self):
        """Page load: the list, and the editor when the address names a definition."""
        params = self.router.page.params
        kind, key = params.get("kind", ""), params.get("key", "")
        if kind in {k.value for k in Kind} and key:
            self.kind = kind  # the list behind the editor shows the same kind
            return [WorkflowsState.load, EditorState.open_definition(kind, key)]
        return [WorkflowsState.load, EditorState.hide]

    @rx.event(background=True)
    async def load(self):
        """Fetch the current page of the list."""

        def prepare():
            kind, keyword, page = Kind(self.kind), self.keyword, self.page
            origin = "" if self.origin_filter == "*" else self.origin_filter

            def fetch(session, actor):
                listing = service.list_definitions(
                    session=session,
                    actor=actor,
                    kind=kind,
                    request=PageRequest(page, PAGE_SIZE),
                    search=keyword,
                    origin=origin,
                )
                tenant = service.viewing_tenant(actor)
                return listing, can(actor, OBJ, "write", tenant=tenant), tenant

            return fetch

        def show(value):
            listing, may_write, tenant = value
            self.can_write = may_write
            self.viewing = (
                "全省模板（省级）"
                if tenant == service.province_code()
                else f"区县 {tenant}：继承省级模板，可本地覆盖"
            )
            self.rows = [
                DefinitionRowView(
                    r.key,
                    r.name,
                    r.category_label,
                    r.category,
                    r.origin,
                    r.origin_label,
                    f"v{r.served_version}" if r.served_version else "未发布",
                    "有草稿" if r.has_draft else "",
                    r.updated,
                )
                for r in listing.items
            ]
            self.total, self.pages = listing.total, listing.pages

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event
    def set_kind(self, value: str | list[str]):
        """Switch between businesses and workflows."""
        chosen = value if isinstance(value, str) else value[0]
        self.kind, self.page, self.keyword = chosen, 1, ""
        return WorkflowsState.load

    @rx.event
    def set_origin_filter(self, value: str):
        """Filter by where the setting comes from."""
        self.origin_filter, self.page = value, 1
        return WorkflowsState.load

    @rx.event
    def set_create_open(self, value: bool) -> None:
        """Open or close the new-definition form."""
        self.create_open, self.create_error = value, ""

    @rx.event(background=True)
    async def create(self, form: dict[str, str]):
        """Create a definition of the viewing tenant as draft v1, then open it."""
        async with self:
            token, kind = await self._token(), Kind(self.kind)
        key, name = form.get("key", ""), form.get("name", "")
        outcome = await call(
            token,
            lambda s, a: draft_service.create_definition(
                session=s, actor=a, kind=kind, key=key, name=name
            ),
        )
        async with self:
            if not outcome.ok:
                self.create_error = outcome.error_text
                return
            self.create_open = False
        yield toast.success(f"已新建 {key}（草稿 v1）")
        yield WorkflowsState.load
        yield EditorState.open_definition(kind.value, key.strip())
