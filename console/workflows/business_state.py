"""The 流程配置 business editor's part of the editor state: basics, form, materials, opinions.

``EditorState`` mixes this in; it provides ``kind``, ``name``, ``_token``, ``_body`` and
``_changed`` (mark the draft changed and recheck it), which the handlers here use.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import reflex as rx

from console.core.errors import ValidationFailed
from console.ui.actions import call
from console.ui.choice import Choice
from console.workflows import editor_service
from console.workflows.guide import compose_guide
from console.workflows.models import Kind
from console.workflows.schema import FIELD_CHECKS, FIELD_TYPES, MATERIAL_FORMS, parse_business

NONE = "none"  # what a select shows for "not set" (Radix selects take no empty value)
FIELD_TYPE_CHOICES = [Choice(k, v) for k, v in FIELD_TYPES.items()]
FIELD_CHECK_CHOICES = [Choice(k or NONE, v) for k, v in FIELD_CHECKS.items()]
MATERIAL_FORM_CHOICES = [Choice(k, v) for k, v in MATERIAL_FORMS.items()]
_BASICS = {"registration_type", "right_type", "time_limit", "workflow"}
_NEW_FIELD = {
    "label": "",
    "type": "text",
    "required": False,
    "dictionary": NONE,
    "check": NONE,
}
_NEW_MATERIAL = {
    "name": "",
    "required": True,
    "form": "original",
    "count": 1,
    "electronic": True,
    "spec": "",
}


class BusinessEditorMixin(rx.State, mixin=True):
    """A business being edited: its basics, 办事指南, form, materials and opinion templates."""

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
    registration_choices: list[Choice] = []
    right_choices: list[Choice] = []
    dictionary_choices: list[Choice] = []

    if TYPE_CHECKING:  # provided by EditorState
        kind: str
        name: str

        async def _token(self) -> str: ...

        def _body(self) -> dict[str, Any]: ...

        def _changed(self) -> rx.event.EventHandler: ...

    def _load_business(self, body: dict[str, Any]) -> None:
        self.registration_type = body.get("registration_type", "")
        self.right_type = _to_select(body.get("right_type", ""))
        self.time_limit = str(body.get("time_limit_workdays", ""))
        self.workflow = body.get("workflow", "")
        self.guide = {k: str(v) for k, v in body.get("guide", {}).items()}
        self.form_fields = [
            {
                **f,
                "dictionary": _to_select(f.get("dictionary")),
                "check": _to_select(f.get("check")),
                "uid": _uid(),
            }
            for f in body.get("form", [])
        ]
        self.materials = [{**m, "uid": _uid()} for m in body.get("materials", [])]
        self.opinions = [
            _opinion(o["step"], o["text"], self.name) for o in body.get("opinions", [])
        ]

    def _business_body(self) -> dict[str, Any]:
        try:
            limit = int(self.time_limit)
        except ValueError:
            limit = -1  # reported by the shape check as out of range
        return {
            "name": self.name,
            "registration_type": self.registration_type,
            "right_type": _from_select(self.right_type),
            "time_limit_workdays": limit,
            "workflow": self.workflow,
            "guide": self.guide,
            "form": [
                {
                    **_without_uid(f),
                    "dictionary": _from_select(f.get("dictionary")),
                    "check": _from_select(f.get("check")),
                }
                for f in self.form_fields
            ],
            "materials": [_without_uid(m) for m in self.materials],
            "opinions": [{"step": o["step"], "text": o["text"]} for o in self.opinions],
        }

    # ---- derived ---------------------------------------------------------------------------

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

    # ---- edits -------------------------------------------------------------------------------

    @rx.event
    def set_business(self, attribute: str, value: str):
        """A basic field of the business (type, right type, limit, workflow)."""
        if attribute not in _BASICS:
            return None
        setattr(self, attribute, value)
        if attribute == "workflow":
            return [self._changed(), type(self).refresh_tasks]
        return self._changed()

    @rx.event(background=True)
    async def refresh_tasks(self):
        """The steps of a newly bound workflow, for its opinion templates."""
        async with self:
            token, workflow = await self._token(), self.workflow
        outcome = await call(
            token, lambda s, a: editor_service.workflow_tasks(session=s, actor=a, key=workflow)
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
        name = f"field_{len(self.form_fields) + 1}"
        self.form_fields = [*self.form_fields, {"uid": _uid(), "name": name, **_NEW_FIELD}]
        return self._changed()

    @rx.event
    def set_field(self, index: int, attribute: str, value: Any):
        """Change one attribute of a form field."""
        self.form_fields = _set_at(self.form_fields, index, attribute, value)
        return self._changed()

    @rx.event
    def remove_field(self, index: int):
        """Drop a form field."""
        self.form_fields = _drop_at(self.form_fields, index)
        return self._changed()

    @rx.event
    def add_material(self):
        """A new material at the end."""
        self.materials = [*self.materials, {"uid": _uid(), **_NEW_MATERIAL}]
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
        self.materials = _drop_at(self.materials, index)
        return self._changed()

    @rx.event
    def set_opinion(self, step: str, text: str):
        """The opinion template of a step (empty removes it)."""
        kept = [o for o in self.opinions if o["step"] != step]
        if text.strip():
            kept.append(_opinion(step, text, self.name))
        order = {name: i for i, name in enumerate(self.workflow_tasks)}
        self.opinions = sorted(kept, key=lambda o: order.get(o["step"], 99))
        return self._changed()


def _opinion(step: str, text: str, business_name: str) -> dict[str, str]:
    """An opinion template with its preview filled from the sample case."""
    return {
        "step": step,
        "text": text,
        "preview": editor_service.opinion_preview(text, business_name),
    }


def _to_select(value: str | None) -> str:
    return value or NONE


def _from_select(value: str | None) -> str | None:
    return "" if value == NONE else value


def _set_at(rows: list[dict[str, Any]], index: int, attribute: str, value: Any) -> list:
    return [{**row, attribute: value} if i == index else row for i, row in enumerate(rows)]


def _drop_at(rows: list[dict[str, Any]], index: int) -> list:
    return [row for i, row in enumerate(rows) if i != index]


def _uid() -> str:
    """A row's identity in the editor (inputs are keyed by it, not by position)."""
    return secrets.token_hex(4)


def _without_uid(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "uid"}
