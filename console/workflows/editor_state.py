"""State of the 流程配置 editor: one business or workflow, its draft, versions and problems.

The draft being edited lives here until 保存草稿; every change is checked at once by the
service (as publishing would check it) and the problems are shown beside the fields and,
for workflows, on the canvas.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import reflex as rx

from console.authz.service import can
from console.core.errors import ValidationFailed
from console.iam.state import SessionState
from console.ui.actions import call
from console.ui.choice import Choice
from console.workflows import service
from console.workflows.guide import compose_guide
from console.workflows.models import Kind
from console.workflows.schema import (
    ACTIONS,
    FIELD_CHECKS,
    FIELD_TYPES,
    MATERIAL_FORMS,
    parse_business,
)
from console.workflows.service import OBJ

_NEW_STEP_DEFAULTS = {
    "roles": [],
    "actions": [],
    "editable_fields": [],
    "limit_workdays": 0,
}


@dataclasses.dataclass(frozen=True)
class VersionView:
    """One version in the history."""

    number: int
    label: str
    status: str
    status_label: str
    based_on: str
    note: str
    created: str
    published: str


@dataclasses.dataclass(frozen=True)
class ProblemView:
    """One problem: the message and what it is about."""

    message: str
    ref: str
    field: str


@dataclasses.dataclass(frozen=True)
class DiffView:
    """One changed item of a comparison."""

    section: str
    item: str
    change: str
    left: str
    right: str


@dataclasses.dataclass(frozen=True)
class UsageView:
    """Which version one county works with."""

    tenant: str
    origin: str
    version: str


@dataclasses.dataclass(frozen=True)
class ExitView:
    """A gateway's exit, with its condition."""

    id: str
    target: str
    condition: str


def _choices(pairs: list[tuple[str, str]]) -> list[Choice]:
    return [Choice(value, f"{label}（{value}）") for value, label in pairs]


class EditorState(rx.State):
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
    versions: list[VersionView] = []
    dirty: bool = False
    busy: bool = False
    error: str = ""
    tab: str = "main"

    can_write: bool = False
    can_publish: bool = False
    is_county: bool = False

    problems: list[ProblemView] = []
    step_errors: dict[str, str] = {}

    # workflow
    steps: list[dict[str, Any]] = []
    transitions: list[dict[str, Any]] = []
    selected: str = ""

    # business
    name: str = ""
    registration_type: str = ""
    right_type: str = ""
    time_limit: str = ""
    workflow: str = ""
    guide: dict[str, str] = {}
    form_fields: list[dict[str, Any]] = []
    materials: list[dict[str, Any]] = []
    opinions: list[dict[str, str]] = []
    workflow_tasks: list[str] = []

    workflow_choices: list[Choice] = []
    role_choices: list[Choice] = []
    role_labels: dict[str, str] = {}
    registration_choices: list[Choice] = []
    right_choices: list[Choice] = []
    dictionary_choices: list[Choice] = []

    # versions
    diff_left: str = ""
    diff_right: str = ""
    diff_rows: list[DiffView] = []
    usage: list[UsageView] = []

    publish_open: bool = False
    confirm_open: bool = False
    confirm_action: str = ""
    bpmn_skipped: list[str] = []
    _bpmn_text: str = ""
    _tenant: str = ""
    _check_seq: int = 0
    revision: int = 0
    own_published: bool = False

    async def _token(self) -> str:
        return (await self.get_state(SessionState)).token

    # ---- derived ---------------------------------------------------------------------------

    @rx.var
    def editable(self) -> bool:
        """The viewer may change this definition here (its own, with write permission)."""
        return self.can_write and self.origin != service.Origin.INHERITED

    @rx.var
    def may_override(self) -> bool:
        """A county following the template may copy it."""
        return self.can_write and self.origin == service.Origin.INHERITED

    @rx.var
    def may_revert(self) -> bool:
        """A county's override may go back to the template."""
        return self.can_write and self.origin == service.Origin.OVERRIDDEN

    @rx.var
    def inheritance_text(self) -> str:
        """What the banner says about where this setting comes from."""
        if self.origin == service.Origin.INHERITED:
            return (
                f"本区县继承省级模板（执行 v{self.served_version}）。如需调整，请先「本地覆盖」。"
            )
        if self.origin == service.Origin.OVERRIDDEN:
            if self.own_published:
                return f"本区县执行本地覆盖 v{self.served_version}，不再随省级模板更新。"
            return (
                "本区县已建立本地覆盖；覆盖发布前仍执行省级模板"
                f" v{self.template_version}。可随时「恢复继承」。"
            )
        if self.origin == service.Origin.TEMPLATE:
            return "省级模板：未覆盖的区县均执行其最新发布版本。"
        return "本区县自建，省级无对应模板。"

    @rx.var
    def selected_step(self) -> dict[str, Any]:
        """The step shown in the side panel."""
        return next((s for s in self.steps if s["id"] == self.selected), {})

    @rx.var
    def selected_roles(self) -> list[str]:
        """Roles of the selected step."""
        return list(self.selected_step.get("roles", []))

    @rx.var
    def selected_actions(self) -> list[str]:
        """Permissions of the selected step."""
        return list(self.selected_step.get("actions", []))

    @rx.var
    def selected_exits(self) -> list[ExitView]:
        """The selected gateway's exits, with their conditions."""
        names = {s["id"]: s["name"] for s in self.steps}
        return [
            ExitView(t["id"], names.get(t["target"], t["target"]), t.get("condition", ""))
            for t in self.transitions
            if t["source"] == self.selected
        ]

    @rx.var
    def version_options(self) -> list[str]:
        """Versions to compare, newest first (v3, v2 …)."""
        return [v.label for v in self.versions]

    @rx.var
    def form_preview(self) -> list[dict[str, Any]]:
        """The application form as an applicant would see it."""
        return [
            {
                "label": f.get("label") or f.get("name", ""),
                "type": f.get("type", "text"),
                "required": bool(f.get("required")),
                "hint": FIELD_CHECKS.get(f.get("check", ""), "") if f.get("check") else "",
            }
            for f in self.form_fields
        ]

    # ---- opening ---------------------------------------------------------------------------

    @rx.event(background=True)
    async def open_definition(self, kind: str, key: str):
        """Load one definition into the editor."""
        async with self:
            token = await self._token()
            self.busy, self.error = True, ""
        definition_kind = Kind(kind)

        def fetch(session, actor):
            view = service.get_definition(
                session=session, actor=actor, kind=definition_kind, key=key
            )
            choices = service.editor_choices(session=session, actor=actor)
            tenant = service.viewing_tenant(actor)
            rights = {
                "write": can(actor, OBJ, "write", tenant=tenant),
                "approve": can(actor, OBJ, "approve", tenant=tenant),
            }
            workflow = view.body.get("workflow", "") if kind == "business" else ""
            tasks = service.workflow_tasks(session=session, actor=actor, key=workflow)
            usage = service.usage(session=session, actor=actor, kind=definition_kind, key=key)
            return view, choices, rights, tenant, tasks, usage

        outcome = await call(token, fetch)
        async with self:
            self.busy = False
            failed = not outcome.ok or outcome.value is None
            if not failed:
                view, choices, rights, tenant, tasks, usage = outcome.value
                self._show(view, tasks)
                self._tenant = tenant
                self.can_write, self.can_publish = rights["write"], rights["approve"]
                self.is_county = tenant != service.province_code()
                self.workflow_choices = _choices(choices.workflows)
                self.role_choices = _choices(choices.roles)
                self.role_labels = dict(choices.roles)
                self.registration_choices = _choices(choices.registration_types)
                self.right_choices = [Choice("none", "不限"), *_choices(choices.right_types)]
                self.dictionary_choices = [
                    Choice("none", "不绑定"),
                    *_choices(choices.dictionaries),
                ]
                self.is_open, self.selected, self.dirty = True, "", False
                if self.kind != kind or self.key != key:
                    self.tab = "main"
                self.diff_rows, self.bpmn_skipped = [], []
                self.usage = _usage_views(usage)
        if failed:
            yield rx.toast.error(outcome.error_text)
            return
        yield rx.call_script(
            f"window.history.replaceState(null, '', '/workflows?kind={kind}&key={key}')"
        )

    def _show(self, view: service.DefinitionView, tasks: list[str]) -> None:
        self.revision += 1  # inputs remount with what was loaded, not what was typed before
        self.kind, self.key, self.title = view.kind, view.key, view.name
        self.origin, self.origin_label, self.owner = view.origin, view.origin_label, view.owner
        self.served_version, self.draft_number = view.served_version, view.draft_number
        self.template_version = view.template_version
        self.versions = [
            VersionView(
                v.number,
                f"v{v.number}",
                v.status,
                v.status_label,
                v.based_on,
                v.note,
                f"{v.created} {v.created_by}",
                f"{v.published} {v.published_by}".strip(),
            )
            for v in view.versions
        ]
        published = [v.number for v in view.versions if v.status == "published"]
        self.own_published = bool(published)
        numbers = [v.number for v in view.versions]
        # Newest against the one before it: what the latest change did.
        self.diff_right = f"v{numbers[0]}" if numbers else ""
        self.diff_left = f"v{numbers[1] if len(numbers) > 1 else numbers[0]}" if numbers else ""
        self._load_body(view.body)
        self.workflow_tasks = tasks
        self._set_problems(view.problems)

    def _load_body(self, body: dict[str, Any]) -> None:
        if self.kind == Kind.WORKFLOW.value:
            self.name = body.get("name", "")
            self.steps = list(body.get("steps", []))
            self.transitions = list(body.get("transitions", []))
            return
        self.name = body.get("name", "")
        self.registration_type = body.get("registration_type", "")
        self.right_type = body.get("right_type", "") or "none"
        self.time_limit = str(body.get("time_limit_workdays", ""))
        self.workflow = body.get("workflow", "")
        self.guide = {k: str(v) for k, v in body.get("guide", {}).items()}
        self.form_fields = [
            {
                **f,
                "dictionary": f.get("dictionary") or "none",
                "check": f.get("check") or "none",
                "uid": _uid(),
            }
            for f in body.get("form", [])
        ]
        self.materials = [{**m, "uid": _uid()} for m in body.get("materials", [])]
        self.opinions = [
            {**o, "preview": service.opinion_preview(o["text"], self.name)}
            for o in body.get("opinions", [])
        ]

    def _body(self) -> dict[str, Any]:
        if self.kind == Kind.WORKFLOW.value:
            return {"name": self.name, "steps": self.steps, "transitions": self.transitions}
        try:
            limit = int(self.time_limit)
        except ValueError:
            limit = -1  # reported by the shape check as out of range
        return {
            "name": self.name,
            "registration_type": self.registration_type,
            "right_type": "" if self.right_type == "none" else self.right_type,
            "time_limit_workdays": limit,
            "workflow": self.workflow,
            "guide": self.guide,
            "form": [
                {
                    **_without_uid(f),
                    "dictionary": "" if f.get("dictionary") == "none" else f.get("dictionary"),
                    "check": "" if f.get("check") == "none" else f.get("check"),
                }
                for f in self.form_fields
            ],
            "materials": [_without_uid(m) for m in self.materials],
            "opinions": [{"step": o["step"], "text": o["text"]} for o in self.opinions],
        }

    def _set_problems(self, problems: list) -> None:
        self.problems = [ProblemView(p.message, p.ref, p.field) for p in problems]
        errors: dict[str, str] = {}
        for problem in problems:
            if problem.ref and problem.ref not in errors:
                errors[problem.ref] = problem.message
        self.step_errors = errors

    # ---- checking as the user edits ------------------------------------------------------

    def _changed(self):
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
            lambda s, a: service.check_draft(session=s, actor=a, kind=kind, key=key, body=body),
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
        """Back to the list (refreshed: what was saved here shows there)."""
        from console.workflows.state import WorkflowsState

        self.is_open = False
        return [
            rx.call_script("window.history.replaceState(null, '', '/workflows')"),
            WorkflowsState.load,
        ]

    @rx.event
    def hide(self) -> None:
        """Show the list (the address names no definition)."""
        self.is_open = False

    @rx.event
    def set_tab(self, value: str) -> None:
        """Switch the editor's tab."""
        self.tab = value

    # ---- workflow edits ------------------------------------------------------------------

    @rx.event
    def apply_graph(self, steps: list[dict[str, Any]], transitions: list[dict[str, Any]]):
        """The canvas changed: keep its graph (new steps get empty roles and permissions)."""
        if not self.editable:
            return None
        # The canvas owns the shape (which steps, where, which edges); the side panel owns the
        # properties, so a late canvas event cannot undo a name or role just set.
        known = {step["id"]: step for step in self.steps}
        self.steps = [_merged(known.get(step["id"]), step) for step in steps]
        conditions = {edge["id"]: edge.get("condition", "") for edge in self.transitions}
        self.transitions = [
            {**edge, "condition": conditions.get(edge["id"], edge.get("condition", ""))}
            for edge in transitions
        ]
        if self.selected and all(s["id"] != self.selected for s in self.steps):
            self.selected = ""
        return self._changed()

    @rx.event
    def select_step(self, step_id: str) -> None:
        """Show the step's properties in the side panel."""
        self.selected = step_id

    def _update_selected(self, **changes: Any):
        if not self.editable:
            return None
        self.steps = [{**s, **changes} if s["id"] == self.selected else s for s in self.steps]
        return self._changed()

    @rx.event
    def set_step_name(self, value: str):
        """Rename the selected step."""
        return self._update_selected(name=value.strip()[:60])

    @rx.event
    def toggle_role(self, role: str, on: bool):
        """Give or take a role at the selected step."""
        roles = [r for r in self.selected_roles if r != role] + ([role] if on else [])
        return self._update_selected(roles=roles)

    @rx.event
    def toggle_action(self, action: str, on: bool):
        """Grant or withdraw a permission at the selected step."""
        actions = [a for a in self.selected_actions if a != action] + ([action] if on else [])
        return self._update_selected(actions=[a for a in ACTIONS if a in actions])

    @rx.event
    def set_step_fields(self, value: str):
        """Which form fields the selected step may edit (comma separated)."""
        names = [n.strip() for n in value.replace("，", ",").split(",") if n.strip()]
        return self._update_selected(editable_fields=names)

    @rx.event
    def set_step_limit(self, value: str):
        """The selected step's time limit in working days."""
        try:
            limit = float(value or 0)
        except ValueError:
            self.error = "环节时限：请输入数字（工作日）"
            return None
        self.error = ""
        return self._update_selected(limit_workdays=limit)

    @rx.event
    def set_condition(self, transition_id: str, value: str):
        """The condition of one of the selected gateway's exits."""
        if not self.editable:
            return None
        self.transitions = [
            {**t, "condition": value} if t["id"] == transition_id else t for t in self.transitions
        ]
        return self._changed()

    @rx.event
    def set_name(self, value: str):
        """The definition's name."""
        self.name = value
        return self._changed()

    # ---- business edits ------------------------------------------------------------------

    @rx.event
    def set_business(self, attribute: str, value: str):
        """A basic field of the business (type, right type, limit, workflow)."""
        if attribute not in {"registration_type", "right_type", "time_limit", "workflow"}:
            return None
        setattr(self, attribute, value)
        if attribute == "workflow":
            return [self._changed(), EditorState.refresh_tasks]
        return self._changed()

    @rx.event(background=True)
    async def refresh_tasks(self):
        """The steps of a newly bound workflow, for its opinion templates."""
        async with self:
            token, workflow = await self._token(), self.workflow
        outcome = await call(
            token, lambda s, a: service.workflow_tasks(session=s, actor=a, key=workflow)
        )
        async with self:
            if outcome.ok and outcome.value is not None and workflow == self.workflow:
                self.workflow_tasks = outcome.value

    @rx.event
    def set_guide(self, attribute: str, value: str):
        """A part of the 办事指南."""
        self.guide = {**self.guide, attribute: value}
        return self._changed()

    @rx.event
    def add_form_field(self):
        """A new form field at the end."""
        number = len(self.form_fields) + 1
        self.form_fields = [
            *self.form_fields,
            {
                "uid": _uid(),
                "name": f"field_{number}",
                "label": "",
                "type": "text",
                "required": False,
                "dictionary": "none",
                "check": "none",
            },
        ]
        return self._changed()

    @rx.event
    def set_field(self, index: int, attribute: str, value: Any):
        """Change one attribute of a form field."""
        self.form_fields = _set_at(self.form_fields, index, attribute, value)
        return self._changed()

    @rx.event
    def remove_field(self, index: int):
        """Drop a form field."""
        self.form_fields = [f for i, f in enumerate(self.form_fields) if i != index]
        return self._changed()

    @rx.event
    def add_material(self):
        """A new material at the end."""
        self.materials = [
            *self.materials,
            {
                "uid": _uid(),
                "name": "",
                "required": True,
                "form": "original",
                "count": 1,
                "electronic": True,
                "spec": "",
            },
        ]
        return self._changed()

    @rx.event
    def set_material(self, index: int, attribute: str, value: Any):
        """Change one attribute of a material."""
        if attribute == "count":
            try:
                value = int(value)
            except ValueError:
                value = 0  # reported as out of range
        self.materials = _set_at(self.materials, index, attribute, value)
        return self._changed()

    @rx.event
    def remove_material(self, index: int):
        """Drop a material."""
        self.materials = [m for i, m in enumerate(self.materials) if i != index]
        return self._changed()

    @rx.event
    def set_opinion(self, step: str, text: str):
        """The opinion template of a step (empty removes it)."""
        kept = [o for o in self.opinions if o["step"] != step]
        if text.strip():
            kept.append(
                {"step": step, "text": text, "preview": service.opinion_preview(text, self.name)}
            )
        order = {name: i for i, name in enumerate(self.workflow_tasks)}
        self.opinions = sorted(kept, key=lambda o: order.get(o["step"], 99))
        return self._changed()

    @rx.var
    def guide_preview(self) -> str:
        """The 办事指南 put together from what is on screen."""
        if self.kind != Kind.BUSINESS.value:
            return ""
        try:
            body = parse_business(self._body())
        except ValidationFailed as wrong:
            return f"（{wrong.message}，修正后显示）"
        return compose_guide(business=body, tasks=self.workflow_tasks)

    @rx.var
    def opinion_rows(self) -> list[dict[str, str]]:
        """One row per task of the bound workflow, with its template and the filled preview."""
        by_step = {o["step"]: o for o in self.opinions}
        return [
            {
                "step": step,
                "text": by_step.get(step, {}).get("text", ""),
                "preview": by_step.get(step, {}).get("preview", ""),
            }
            for step in self.workflow_tasks
        ]

    # ---- saving, publishing, versions ----------------------------------------------------

    async def _run(self, operation, success: str, *, reopen: bool = True):
        async with self:
            token, kind, key, expected = await self._token(), self.kind, self.key, self._tenant
            self.busy = True

        def guarded(session, actor):
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
                yield rx.toast.error(outcome.error_text)
                return
            self.error = ""
        yield rx.toast.success(success)
        if reopen:
            yield EditorState.open_definition(kind, key)

    @rx.event(background=True)
    async def save(self):
        """Store the draft (problems are allowed in a draft)."""
        async with self:
            kind, key, body = Kind(self.kind), self.key, self._body()

        def operation(session, actor):
            return service.save_draft(session=session, actor=actor, kind=kind, key=key, body=body)

        async for event in self._run(operation, "草稿已保存"):
            yield event

    @rx.event
    def set_publish_open(self, value: bool) -> None:
        """Open or close the publish confirmation."""
        self.publish_open = value

    @rx.event(background=True)
    async def publish(self, form: dict[str, str]):
        """Save what is on screen, then publish it: from now on it is served."""
        async with self:
            kind, key, body, dirty = Kind(self.kind), self.key, self._body(), self.dirty
            seen = None if dirty else self.draft_number  # publish only the draft on screen
            self.publish_open = False
        note = form.get("note", "")

        def operation(session, actor):
            if dirty:
                service.save_draft(session=session, actor=actor, kind=kind, key=key, body=body)
            return service.publish(
                session=session, actor=actor, kind=kind, key=key, note=note, expected_draft=seen
            )

        async for event in self._run(operation, "已发布，新版本即刻生效"):
            yield event

    @rx.event
    def ask(self, action: str) -> None:
        """Confirm a destructive step (放弃草稿, 恢复继承) before doing it."""
        self.confirm_action, self.confirm_open = action, True

    @rx.event
    def set_confirm_open(self, value: bool) -> None:
        """Close the confirmation."""
        self.confirm_open = value

    @rx.var
    def confirm_text(self) -> str:
        """What the confirmation says."""
        if self.confirm_action == "revert":
            return "恢复继承后，本区县立即改为执行省级模板；本地覆盖的各版本保留为历史，不再生效。"
        return f"放弃草稿 v{self.draft_number}：未发布的修改将丢失，已发布的版本不受影响。"

    @rx.event(background=True)
    async def confirm(self):
        """Do the confirmed step."""
        async with self:
            action, kind, key = self.confirm_action, Kind(self.kind), self.key
            self.confirm_open = False
        if action == "revert":
            operation, text = (
                lambda s, a: service.revert(session=s, actor=a, kind=kind, key=key),
                "已恢复继承省级模板",
            )
        else:
            operation, text = (
                lambda s, a: service.discard_draft(session=s, actor=a, kind=kind, key=key),
                "草稿已放弃",
            )
        async for event in self._run(operation, text):
            yield event

    @rx.event(background=True)
    async def override(self):
        """Copy the province template into this county as a draft."""
        async with self:
            kind, key = Kind(self.kind), self.key
        async for event in self._run(
            lambda s, a: service.override(session=s, actor=a, kind=kind, key=key),
            "已建立本地覆盖（草稿）；发布后本区县改为执行覆盖版本",
        ):
            yield event

    @rx.event(background=True)
    async def new_draft(self, number: int):
        """Start a draft from a published version."""
        async with self:
            kind, key = Kind(self.kind), self.key
        async for event in self._run(
            lambda s, a: service.new_draft(
                session=s, actor=a, kind=kind, key=key, from_number=number
            ),
            f"已从 v{number} 新建草稿",
        ):
            yield event

    @rx.event
    def set_diff_side(self, side: str, value: str) -> None:
        """Pick a version to compare."""
        if side == "left":
            self.diff_left = value
        else:
            self.diff_right = value

    @rx.event(background=True)
    async def compare(self):
        """Side-by-side differences of the two chosen versions, and who uses which."""
        async with self:
            token, kind, key = await self._token(), Kind(self.kind), self.key
            left, right = _number(self.diff_left), _number(self.diff_right)

        def fetch(session, actor):
            rows = service.diff(
                session=session, actor=actor, kind=kind, key=key, left=left, right=right
            )
            return rows, service.usage(session=session, actor=actor, kind=kind, key=key)

        outcome = await call(token, fetch)
        async with self:
            if not outcome.ok or outcome.value is None:
                self.error = outcome.error_text
                return
            rows, usage = outcome.value
            self.diff_rows = [DiffView(r.section, r.item, r.change, r.left, r.right) for r in rows]
            self.usage = _usage_views(usage)
            if not rows:
                yield rx.toast.info("两个版本内容相同")

    # ---- BPMN ----------------------------------------------------------------------------

    @rx.event(background=True)
    async def export_bpmn(self, number: int):
        """Download one version as BPMN 2.0 XML."""
        async with self:
            token, key = await self._token(), self.key
        outcome = await call(
            token,
            lambda s, a: service.export_bpmn(session=s, actor=a, key=key, number=number),
        )
        if not outcome.ok or outcome.value is None:
            yield rx.toast.error(outcome.error_text)
            return
        yield rx.download(data=outcome.value.encode("utf-8"), filename=f"{key}-v{number}.bpmn")

    @rx.event
    async def upload_bpmn(self, files: list[rx.UploadFile]):
        """Receive the BPMN file, then import it in the background."""
        if not files:
            self.error = "BPMN 文件：请先选择文件"
            return None
        content = await files[0].read()
        if len(content) > 2_000_000:
            self.error = "BPMN 文件：超过 2 MB"
            return None
        self._bpmn_text = content.decode("utf-8", errors="replace")
        return EditorState.import_bpmn

    @rx.event(background=True)
    async def import_bpmn(self):
        """Replace the draft by the BPMN design (a Flowable or Camunda export, or ours)."""
        async with self:
            token, key, text = await self._token(), self.key, self._bpmn_text
            self._bpmn_text = ""
        outcome = await call(
            token, lambda s, a: service.import_bpmn(session=s, actor=a, key=key, text=text)
        )
        if not outcome.ok or outcome.value is None:
            async with self:
                self.error = outcome.error_text
            yield rx.toast.error(outcome.error_text)
            return
        _problems, skipped = outcome.value
        yield EditorState.open_definition(Kind.WORKFLOW.value, key)
        async with self:
            self.bpmn_skipped = skipped
        yield rx.toast.success(
            "已导入到草稿" + (f"，{len(skipped)} 个元素未导入" if skipped else "")
        )


def _merged(known: dict[str, Any] | None, drawn: dict[str, Any]) -> dict[str, Any]:
    """A step as drawn (its place) with the properties the editor holds for it."""
    if known is not None:
        return {**known, "x": drawn.get("x", 0), "y": drawn.get("y", 0)}
    return {**_NEW_STEP_DEFAULTS, **drawn} if drawn.get("kind") == "task" else _plain(drawn)


def _plain(step: dict[str, Any]) -> dict[str, Any]:
    """A non-task step keeps no roles or permissions."""
    return {k: v for k, v in step.items() if k not in _NEW_STEP_DEFAULTS}


def _set_at(rows: list[dict[str, Any]], index: int, attribute: str, value: Any) -> list:
    return [{**row, attribute: value} if i == index else row for i, row in enumerate(rows)]


def _usage_views(rows: list[service.UsageRow]) -> list[UsageView]:
    return [
        UsageView(
            f"{u.tenant_name}（{u.tenant_code}）",
            u.origin_label,
            f"v{u.version}" if u.version else "—",
        )
        for u in rows
    ]


def _number(label: str) -> int:
    """3 from "v3" (0 when nothing is chosen)."""
    digits = label.removeprefix("v")
    return int(digits) if digits.isdigit() else 0


def _uid() -> str:
    """A row's identity in the editor (inputs are keyed by it, not by position)."""
    return secrets.token_hex(4)


def _without_uid(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "uid"}


FIELD_TYPE_CHOICES = [Choice(k, v) for k, v in FIELD_TYPES.items()]
FIELD_CHECK_CHOICES = [Choice(k or "none", v) for k, v in FIELD_CHECKS.items()]
MATERIAL_FORM_CHOICES = [Choice(k, v) for k, v in MATERIAL_FORMS.items()]
ACTION_CHOICES = [Choice(k, v) for k, v in ACTIONS.items()]
