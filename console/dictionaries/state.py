"""State of the 数据字典 page: dictionaries, their items, edits and history."""

from __future__ import annotations

import dataclasses

import reflex as rx
from sqlmodel import Session

from console.authz.service import can
from console.core.actor import Actor
from console.core.exporting import XLSX_MIME
from console.core.paging import PageRequest
from console.core.tabular import MAX_UPLOAD_BYTES
from console.dictionaries import importing, lookup, service
from console.ui.choice import Choice
from console.ui.effects_state import toast
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin
from console.ui.upload_guard import register_upload

PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class TypeView:
    """One dictionary in the left-hand list."""

    code: str
    name: str
    count: int
    extensible: bool
    hierarchical: bool
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
    builtin: bool
    children: int
    category: str = ""  # 所属类别 (a business code's 登记类型)
    category_label: str = ""


@dataclasses.dataclass(frozen=True)
class Crumb:
    """One level above the items shown in the tree view."""

    code: str
    label: str


@dataclasses.dataclass(frozen=True)
class ProblemView:
    """A row of an import file that cannot be imported."""

    line: int
    code: str
    reason: str


@dataclasses.dataclass(frozen=True)
class ChangeView:
    """An item an import adds, changes or disables."""

    line: int
    code: str
    label: str
    kind: str
    fields: str


_KIND_LABELS = {"add": "新增", "change": "修改", "disable": "停用"}
_ACTION_LABELS = {"create": "新增", "update": "修改", "enable": "启用", "disable": "停用"}


@dataclasses.dataclass(frozen=True)
class HistoryView:
    """One change of an item."""

    time: str
    actor: str
    action: str
    before: str
    after: str


class DictionaryState(PagedListMixin, FormMixin, rx.State):
    """数据字典."""

    types: list[TypeView] = []
    type_code: str = "division"
    type_name: str = ""
    type_source: str = ""
    extensible: bool = False
    hierarchical: bool = False
    crumbs: list[Crumb] = []
    rows: list[ItemView] = []
    can_write: bool = False
    can_delete: bool = False
    can_export: bool = False
    exporting: bool = False

    edit_open: bool = False
    edit_id: int = 0  # 0 = adding
    edit_code: str = ""
    edit_label: str = ""
    edit_parent: str = ""
    edit_remark: str = ""
    edit_category: str = ""
    # The dictionary the items' 所属类别 come from ("登记类型"), "" when they have none.
    category_name: str = ""
    category_options: list[Choice] = []
    edit_local: bool = False
    edit_error: str = ""
    code_error: str = ""
    label_error: str = ""

    history_open: bool = False
    history_code: str = ""
    history: list[HistoryView] = []

    import_open: bool = False
    import_local: bool = False
    import_running: bool = False
    import_summary: str = ""
    import_problems: list[ProblemView] = []
    import_changes: list[ChangeView] = []
    import_hidden: int = 0
    import_ready: bool = False
    _import_payload: bytes = b""
    _import_name: str = ""
    _import_fingerprint: str = ""

    @rx.event(background=True)
    async def load(self):
        """Fetch the dictionaries and the current page of the chosen one."""

        def prepare():  # inside the state lock: read what the fetch needs
            type_code, keyword, page = (
                self.type_code,
                self.keyword,
                self.page,
            )
            parent = self.crumbs[-1].code if self.crumbs else ""

            def fetch(session, actor):
                types = service.list_types(session=session, actor=actor)
                tree = any(t.code == type_code and t.hierarchical for t in types)
                items = service.list_items(
                    session=session,
                    actor=actor,
                    type_code=type_code,
                    search=keyword,
                    # Tree view shows one level; a search looks through every level.
                    parent_code=parent if tree and not keyword else None,
                    page=PageRequest(page, PAGE_SIZE),
                )
                rights = {
                    act: can(actor, service.OBJ, act) for act in ("write", "delete", "export")
                }
                categories = service.CATEGORY_OF.get(type_code)
                labels = lookup.labels(categories[0]) if categories else {}
                return types, items, rights, (categories[1] if categories else "", labels)

            return fetch

        def show(value):  # inside the state lock: what the page shows
            types, items, rights, (category_name, category_labels) = value
            self.category_name = category_name
            self.category_options = [Choice(c, f"{t}（{c}）") for c, t in category_labels.items()]
            self.can_write, self.can_delete = rights["write"], rights["delete"]
            self.can_export = rights["export"]
            self.types = [
                TypeView(t.code, t.name, t.items, t.tenant_extensible, t.hierarchical, t.source)
                for t in types
            ]
            current = next((t for t in types if t.code == self.type_code), None)
            if current is not None:
                self.type_name, self.type_source = current.name, current.source
                self.extensible, self.hierarchical = current.tenant_extensible, current.hierarchical
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
                    i.builtin,
                    i.children,
                    i.category,
                    category_labels.get(i.category, i.category),
                )
                for i in items.items
            ]
            self.total, self.pages = items.total, items.pages

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event
    def choose_type(self, code: str):
        """Show another dictionary (its top level, for a tree)."""
        self.type_code, self.page, self.keyword, self.crumbs = code, 1, "", []
        return DictionaryState.load

    @rx.event
    def open_children(self, code: str, label: str):
        """Go one level down the tree, to the items under ``code``."""
        self.crumbs = [*self.crumbs, Crumb(code, label)]
        self.page, self.keyword = 1, ""
        return DictionaryState.load

    @rx.event
    def go_up(self, depth: int):
        """Go back up the tree to ``depth`` levels below the top (0 = the top)."""
        self.crumbs = self.crumbs[:depth]
        self.page, self.keyword = 1, ""
        return DictionaryState.load

    # --- export ---------------------------------------------------------------------------

    @rx.event(background=True)
    async def export(self, fmt: str):
        """Download the dictionary (as the search shows it) as CSV or XLSX; logged."""
        async with self:
            type_code, keyword = self.type_code, self.keyword
        mime = XLSX_MIME if fmt == "xlsx" else "text/csv"
        async for event in self._deliver(
            lambda s, a: service.export_items(
                session=s, actor=a, type_code=type_code, search=keyword, fmt=fmt
            ),
            lambda value: [rx.download(data=value[1], filename=value[0], mime_type=mime)],
            busy="exporting",
        ):
            yield event

    # --- delete ---------------------------------------------------------------------------

    def _delete_one(self, session: Session, actor: Actor, key: str) -> None:
        service.delete_item(session=session, actor=actor, item_id=int(key))

    # --- import ---------------------------------------------------------------------------

    @rx.event
    def set_import_open(self, value: bool) -> None:
        """Open or close the import dialog (a fresh dialog forgets the last file)."""
        self.import_open = value
        if value:
            self._clear_import()

    @rx.event
    def set_import_local(self, value: bool) -> None:
        """Import into the current county's local items instead of the province-wide ones."""
        self.import_local = value
        self._clear_import()

    def _clear_import(self) -> None:
        self.import_summary, self.import_problems, self.import_changes = "", [], []
        self.import_hidden, self.import_ready, self._import_fingerprint = 0, False, ""

    @rx.event
    async def upload_import(self, files: list[rx.UploadFile]):
        """Receive the CSV/XLSX file, then check it in the background."""
        self._clear_import()
        if not files:
            self.import_summary = "请先选择 CSV 或 XLSX 文件"
            return None
        self._import_payload = await files[0].read()
        self._import_name = files[0].name or "upload.csv"
        self.import_running, self.import_summary = True, "正在逐行检查…"
        return DictionaryState.preview_import

    @rx.event(background=True)
    async def preview_import(self):
        """Check every row and show what the import would add, change and disable."""
        async with self:
            type_code, local = self.type_code, self.import_local
            payload, name = self._import_payload, self._import_name
        outcome = await self._call(
            lambda s, a: importing.preview_import(
                session=s, actor=a, type_code=type_code, content=payload, filename=name, local=local
            )
        )
        async with self:
            self.import_running = False
            plan = outcome.value
            if not outcome.ok or plan is None:
                self.import_summary = outcome.error or outcome.relogin
                return
            self._show_plan(plan)

    def _show_plan(self, plan: importing.ImportPlan) -> None:
        self.import_summary = (
            f"新增 {plan.count('add')} · 修改 {plan.count('change')} · "
            f"停用 {plan.count('disable')} · 不变 {plan.unchanged} · 错误 {len(plan.problems)}"
        )
        self.import_problems = [ProblemView(p.line, p.code, p.reason) for p in plan.problems]
        shown = plan.changes[: importing.PREVIEW_LIST_LIMIT]
        self.import_changes = [
            ChangeView(c.line, c.code, c.label, _KIND_LABELS[c.kind], "、".join(c.fields))
            for c in shown
        ]
        self.import_hidden = len(plan.changes) - len(shown)
        self.import_ready = not plan.problems and bool(plan.changes)
        self._import_fingerprint = plan.fingerprint

    @rx.event(background=True)
    async def confirm_import(self):
        """Apply the previewed import: every change in one transaction, or none."""
        async with self:
            type_code, local = self.type_code, self.import_local
            payload, name = self._import_payload, self._import_name
            expected, self.import_running = self._import_fingerprint, True
            self.import_summary = "正在导入…"
        outcome = await self._call(
            lambda s, a: importing.apply_import(
                session=s,
                actor=a,
                type_code=type_code,
                content=payload,
                filename=name,
                expected=expected,
                local=local,
            )
        )
        async with self:
            self.import_running = False
            plan = outcome.value
            if not outcome.ok or plan is None:
                self.import_summary, self.import_ready = outcome.error or outcome.relogin, False
                return
            self.import_open, self._import_payload = False, b""
        yield toast.success(
            f"导入完成：新增 {plan.count('add')}，修改 {plan.count('change')}，"
            f"停用 {plan.count('disable')}"
        )
        yield DictionaryState.load

    @rx.event
    def open_add(self, local: bool) -> None:
        """Add an item (``local``: only the user's county sees it)."""
        self.edit_open, self.edit_id, self.edit_local, self.edit_error = True, 0, local, ""
        self.code_error = self.label_error = ""
        self.edit_code = self.edit_label = self.edit_parent = self.edit_remark = ""
        self.edit_category = ""

    @rx.event
    def open_edit(self, item_id: int) -> None:
        """Edit an item (its code stays)."""
        row = next(r for r in self.rows if r.id == item_id)
        self.edit_open, self.edit_id, self.edit_error = True, row.id, ""
        self.code_error = self.label_error = ""
        self.edit_code, self.edit_label = row.code, row.label
        self.edit_parent, self.edit_remark = row.parent_code, row.remark
        self.edit_category = row.category

    @rx.event
    def check_code(self, value: str) -> None:
        """Say what is wrong with the code as it is typed."""
        self.code_error = service.code_problem(self.type_code, value.strip()) if value else ""

    @rx.event
    def check_label(self, value: str) -> None:
        """Say what is wrong with the name as it is typed."""
        self.label_error = service.label_problem(value)

    @rx.event(background=True)
    async def save(self, form: dict[str, str]):
        """Add or update the item."""
        async with self:
            item_id, local, type_code = self.edit_id, self.edit_local, self.type_code
        draft = service.ItemDraft(
            code=form.get("code", "").strip(),
            label=form.get("label", "").strip(),
            parent_code=form.get("parent_code", "").strip(),
            remark=form.get("remark", "").strip(),
            category=form.get("category", "").strip(),
        )

        def apply(session, actor):
            if item_id:
                return service.update_item(
                    session=session, actor=actor, item_id=item_id, draft=draft
                )
            return service.add_item(
                session=session, actor=actor, type_code=type_code, draft=draft, local=local
            )

        async for event in self._submit(
            apply, dialog="edit", error="edit_error", success="字典项已保存"
        ):
            yield event

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

        def show(entries: list[service.HistoryRow]) -> None:
            self.history = [
                HistoryView(
                    h.time, h.actor, _ACTION_LABELS.get(h.action, h.action), h.before, h.after
                )
                for h in entries
            ]
            self.history_code, self.history_open = code, True

        async for event in self._open_with(
            lambda s, a: service.item_history(session=s, actor=a, item_id=item_id), show
        ):
            yield event


# The session and permission are checked, and the size capped, before the file is read.
register_upload(
    DictionaryState.upload_import,
    obj="dictionaries.items",
    action="write",
    max_bytes=MAX_UPLOAD_BYTES,
    label="字典导入文件",
)
