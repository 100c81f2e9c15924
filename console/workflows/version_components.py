"""The 版本与差异 and BPMN tabs: history, side-by-side comparison, usage, BPMN in and out."""

from __future__ import annotations

import reflex as rx

from console.ui.components import file_picker, scroll_table, simple_table
from console.ui.widgets import action_button
from console.workflows.bpmn_state import PartView
from console.workflows.editor_state import EditorState
from console.workflows.version_state import DiffView, UsageView, VersionView

CHANGE_COLOURS = {"新增": "green", "删除": "red", "修改": "amber"}
PART_COLUMNS = ("元素标识", "类型", "处理")
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


def _part_row(part: PartView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(part.element, size="1")),
        rx.table.cell(part.kind),
        rx.table.cell(rx.text(part.note, size="1")),
    )


def _parts_table(parts: rx.Var, more: rx.Var, testid: str) -> rx.Component:
    return rx.vstack(
        scroll_table(PART_COLUMNS, parts, _part_row, testid=testid, max_height="36vh"),
        rx.cond(more > 0, rx.text(f"另有 {more} 项未列出（均已保留）", size="1")),
        width="100%",
    )


def _chosen_process() -> rx.Component:
    chosen = EditorState.bpmn_chosen
    return rx.cond(
        chosen,
        rx.vstack(
            rx.text(chosen.summary, size="2", data_testid="bpmn-summary"),
            rx.cond(
                chosen.problem != "",
                rx.callout(chosen.problem, icon="triangle-alert", color_scheme="red", size="1"),
            ),
            rx.cond(
                chosen.lanes.length() > 0,
                rx.vstack(
                    rx.text("泳道与岗位", weight="medium", size="2"),
                    rx.foreach(chosen.lanes, lambda lane: rx.text(lane, size="2")),
                    data_testid="bpmn-lanes",
                    spacing="1",
                ),
            ),
            rx.cond(
                EditorState.bpmn_parts.length() > 0,
                rx.vstack(
                    rx.text(
                        "设计器无法显示的内容（导入后原样保留，导出时写回扩展元素）",
                        weight="medium",
                        size="2",
                    ),
                    _parts_table(EditorState.bpmn_parts, EditorState.bpmn_parts_more, "bpmn-parts"),
                    width="100%",
                ),
                rx.text("文件中的内容都能在设计器中显示。", size="2", color_scheme="green"),
            ),
            width="100%",
            spacing="2",
        ),
    )


def _preview() -> rx.Component:
    """The uploaded file's processes: choose one, see what it brings, then import it."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("file-search", size=16),
                rx.text(EditorState.bpmn_file_name, weight="medium"),
                rx.text(f"含 {EditorState.bpmn_processes.length()} 个流程", size="2"),
                align="center",
            ),
            rx.cond(
                EditorState.bpmn_processes.length() > 1,
                rx.hstack(
                    rx.text("导入哪个流程：", size="2"),
                    rx.select.root(
                        rx.select.trigger(placeholder="选择流程", data_testid="bpmn-process"),
                        rx.select.content(
                            rx.foreach(
                                EditorState.bpmn_options,
                                lambda o: rx.select.item(o[1], value=o[0]),
                            )
                        ),
                        value=EditorState.bpmn_choice,
                        on_change=EditorState.choose_bpmn_process,
                    ),
                    align="center",
                ),
            ),
            _chosen_process(),
            rx.hstack(
                action_button(
                    "导入所选流程（替换当前草稿）",
                    EditorState.import_bpmn,
                    icon="upload",
                    variant=None,
                    testid="bpmn-import-chosen",
                    loading=EditorState.bpmn_busy,
                    disabled=(EditorState.bpmn_choice == "")
                    | (EditorState.bpmn_chosen.problem != ""),
                ),
                action_button("取消", EditorState.cancel_bpmn, testid="bpmn-cancel"),
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
        data_testid="bpmn-preview",
    )


def bpmn_panel() -> rx.Component:
    """Export a version as BPMN 2.0; preview a BPMN file and import one of its processes."""
    return rx.vstack(
        rx.text(
            "BPMN 2.0 XML 可在 Flowable、Camunda、SpiffWorkflow 等流程引擎中运行：岗位写为 "
            "candidateGroups，条件写为 conditionExpression（表达式语言 JUEL，${…}）；环节权限与时限"
            "写在扩展元素中，引擎会忽略。导入时先列出文件中的流程、泳道和设计器无法显示的内容，"
            "选定流程后才替换草稿；泳道名称与岗位字典中的岗位相同时，泳道内的环节即由该岗位办理。",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            EditorState.editable,
            rx.vstack(
                file_picker(
                    "bpmn_upload",
                    "拖入或点击选择 .bpmn / .xml 文件",
                    {"application/xml": [".bpmn", ".xml"], "text/xml": [".bpmn", ".xml"]},
                    "bpmn-upload",
                ),
                action_button(
                    "读取文件",
                    EditorState.upload_bpmn(rx.upload_files(upload_id="bpmn_upload")),
                    icon="file-search",
                    variant=None,
                    testid="bpmn-import",
                    loading=EditorState.bpmn_busy,
                ),
                rx.cond(EditorState.bpmn_processes.length() > 0, _preview()),
                rx.cond(
                    EditorState.bpmn_kept.length() > 0,
                    rx.vstack(
                        rx.text(
                            "已导入。以下内容设计器无法显示，已保留在草稿中，导出时写回扩展元素：",
                            size="2",
                            color_scheme="amber",
                        ),
                        _parts_table(
                            EditorState.bpmn_kept, EditorState.bpmn_kept_more, "bpmn-kept"
                        ),
                        width="100%",
                    ),
                ),
                width="100%",
            ),
        ),
        width="100%",
        spacing="3",
    )
