"""State of the 数据字典 page: dictionaries, their items, edits and history."""

from __future__ import annotations

import dataclasses

import reflex as rx

from console.authz.service import can
from console.core.paging import PageRequest
from console.dictionaries import service
from console.ui.actions import call
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class TypeView:
    """One dictionary in the left-hand list."""

    code: str
    name: str
    count: int
    extensible: bool
    source: str


@dataclasses.dataclass(frozen=True)
class ItemView:
    """One item row."""

    id: int
    code: str
    label: str
    parent_code: str
    enabled: bool
    valid_to: str
    remark: str
    local: bool


@dataclasses.dataclass(frozen=True)
class HistoryView:
    """One change of an item."""

    time: str
    actor: str
    action: str
    before: str
    after: str


class DictionaryState(PagedListMixin, rx.State):
    """数据字典."""

    types: list[TypeView] = []
    type_code: str = "division"
    type_name: str = ""
    type_source: str = ""
    extensible: bool = False
    rows: list[ItemView] = []
    can_write: bool = False

    edit_open: bool = False
    edit_id: int = 0  # 0 = adding
    edit_code: str = ""
    edit_label: str = ""
    edit_parent: str = ""
    edit_remark: str = ""
    edit_local: bool = False
    edit_error: str = ""

    history_open: bool = False
    history_code: str = ""
    history: list[HistoryView] = []

    @rx.event(background=True)
    async def load(self):
        """Fetch the dictionaries and the current page of the chosen one."""
        async with self:
            if not await self._may_load():
                return
            self.loading, self.error = True, ""
            seq = self._next_load()
            token, type_code, keyword, page = (
                await self._token(),
                self.type_code,
                self.keyword,
                self.page,
            )

        def fetch(session, actor):
            types = service.list_types(session=session, actor=actor)
            items = service.list_items(
                session=session,
                actor=actor,
                type_code=type_code,
                search=keyword,
                page=PageRequest(page, PAGE_SIZE),
            )
            return types, items, can(actor, service.OBJ, "write")

        outcome = await call(token, fetch)
        if outcome.relogin:
            yield self._relogin(outcome)
            return
        async with self:
            if self._stale(seq) or self._failed(outcome):
                return
            types, items, self.can_write = outcome.value
            self.types = [
                TypeView(t.code, t.name, t.items, t.tenant_extensible, t.source) for t in types
            ]
            current = next((t for t in types if t.code == type_code), None)
            if current is not None:
                self.type_name, self.type_source = current.name, current.source
                self.extensible = current.tenant_extensible
            self.rows = [
                ItemView(
                    i.id,
                    i.code,
                    i.label,
                    i.parent_code,
                    i.enabled,
                    i.valid_to,
                    i.remark,
                    bool(i.tenant_code),
                )
                for i in items.items
            ]
            self.total, self.pages = items.total, items.pages

    @rx.event
    def choose_type(self, code: str):
        """Show another dictionary."""
        self.type_code, self.page, self.keyword = code, 1, ""
        return DictionaryState.load

    @rx.event
    def open_add(self, local: bool) -> None:
        """Add an item (``local``: only the user's county sees it)."""
        self.edit_open, self.edit_id, self.edit_local, self.edit_error = True, 0, local, ""
        self.edit_code = self.edit_label = self.edit_parent = self.edit_remark = ""

    @rx.event
    def open_edit(self, item_id: int) -> None:
        """Edit an item (its code stays)."""
        row = next(r for r in self.rows if r.id == item_id)
        self.edit_open, self.edit_id, self.edit_error = True, row.id, ""
        self.edit_code, self.edit_label = row.code, row.label
        self.edit_parent, self.edit_remark = row.parent_code, row.remark

    @rx.event
    def set_edit_open(self, value: bool) -> None:
        """Close the form."""
        self.edit_open = value

    @rx.event(background=True)
    async def save(self, form: dict[str, str]):
        """Add or update the item."""
        async with self:
            token, item_id, local, type_code = (
                await self._token(),
                self.edit_id,
                self.edit_local,
                self.type_code,
            )
        draft = service.ItemDraft(
            code=form.get("code", "").strip(),
            label=form.get("label", "").strip(),
            parent_code=form.get("parent_code", "").strip(),
            remark=form.get("remark", "").strip(),
        )

        def apply(session, actor):
            if item_id:
                return service.update_item(
                    session=session, actor=actor, item_id=item_id, draft=draft
                )
            return service.add_item(
                session=session, actor=actor, type_code=type_code, draft=draft, local=local
            )

        outcome = await call(token, apply)
        async with self:
            if not outcome.ok:
                detail = f"{outcome.field}：{outcome.error}" if outcome.field else outcome.error
                self.edit_error = detail or outcome.relogin
                return
            self.edit_open = False
        yield rx.toast.success("字典项已保存")
        yield DictionaryState.load

    @rx.event(background=True)
    async def toggle(self, item_id: int, enable: bool):
        """Enable or disable an item."""
        async for event in self._act(
            lambda s, a: service.set_enabled(session=s, actor=a, item_id=item_id, enabled=enable),
            "已启用" if enable else "已停用（不再出现在选择列表中）",
        ):
            yield event

    @rx.event(background=True)
    async def show_history(self, item_id: int, code: str):
        """Who changed this item, when, before and after."""
        async with self:
            token = await self._token()
        outcome = await call(
            token, lambda s, a: service.item_history(session=s, actor=a, item_id=item_id)
        )
        if not outcome.ok:
            yield rx.toast.error(outcome.error or outcome.relogin)
            return
        async with self:
            self.history = [
                HistoryView(h.time, h.actor, h.action, h.before, h.after)
                for h in outcome.value or []
            ]
            self.history_code, self.history_open = code, True

    @rx.event
    def set_history_open(self, value: bool) -> None:
        """Close the history."""
        self.history_open = value
