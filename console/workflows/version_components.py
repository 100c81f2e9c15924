"""The 版本与差异 and BPMN tabs: history, side-by-side comparison, usage, BPMN in and out."""

from __future__ import annotations

import reflex as rx

from console.ui.components import file_picker, scroll_table, simple_table
from console.ui.widgets import action_button
from console.workflows.editor_state import EditorState
from console.workflows.version_state import DiffView, UsageView, VersionView

CHANGE_COLOURS = {"新增": "green", "删除": "red", "修改": "amber"}
VERSION_COLUMNS = ("版本", "状态", "来源", "发布说明", "创建", "发布", "操作")


def _version_row(version: VersionView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(version.label)),
        rx.table.cell(
            rx.badge(
                version.status_label,
                color_scheme=rx.cond(version.status == "published", "green", "amber"),
                variant="soft",
            )
        ),
        rx.table.cell(version.based_on),
        rx.table.cell(version.note),
        rx.table.cell(rx.text(version.created, size="1")),
        rx.table.cell(rx.text(version.published, size="1")),
        rx.table.cell(
            rx.hstack(
                action_button(
                    "以此新建草稿",
                    EditorState.new_draft(version.number),
                    allowed=EditorState.editable
                    & (version.status == "published")
                    & (EditorState.draft_number == 0),
                    size="1",
                    testid=f"version-draft-{version.number}",
                ),
                action_button(
                    "导出 BPMN",
                    EditorState.export_bpmn(version.number),
                    allowed=EditorState.kind == "workflow",
                    size="1",
                    variant="ghost",
                    testid=f"version-bpmn-{version.number}",
                ),
            )
        ),
    )


def _diff_row(row: DiffView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.section),
        rx.table.cell(row.item),
        rx.table.cell(
            rx.badge(
                row.change,
                color_scheme=rx.match(row.change, *CHANGE_COLOURS.items(), "gray"),
            )
        ),
        rx.table.cell(rx.text(row.left, size="1"), background="var(--red-2)"),
        rx.table.cell(rx.text(row.right, size="1"), background="var(--green-2)"),
    )


def _usage_row(row: UsageView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.tenant), rx.table.cell(row.origin), rx.table.cell(row.version)
    )


def _diff_side(side: str, value: rx.Var[str]) -> rx.Component:
    return rx.select(
        EditorState.version_options,
        value=value,
        on_change=lambda v: EditorState.set_diff_side(side, v),
        data_testid=f"diff-{side}",
    )


def _usage() -> rx.Component:
    return rx.cond(
        EditorState.usage.length() > 0,
        rx.vstack(
            rx.text("各区县执行的版本", weight="medium", size="2"),
            scroll_table(
                ("区县", "来源", "执行版本"),
                EditorState.usage,
                _usage_row,
                testid="usage-table",
            ),
            width="100%",
        ),
        rx.text(
            "尚无区县租户：区县建立后，这里列出各区县执行的版本。",
            size="2",
            color_scheme="gray",
        ),
    )


def versions_panel() -> rx.Component:
    """History, a side-by-side comparison of two versions, and which county uses which."""
    return rx.vstack(
        simple_table(VERSION_COLUMNS, EditorState.versions, _version_row, testid="versions"),
        rx.hstack(
            rx.text("比较", size="2"),
            _diff_side("left", EditorState.diff_left),
            rx.text("与", size="2"),
            _diff_side("right", EditorState.diff_right),
            action_button("比较并查看使用情况", EditorState.compare, testid="diff-run"),
            align="center",
        ),
        rx.cond(
            EditorState.diff_rows.length() > 0,
            scroll_table(
                ("部分", "项目", "变化", "旧版本", "新版本"),
                EditorState.diff_rows,
                _diff_row,
                testid="diff-table",
                max_height="50vh",
            ),
        ),
        _usage(),
        width="100%",
        spacing="3",
    )


def bpmn_panel() -> rx.Component:
    """Export a version as BPMN 2.0; import a BPMN design into the draft."""
    return rx.vstack(
        rx.text(
            "BPMN 2.0 XML 可在 Flowable、Camunda 等流程引擎中运行：岗位写为 candidateGroups，"
            "条件写为 conditionExpression；环节权限与时限写在扩展属性中，引擎会忽略。",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            EditorState.editable,
            rx.vstack(
                file_picker(
                    "bpmn_upload",
                    "拖入或点击选择 .bpmn / .xml 文件（导入后替换当前草稿）",
                    {"application/xml": [".bpmn", ".xml"], "text/xml": [".bpmn", ".xml"]},
                    "bpmn-upload",
                ),
                action_button(
                    "导入到草稿",
                    EditorState.upload_bpmn(rx.upload_files(upload_id="bpmn_upload")),
                    icon="upload",
                    variant=None,
                    testid="bpmn-import",
                ),
                rx.foreach(
                    EditorState.bpmn_skipped,
                    lambda text: rx.text(text, size="2", color_scheme="amber"),
                ),
                width="100%",
            ),
        ),
        width="100%",
        spacing="3",
    )
