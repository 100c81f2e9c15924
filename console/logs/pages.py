"""日志审计 page: search the four log streams, trace a case, export the result."""

from __future__ import annotations

import reflex as rx

from console.logs.contract import STREAM_LABELS
from console.logs.state import AuditState, LogView, TraceView
from console.ui.components import (
    close_footer,
    error_callout,
    export_menu,
    list_table,
    page_heading,
    scroll_table,
)
from console.ui.date_field import date_field
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import dialog, dropdown, row_button, table_row

SECTION = section_by_key("audit")


RESULTS = (("success", "成功"), ("failure", "失败"), ("denied", "拒绝"))
EXPORT_CHOICES = (
    ("csv", "CSV"),
    ("xlsx", "Excel（XLSX，超过 1,048,576 行分表）"),
    ("parquet", "Parquet"),
)


def _cell(text: rx.Var[str]) -> rx.Component:
    return rx.table.cell(rx.text(text, size="1"))


def _row(row: LogView) -> rx.Component:
    return rx.table.row(
        rx.foreach(row.cells, _cell),
        rx.table.cell(
            row_button(
                "追溯",
                AuditState.open_trace(row.case_no),
                allowed=row.case_no != "",
                testid=f"log-trace-{row.key}",
            )
        ),
        background=rx.cond(row.failed, "var(--red-2)", "transparent"),
        data_testid=f"log-row-{row.key}",
    )


def _table() -> rx.Component:
    return list_table(
        AuditState,
        ("",),
        _row,
        size="1",
        leading_columns=AuditState.headers,
        empty=("没有符合条件的日志", "放宽时间范围或筛选条件；登记系统推送的日志在几秒内可查。"),
    )


def _filter(name: str, placeholder: str, width: str = "160px", **props: object) -> rx.Component:
    return rx.input(
        name=name,
        placeholder=placeholder,
        width=width,
        size="1",
        data_testid=f"log-filter-{name}",
        **props,
    )


def _filters() -> rx.Component:
    return rx.form(
        rx.flex(
            date_field(testid="log-filter-start", name="start", placeholder="开始日期"),
            date_field(testid="log-filter-end", name="end", placeholder="结束日期"),
            _filter("case_no", "受理编号"),
            _filter("trace_id", "追踪号"),
            _filter("tenant", "租户代码", width="110px"),
            _filter("actor", "操作人"),
            _filter("department", "部门"),
            _filter("interface_code", "接口代码"),
            dropdown(RESULTS, placeholder="结果", size="1", name="result"),
            _filter("text", "消息中的文字", width="200px"),
            rx.button(rx.icon("search", size=14), "查询", type="submit", size="1"),
            wrap="wrap",
            spacing="2",
            align="center",
        ),
        on_submit=AuditState.apply_filters,
        reset_on_submit=False,
    )


def _trace_line(entry: TraceView) -> rx.Component:
    return table_row(
        rx.text(entry.time, size="1"),
        rx.vstack(
            rx.cond(entry.gap != "", rx.badge(entry.gap, color_scheme="amber", size="1")),
            rx.text(
                entry.title,
                weight="medium",
                color=rx.cond(entry.failed, "var(--red-11)", "inherit"),
            ),
            spacing="1",
        ),
        rx.text(entry.detail, size="1"),
    )


def _trace_dialog() -> rx.Component:
    return dialog(
        AuditState,
        "trace",
        ("办件追溯：", AuditState.trace_case_no),
        rx.text(
            "按时间列出办件的每个环节、每次共享调用（含重试与耗时）、操作与异常；"
            "失败标红，环节间隔超过 3 天标黄。",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            AuditState.trace_loading,
            rx.center(rx.spinner(), padding="24px"),
            rx.cond(
                AuditState.trace.length() > 0,
                scroll_table(
                    ("时间", "事件", "详情"),
                    AuditState.trace,
                    _trace_line,
                    testid="trace-timeline",
                    max_height="60vh",
                ),
                rx.text("没有找到这个受理编号的记录（或不在您的数据范围内）。", size="2"),
            ),
        ),
        close_footer(),
        max_width="960px",
    )


def audit_page() -> rx.Component:
    """The page."""
    toolbar = rx.hstack(
        rx.segmented_control.root(
            *[rx.segmented_control.item(label, value=s) for s, label in STREAM_LABELS.items()],
            value=AuditState.stream,
            on_change=AuditState.set_stream,
            data_testid="log-stream",
        ),
        rx.spacer(),
        rx.form(
            rx.hstack(
                rx.input(
                    name="case_no", placeholder="受理编号", size="1", data_testid="trace-case-no"
                ),
                rx.button("办件追溯", size="1", type="submit", data_testid="trace-open"),
            ),
            on_submit=AuditState.trace_form,
        ),
        rx.cond(
            AuditState.can_export,
            export_menu(
                EXPORT_CHOICES,
                AuditState.export,
                loading=AuditState.exporting,
                testid="log-export",
            ),
        ),
        width="100%",
        align="center",
    )
    body = rx.vstack(
        page_heading(SECTION.label, SECTION.summary),
        toolbar,
        _filters(),
        rx.cond(
            AuditState.filter_summary != "",
            rx.hstack(
                rx.icon("filter", size=14),
                rx.text(
                    "当前筛选：",
                    AuditState.filter_summary,
                    size="2",
                    data_testid="log-filter-summary",
                ),
                rx.button("清除筛选", size="1", variant="ghost", on_click=AuditState.clear_filters),
                align="center",
            ),
        ),
        error_callout(AuditState.error),
        _table(),
        _trace_dialog(),
        spacing="3",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
