"""State of the 流程配置 editor: one business or workflow, its draft, versions and problems.

The draft being edited lives here until 保存草稿; every change is checked at once by the
service (as publishing would check it) and the problems are shown beside the fields and,
for workflows, on the canvas. ``EditorState`` is put together from the designer's part
(``designer_state``), the business editor's (``business_state``) and the versions'
(``version_state``); opening a definition, checking it and running its writes live here.
The list (``state.WorkflowsState``) opens the editor; the page reloads the list on 返回列表.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import reflex as rx
from sqlmodel import Session

from console.authz.service import can
from console.core.actor import Actor
from console.core.errors import ValidationFailed
from console.ui.actions import call
from console.ui.choice import Choice
from console.ui.effects_state import replace_url, toast
from console.ui.session import session_token
from console.ui.upload_guard import register_upload
from console.workflows import editor_service, service
from console.workflows.bpmn_state import BPMN_MAX_BYTES, BpmnMixin
from console.workflows.business_state import NONE, BusinessEditorMixin
from console.workflows.designer_state import DesignerMixin
from console.workflows.models import Kind
from console.workflows.rules import Problem
from console.workflows.service import OBJ, Origin
from console.workflows.version_state import VersionsMixin


@dataclasses.dataclass(frozen=True)
class ProblemView:
    """One problem: the message and what it is about."""

    message: str
    ref: str
    field: str


@dataclasses.dataclass(frozen=True)
class _Opened:
    """What opening a definition fetched."""

    view: service.DefinitionView
    choices: editor_service.EditorChoices
    may_write: bool
    may_publish: bool
    tenant: str
    tasks: list[str]
    usage: list[service.UsageRow]


def _fetch(kind: Kind, key: str) -> Callable[[Session, Actor], _Opened]:
    """The service calls that open one definition in the editor."""

    def fetch(session: Session, actor: Actor) -> _Opened:
        view = service.get_definition(session=session, actor=actor, kind=kind, key=key)
        tenant = service.viewing_tenant(actor)
        workflow = view.body.get("workflow", "") if kind == Kind.BUSINESS else ""
        return _Opened(
            view=view,
            choices=editor_service.editor_choices(session=session, actor=actor),
            may_write=can(actor, OBJ, "write", tenant=tenant),
            may_publish=can(actor, OBJ, "approve", tenant=tenant),
            tenant=tenant,
            tasks=editor_service.workflow_tasks(session=session, actor=actor, key=workflow),
            usage=service.usage(session=session, actor=actor, kind=kind, key=key),
        )

    return fetch


class EditorState(DesignerMixin, BusinessEditorMixin, VersionsMixin, BpmnMixin, rx.State):
    """流程配置 (editor)."""

    is_open: bool = False
    kind: str = Kind.BUSINESS.value
    key: str = ""
    title: str = ""
    origin: str = ""
    origin_label: str = ""
    owner: str = ""
    served_version: int = 0
    draft_number: int = 0
    template_version: int = 0
    dirty: bool = False
    busy: bool = False
    error: str = ""
    tab: str = "main"

    can_write: bool = False
    can_publish: bool = False
    is_county: bool = False

    problems: list[ProblemView] = []
    step_errors: dict[str, str] = {}
    name: str = ""

    _tenant: str = ""
    _check_seq: int = 0
    revision: int = 0
    own_published: bool = False

    async def _token(self) -> str:
        return await session_token(self)

    # ---- derived ---------------------------------------------------------------------------

    @rx.var
    def editable(self) -> bool:
        """The viewer may change this definition here (its own, with write permission)."""
        return self.can_write and self.origin != Origin.INHERITED

    @rx.var
    def may_override(self) -> bool:
        """A county following the template may copy it."""
        return self.can_write and self.origin == Origin.INHERITED

    @rx.var
    def may_revert(self) -> bool:
        """A county's override may go back to the template."""
        return self.can_write and self.origin == Origin.OVERRIDDEN

    @rx.var
    def inheritance_text(self) -> str:
        """What the banner says about where this setting comes from."""
        if self.origin == Origin.INHERITED:
            return (
                f"本区县继承省级模板（执行 v{self.served_version}）。如需调整，请先「本地覆盖」。"
            )
        if self.origin == Origin.OVERRIDDEN:
            if self.own_published:
                return f"本区县执行本地覆盖 v{self.served_version}，不再随省级模板更新。"
            return (
                "本区县已建立本地覆盖；覆盖发布前仍执行省级模板"
                f" v{self.template_version}。可随时「恢复继承」。"
            )
        if self.origin == Origin.TEMPLATE:
            return "省级模板：未覆盖的区县均执行其最新发布版本。"
        return "本区县自建，省级无对应模板。"

    # ---- opening ---------------------------------------------------------------------------

    @rx.event(background=True)
    async def open_definition(self, kind: str, key: str):
        """Load one definition into the editor."""
        async with self:
            token = await self._token()
            self.busy, self.error = True, ""
        outcome = await call(token, _fetch(Kind(kind), key))
        async with self:
            self.busy = False
            failed = not outcome.ok or outcome.value is None
            if not failed:
                self._open(outcome.value, kind, key)
        if failed:
            yield toast.error(outcome.error_text)
            return
        yield replace_url(f"/workflows?{urlencode({'kind': kind, 'key': key})}")

    def _open(self, opened: _Opened, kind: str, key: str) -> None:
        """Show what was fetched (inside the lock)."""
        self._show(opened.view, opened.tasks)
        self._tenant = opened.tenant
        self.can_write, self.can_publish = opened.may_write, opened.may_publish
        self.is_county = opened.tenant != service.province_code()
        self._load_choices(opened.choices)
        self.is_open, self.selected, self.dirty = True, "", False
        if self.kind != kind or self.key != key:
            self.tab = "main"
        self._show_versions(opened.view, opened.usage)

    def _load_choices(self, choices: editor_service.EditorChoices) -> None:
        self.workflow_choices = _labelled(choices.workflows)
        self.role_choices = _labelled(choices.roles)
        self.role_labels = dict(choices.roles)
        self.registration_choices = _labelled(choices.registration_types)
        self.right_choices = [Choice(NONE, "不限"), *_labelled(choices.right_types)]
        self.dictionary_choices = [Choice(NONE, "不绑定"), *_labelled(choices.dictionaries)]

    def _show(self, view: service.DefinitionView, tasks: list[str]) -> None:
        self.revision += 1  # inputs remount with what was loaded, not what was typed before
        if (self.kind, self.key) != (view.kind, view.key):
            self._reset_bpmn()  # another definition: a file read for the last one is not its
        self.kind, self.key, self.title = view.kind, view.key, view.name
        self.origin, self.origin_label, self.owner = view.origin, view.origin_label, view.owner
        self.served_version, self.draft_number = view.served_version, view.draft_number
        self.template_version = view.template_version
        self.own_published = any(v.status == "published" for v in view.versions)
        self._load_body(view.body)
        self.workflow_tasks = tasks
        self._set_problems(view.problems)

    def _load_body(self, body: dict[str, Any]) -> None:
        self.name = body.get("name", "")
        if self.kind == Kind.WORKFLOW.value:
            self._load_workflow(body)
        else:
            self._load_business(body)

    def _body(self) -> dict[str, Any]:
        if self.kind == Kind.WORKFLOW.value:
            return self._workflow_body()
        return self._business_body()

    def _set_problems(self, problems: list[Problem]) -> None:
        self.problems = [ProblemView(p.message, p.ref, p.field) for p in problems]
        errors: dict[str, str] = {}
        for problem in problems:
            if problem.ref and problem.ref not in errors:
                errors[problem.ref] = problem.message
        self.step_errors = errors

    # ---- checking as the user edits ------------------------------------------------------

    def _changed(self) -> rx.event.EventHandler:
        self.dirty = True
        self._check_seq += 1
        return EditorState.recheck

    @rx.event(background=True)
    async def recheck(self):
        """Check the draft in progress as publishing would (nothing is saved)."""
        async with self:
            token, kind, key, body = await self._token(), Kind(self.kind), self.key, self._body()
            seq = self._check_seq
        outcome = await call(
            token,
            lambda s, a: editor_service.check_draft(
                session=s, actor=a, kind=kind, key=key, body=body
            ),
        )
        async with self:
            if seq != self._check_seq:
                return  # a newer edit's check is on its way; this result is stale
            if outcome.ok and outcome.value is not None:
                self.error = ""
                self._set_problems(outcome.value)
            else:
                self.error = outcome.error_text
                self.problems, self.step_errors = [], {}

    @rx.event
    def close(self):
        """Back to the list (the page's 返回列表 reloads it: what was saved here shows there)."""
        self.is_open = False
        return replace_url("/workflows")

    @rx.event
    def hide(self) -> None:
        """Show the list (the address names no definition)."""
        self.is_open = False

    @rx.event
    def set_tab(self, value: str) -> None:
        """Switch the editor's tab."""
        self.tab = value

    @rx.event
    def set_name(self, value: str):
        """The definition's name."""
        self.name = value
        return self._changed()

    # ---- writes --------------------------------------------------------------------------

    def _reopen(self, kind: str, key: str) -> rx.event.EventSpec:
        """Load the definition again (after a write, or an import into its draft)."""
        return EditorState.open_definition(kind, key)

    async def _run(
        self, operation: Callable[[Session, Actor], object], success: str
    ) -> AsyncIterator[rx.event.EventSpec]:
        """A write for the open definition: refused if the tenant changed, then reopen it."""
        async with self:
            token, kind, key, expected = await self._token(), self.kind, self.key, self._tenant
            self.busy = True

        def guarded(session: Session, actor: Actor) -> object:
            # Another tab may have switched the session's tenant since this editor opened.
            if service.viewing_tenant(actor) != expected:
                raise ValidationFailed(
                    "查看的租户已在其他窗口切换，请重新打开该定义后再操作", field="租户"
                )
            return operation(session, actor)

        outcome = await call(token, guarded)
        async with self:
            self.busy = False
            if not outcome.ok:
                self.error = outcome.error_text
                yield toast.error(outcome.error_text)
                return
            self.error = ""
        yield toast.success(success)
        yield self._reopen(kind, key)


def _labelled(pairs: list[tuple[str, str]]) -> list[Choice]:
    """Choices labelled "名称（代码）"."""
    return [Choice(value, f"{label}（{value}）") for value, label in pairs]


# The session and permission are checked, and the size capped, before the file is read.
register_upload(
    EditorState.upload_bpmn,
    obj="workflows.definitions",
    action="write",
    max_bytes=BPMN_MAX_BYTES,
    label="BPMN 文件",
)
