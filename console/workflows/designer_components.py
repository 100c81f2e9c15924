"""The 流程设计 tab: the workflow canvas beside the selected step's properties and problems."""

from __future__ import annotations

import reflex as rx

from console.ui.choice import Choice
from console.ui.components import labelled
from console.workflows.components import problems_callout
from console.workflows.designer_state import ACTION_CHOICES, ExitView
from console.workflows.editor_state import EditorState
from console.workflows.flow_designer import flow_designer
from console.workflows.schema import STEP_KINDS

PANEL_WIDTH = "320px"


def _check(choice: Choice, chosen: rx.Var[list[str]], on_toggle, prefix: str) -> rx.Component:
    """A checkbox of the selected step's roles or permissions."""
    return rx.checkbox(
        choice.label,
        checked=chosen.contains(choice.value),
        on_change=lambda on: on_toggle(choice.value, on),
        disabled=~EditorState.editable,
        size="1",
        data_testid=f"{prefix}-{choice.value}",
    )


def _role_check(choice: Choice) -> rx.Component:
    return _check(choice, EditorState.selected_roles, EditorState.toggle_role, "role")


def _action_check(choice: Choice) -> rx.Component:
    return _check(choice, EditorState.selected_actions, EditorState.toggle_action, "action")


def _exit(edge: ExitView) -> rx.Component:
    return labelled(
        "出口条件",
        rx.hstack(
            rx.text("→ ", edge.target, size="2", white_space="nowrap"),
            rx.input(
                default_value=edge.condition,
                placeholder="如 ${result == '补正'}；留空为默认路径",
                on_blur=lambda value: EditorState.set_condition(edge.id, value),
                disabled=~EditorState.editable,
                width="100%",
                data_testid=f"condition-{edge.id}",
            ),
            width="100%",
            align="center",
        ),
    )


def _step_input(value: rx.Var, suffix: str, on_blur, testid: str, **props) -> rx.Component:
    """An input of the selected step, remounted when another step (or a reload) shows."""
    return rx.input(
        default_value=value,
        key=EditorState.revision.to(str) + EditorState.selected + suffix,
        on_blur=on_blur,
        disabled=~EditorState.editable,
        data_testid=testid,
        **props,
    )


def _task_properties(step: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text("办理岗位", size="2", weight="medium"),
        rx.flex(rx.foreach(EditorState.role_choices, _role_check), wrap="wrap", gap="3"),
        rx.text("操作权限", size="2", weight="medium"),
        rx.flex(*[_action_check(c) for c in ACTION_CHOICES], wrap="wrap", gap="3"),
        labelled(
            "可编辑的表单字段（标识，逗号分隔）",
            _step_input(
                step["editable_fields"].to(list[str]).join(","),
                "-fields",
                EditorState.set_step_fields,
                "step-fields",
            ),
        ),
        labelled(
            "环节时限（工作日，0 为不限）",
            _step_input(
                step["limit_workdays"].to(str),
                "-limit",
                EditorState.set_step_limit,
                "step-limit",
                type="number",
                step="0.5",
                min="0",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _step_properties() -> rx.Component:
    step = EditorState.selected_step
    kind = step["kind"].to(str)
    return rx.vstack(
        rx.hstack(
            rx.text("环节属性", weight="bold"),
            rx.badge(rx.match(kind, *STEP_KINDS.items(), "办理环节")),
        ),
        rx.cond(
            EditorState.step_errors.contains(EditorState.selected),
            rx.callout(
                EditorState.step_errors[EditorState.selected],
                icon="triangle-alert",
                color_scheme="red",
                size="1",
            ),
        ),
        labelled(
            "名称",
            _step_input(step["name"].to(str), "", EditorState.set_step_name, "step-name"),
        ),
        rx.cond(kind == "task", _task_properties(step)),
        rx.cond(
            kind == "gateway",
            rx.vstack(rx.foreach(EditorState.selected_exits, _exit), width="100%"),
        ),
        spacing="3",
        width="100%",
    )


def _side_panel() -> rx.Component:
    return rx.card(
        rx.cond(
            EditorState.selected != "",
            _step_properties(),
            rx.vstack(
                rx.text("环节属性", weight="bold"),
                rx.text(
                    "从左侧拖入环节并连线；点击环节在此设置名称、岗位、权限与时限。"
                    "选中后按 Delete 删除，连线同理。",
                    size="2",
                    color_scheme="gray",
                ),
            ),
        ),
        width=PANEL_WIDTH,
        min_width=PANEL_WIDTH,
        data_testid="step-panel",
    )


def _workflow_aside() -> rx.Component:
    return rx.vstack(
        _side_panel(),
        rx.scroll_area(problems_callout(), max_height="300px", type="auto"),
        width=PANEL_WIDTH,
        min_width=PANEL_WIDTH,
    )


def workflow_design() -> rx.Component:
    """The canvas and the selected step's properties."""
    return rx.vstack(
        labelled(
            "流程名称",
            rx.input(
                default_value=EditorState.name,
                key=EditorState.revision.to(str) + "-wfname",
                on_blur=EditorState.set_name,
                disabled=~EditorState.editable,
                width="360px",
                data_testid="workflow-name",
            ),
        ),
        rx.hstack(
            flow_designer(
                steps=EditorState.steps,
                transitions=EditorState.transitions,
                errors=EditorState.step_errors,
                role_labels=EditorState.role_labels,
                selected=EditorState.selected,
                read_only=~EditorState.editable,
                on_graph_change=EditorState.apply_graph,
                on_select=EditorState.select_step,
                height="620px",
            ),
            _workflow_aside(),
            width="100%",
            align="start",
            spacing="3",
        ),
        width="100%",
    )
