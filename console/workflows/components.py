"""The 流程配置 editor's frame: header with origin and actions, the problems, the dialogs.

The tabs' contents live beside it: the designer (``designer_components``), the business
editors (``business_components``), versions and BPMN (``version_components``).
"""

from __future__ import annotations

import reflex as rx

from console.ui.components import confirm_dialog, error_callout, form_footer, labelled
from console.ui.widgets import action_button
from console.workflows.editor_state import EditorState, ProblemView
from console.workflows.state import WorkflowsState

ORIGIN_COLOURS = {"template": "indigo", "inherited": "gray", "overridden": "amber", "local": "teal"}


def origin_badge(label: rx.Var[str], origin: rx.Var[str]) -> rx.Component:
    """Where a setting comes from: 省级模板, 继承省级模板, 本地覆盖 or 本地自建."""
    return rx.badge(
        label, color_scheme=rx.match(origin, *ORIGIN_COLOURS.items(), "gray"), variant="soft"
    )


# ---- header, actions, problems ------------------------------------------------------------


def _version_text() -> rx.Component:
    return rx.hstack(
        rx.cond(
            EditorState.served_version > 0,
            rx.badge("执行 v", EditorState.served_version, color_scheme="green", variant="soft"),
            rx.badge("尚未发布", color_scheme="gray", variant="soft"),
        ),
        rx.cond(
            EditorState.draft_number > 0,
            rx.badge("草稿 v", EditorState.draft_number, color_scheme="amber", variant="soft"),
        ),
        rx.cond(EditorState.dirty, rx.badge("有未保存的修改", color_scheme="red")),
        spacing="2",
        data_testid="editor-versions",
    )


def editor_header() -> rx.Component:
    """Title, origin, versions and the actions the viewer may take."""
    return rx.vstack(
        rx.hstack(
            action_button(
                "返回列表",
                # The list is reloaded: what was saved in the editor shows there.
                [EditorState.close, WorkflowsState.load],
                icon="arrow-left",
                variant="ghost",
                testid="editor-back",
            ),
            rx.heading(EditorState.title, size="5", data_testid="editor-title"),
            rx.code(EditorState.key),
            origin_badge(EditorState.origin_label, EditorState.origin),
            _version_text(),
            rx.spacer(),
            _actions(),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        rx.callout(
            EditorState.inheritance_text,
            icon="git-branch",
            size="1",
            color_scheme=rx.match(EditorState.origin, ("overridden", "amber"), "blue"),
            data_testid="inheritance",
        ),
        error_callout(EditorState.error, testid="editor-error"),
        rx.cond(EditorState.kind == "business", problems_callout()),
        width="100%",
        spacing="2",
    )


def _draft_actions() -> rx.Component:
    return rx.hstack(
        action_button(
            "保存草稿",
            EditorState.save,
            icon="save",
            loading=EditorState.busy,
            testid="editor-save",
        ),
        action_button(
            "发布",
            EditorState.set_publish_open(True),
            allowed=EditorState.can_publish,
            icon="send",
            variant=None,
            disabled=(EditorState.draft_number == 0) & ~EditorState.dirty,
            testid="editor-publish",
        ),
        action_button(
            "放弃草稿",
            EditorState.ask("discard"),
            allowed=EditorState.draft_number > 0,
            color_scheme="red",
            testid="editor-discard",
        ),
    )


def _actions() -> rx.Component:
    return rx.hstack(
        action_button(
            "本地覆盖",
            EditorState.override,
            allowed=EditorState.may_override,
            icon="copy",
            variant=None,
            loading=EditorState.busy,
            testid="editor-override",
        ),
        rx.cond(EditorState.editable, _draft_actions()),
        action_button(
            "恢复继承",
            EditorState.ask("revert"),
            allowed=EditorState.may_revert,
            icon="undo-2",
            color_scheme="amber",
            testid="editor-revert",
        ),
        spacing="2",
    )


def _problem(problem: ProblemView) -> rx.Component:
    return rx.list.item(
        rx.text(problem.message, size="2"),
        action_button(
            "定位",
            EditorState.select_step(problem.ref),
            allowed=problem.ref != "",
            size="1",
            variant="ghost",
        ),
    )


def problems_callout() -> rx.Component:
    """What stops publishing (each with 定位 where it names a step), or that all is well."""
    return rx.cond(
        EditorState.problems.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.vstack(
                rx.text(
                    "发布前需解决 ",
                    EditorState.problems.length(),
                    " 处问题（草稿可以先保存）：",
                    weight="medium",
                    size="2",
                ),
                rx.list.unordered(rx.foreach(EditorState.problems, _problem)),
                spacing="1",
            ),
            color_scheme="amber",
            size="1",
            data_testid="editor-problems",
        ),
        rx.callout(
            "检查通过：可以发布",
            icon="circle-check",
            color_scheme="green",
            size="1",
            data_testid="editor-ok",
        ),
    )


def editor_dialogs() -> rx.Component:
    """Publish (with a note) and the confirmation of 放弃草稿 / 恢复继承."""
    publish = rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("发布新版本"),
            rx.form(
                rx.vstack(
                    rx.text(
                        "发布后该版本不可修改，并立即对",
                        rx.cond(EditorState.is_county, "本区县", "所有继承省级模板的区县"),
                        "生效。",
                        size="2",
                    ),
                    labelled(
                        "发布说明（记入版本历史）",
                        rx.text_area(name="note", max_length=200, data_testid="publish-note"),
                    ),
                    form_footer(
                        rx.button("确认发布", type="submit", data_testid="publish-confirm")
                    ),
                    spacing="3",
                ),
                on_submit=EditorState.publish,
            ),
            max_width="480px",
        ),
        open=EditorState.publish_open,
        on_open_change=EditorState.set_publish_open,
    )
    confirm = confirm_dialog(
        title="请确认",
        description=[EditorState.confirm_text],
        open_=EditorState.confirm_open,
        on_open_change=EditorState.set_confirm_open,
        on_confirm=EditorState.confirm,
        testid="editor-confirm",
    )
    return rx.fragment(publish, confirm)
