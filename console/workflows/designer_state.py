"""The 流程配置 designer's part of the editor state: the canvas's graph and the side panel.

``EditorState`` mixes this in; it provides ``editable``, ``error``, ``name`` and
``_changed`` (mark the draft changed and recheck it), which the handlers here use.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import reflex as rx

from console.ui.choice import Choice
from console.workflows.schema import ACTIONS

_NEW_STEP_DEFAULTS = {
    "roles": [],
    "actions": [],
    "editable_fields": [],
    "limit_workdays": 0,
}
ACTION_CHOICES = [Choice(k, v) for k, v in ACTIONS.items()]


@dataclasses.dataclass(frozen=True)
class ExitView:
    """A gateway's exit, with its condition."""

    id: str
    target: str
    condition: str


class DesignerMixin(rx.State, mixin=True):
    """A workflow being drawn: its steps and transitions, and the step in the side panel."""

    steps: list[dict[str, Any]] = []
    transitions: list[dict[str, Any]] = []
    selected: str = ""
    role_choices: list[Choice] = []
    role_labels: dict[str, str] = {}
    # What an imported BPMN file held that the canvas cannot show: kept for the next export.
    _kept: list[dict[str, Any]] = []

    if TYPE_CHECKING:  # provided by EditorState
        editable: bool
        error: str
        name: str

        def _changed(self) -> rx.event.EventHandler: ...

    def _load_workflow(self, body: dict[str, Any]) -> None:
        self.steps = list(body.get("steps", []))
        self.transitions = list(body.get("transitions", []))
        self._kept = list(body.get("kept", []))

    def _workflow_body(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "steps": self.steps,
            "transitions": self.transitions,
            "kept": self._kept,
        }

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

    @rx.event
    def apply_graph(self, steps: list[dict[str, Any]], transitions: list[dict[str, Any]]):
        """The canvas changed: keep its graph (new steps get empty roles and permissions)."""
        if not self.editable:
            return None
        # The canvas owns the shape (which steps, where, which edges); the side panel owns the
        # properties, so a late canvas event cannot undo a name or role just set.
        known = {step["id"]: step for step in self.steps}
        self.steps = [_merged(known.get(step["id"]), step) for step in steps]
        known_edges = {edge["id"]: edge for edge in self.transitions}
        self.transitions = [
            {
                **edge,
                "condition": known_edges.get(edge["id"], edge).get("condition", ""),
                "name": known_edges.get(edge["id"], edge).get("name", ""),
            }
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


def _merged(known: dict[str, Any] | None, drawn: dict[str, Any]) -> dict[str, Any]:
    """A step as drawn (its place) with the properties the editor holds for it."""
    if known is not None:
        return {**known, "x": drawn.get("x", 0), "y": drawn.get("y", 0)}
    return {**_NEW_STEP_DEFAULTS, **drawn} if drawn.get("kind") == "task" else _plain(drawn)


def _plain(step: dict[str, Any]) -> dict[str, Any]:
    """A non-task step keeps no roles or permissions."""
    return {k: v for k, v in step.items() if k not in _NEW_STEP_DEFAULTS}
