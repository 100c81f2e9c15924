"""流程配置 page: the list of businesses and workflows, and the editor of one of them."""

from __future__ import annotations

import reflex as rx

from console.ui.components import (
    create_button,
    error_callout,
    form_footer,
    labelled,
    list_table,
    option_select,
    page_heading,
    search_box,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.workflows.business_components import (
    business_form,
    business_main,
    business_materials,
    business_opinions,
    guide_preview,
)
from console.workflows.components import editor_dialogs, editor_header, origin_badge
from console.workflows.designer_components import workflow_design
from console.workflows.editor_state import EditorState
from console.workflows.state import ORIGIN_FILTERS, DefinitionRowView, WorkflowsState
from console.workflows.version_components import bpmn_panel, versions_panel

SECTION = section_by_key("workflows")
COLUMNS = ("标识", "名称", "类别", "来源", "执行版本", "草稿", "最近修改", "操作")


def _row(row: DefinitionRowView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(row.key)),
        rx.table.cell(row.name),
        rx.table.cell(rx.tooltip(rx.text(row.category), content=row.category_code)),
        rx.table.cell(origin_badge(row.origin_label, row.origin)),
        rx.table.cell(row.served),
        rx.table.cell(rx.cond(row.draft != "", rx.badge(row.draft, color_scheme="amber"))),
        rx.table.cell(rx.text(row.updated, size="1")),
        rx.table.cell(
            rx.button(
                "打开",
                size="1",
                variant="soft",
                on_click=EditorState.open_definition(WorkflowsState.kind, row.key),
                data_testid=f"open-{row.key}",
            )
        ),
        data_testid=f"definition-{row.key}",
    )


def _create_dialog() -> rx.Component:
    business = WorkflowsState.kind == "business"
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(business, "新建业务定义", "新建流程定义")),
            rx.form(
                rx.vstack(
                    labelled(
                        rx.cond(
                            business,
                            "业务代码（7 位：登记类型 + 4 位）",
                            "流程标识（字母、数字、下划线）",
                        ),
                        rx.input(name="key", data_testid="create-key"),
                    ),
                    labelled("名称", rx.input(name="name", data_testid="create-name")),
                    error_callout(WorkflowsState.create_error, testid="create-error"),
                    form_footer(rx.button("新建", type="submit", data_testid="create-submit")),
                    spacing="3",
                ),
                on_submit=WorkflowsState.create,
                reset_on_submit=False,
            ),
            max_width="460px",
        ),
        open=WorkflowsState.create_open,
        on_open_change=WorkflowsState.set_create_open,
    )


def _list() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "正在查看：" + WorkflowsState.viewing,
            icon="map-pin",
            size="1",
            data_testid="workflows-viewing",
        ),
        rx.hstack(
            rx.segmented_control.root(
                rx.segmented_control.item("业务定义", value="business"),
                rx.segmented_control.item("流程定义", value="workflow"),
                value=WorkflowsState.kind,
                on_change=WorkflowsState.set_kind,
                data_testid="kind-switch",
            ),
            search_box(WorkflowsState.search, "代码或名称", "workflows-search"),
            option_select(
                ORIGIN_FILTERS,
                value=WorkflowsState.origin_filter,
                on_change=WorkflowsState.set_origin_filter,
                testid="origin-filter",
            ),
            rx.spacer(),
            create_button(
                WorkflowsState.can_write,
                "新建",
                WorkflowsState.set_create_open(True),
                "workflows-create",
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        error_callout(WorkflowsState.error),
        list_table(
            WorkflowsState,
            COLUMNS,
            _row,
            empty=(
                "没有符合条件的定义",
                "清除搜索或来源筛选；省级管理员可「新建」模板，区县在模板上「本地覆盖」。",
            ),
        ),
        _create_dialog(),
        width="100%",
        spacing="3",
    )


def _tabs(*tabs: tuple[str, str, rx.Component]) -> rx.Component:
    """The editor's tabs, each ``(value, label, content)``; the state's ``tab`` is shown."""
    return rx.tabs.root(
        rx.tabs.list(
            *[
                rx.tabs.trigger(label, value=value, data_testid=f"tab-{value}")
                for value, label, _ in tabs
            ]
        ),
        *[rx.tabs.content(content, value=value, padding_top="12px") for value, _, content in tabs],
        value=EditorState.tab,
        on_change=EditorState.set_tab,
        width="100%",
    )


def _editor() -> rx.Component:
    workflow_tabs = _tabs(
        ("main", "流程设计", workflow_design()),
        ("versions", "版本与差异", versions_panel()),
        ("bpmn", "BPMN", bpmn_panel()),
    )
    business_tabs = _tabs(
        (
            "main",
            "基本信息与办事指南",
            rx.vstack(business_main(), guide_preview(), width="100%", spacing="4"),
        ),
        ("form", "表单", business_form()),
        ("materials", "材料", business_materials()),
        ("opinions", "意见模板", business_opinions()),
        ("versions", "版本与差异", versions_panel()),
    )
    return rx.vstack(
        editor_header(),
        rx.cond(EditorState.kind == "workflow", workflow_tabs, business_tabs),
        editor_dialogs(),
        width="100%",
        spacing="3",
        data_testid="editor",
    )


def workflows_page() -> rx.Component:
    """流程配置."""
    content = rx.vstack(
        page_heading(SECTION.label, SECTION.summary),
        rx.cond(EditorState.is_open, _editor(), _list()),
        width="100%",
        spacing="4",
    )
    return shell(content, title=SECTION.label, section=SECTION)
