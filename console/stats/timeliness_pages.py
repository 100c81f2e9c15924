"""办理时效 page: time per business, on-time rate, and the late cases with their traces."""

from __future__ import annotations

import reflex as rx

from console.stats.components import dashboard_head
from console.stats.timeliness_state import BusinessView, LateView, TimelinessState
from console.ui.components import form_footer, labelled, simple_table
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import dialog, table_row

SECTION = section_by_key("timeliness")
BUSINESS_COLUMNS = (
    "业务",
    "承诺时限",
    "办结",
    "按时办结",
    "按时办结率",
    "p50（小时）",
    "p90（小时）",
)
LATE_COLUMNS = ("区县", "受理编号", "业务", "受理时间", "已用/承诺工作日", "")


def _business(row: BusinessView) -> rx.Component:
    return table_row(
        (row.label, rx.text(row.code, size="1", color_scheme="gray")),
        rx.hstack(
            rx.text(row.limit),
            rx.cond(
                TimelinessState.can_edit_limits,
                rx.icon_button(
                    rx.icon("pencil", size=12),
                    size="1",
                    variant="ghost",
                    on_click=TimelinessState.open_limit(row.code, row.label, row.limit_days),
                    data_testid=f"limit-edit-{row.code}",
                ),
            ),
            align="center",
        ),
        row.completed,
        row.on_time,
        rx.text(row.rate, color_scheme=rx.cond(row.worrying, "red", "green")),
        row.p50,
        row.p90,
        data_testid=f"timeliness-{row.code}",
    )


def _late(row: LateView) -> rx.Component:
    return table_row(
        row.tenant,
        row.case_no,
        row.business_code,
        row.accepted,
        rx.text(row.workdays, color_scheme="red"),
        rx.link("追溯", href=row.trace_url),
    )


def _limit_dialog() -> rx.Component:
    """Change one business's promised limit (province-wide; logged)."""
    return dialog(
        TimelinessState,
        "limit",
        "调整承诺时限",
        rx.dialog.description(
            TimelinessState.limit_label, "：受理至办结的工作日数，全省统一，0 到 30。", size="2"
        ),
        rx.vstack(
            labelled(
                "承诺时限（工作日）",
                rx.input(
                    value=TimelinessState.limit_days,
                    on_change=TimelinessState.set_limit_days,
                    input_mode="numeric",
                    data_testid="limit-days",
                ),
                TimelinessState.limit_error,
            ),
            labelled(
                "依据（可选）",
                rx.input(
                    value=TimelinessState.limit_basis,
                    on_change=TimelinessState.set_limit_basis,
                    placeholder="如：省自然资源厅 2026 年办事指南",
                    max_length=200,
                ),
            ),
            form_footer(
                rx.button(
                    "保存",
                    loading=TimelinessState.saving,
                    disabled=TimelinessState.limit_error != "",
                    on_click=TimelinessState.save_limit,
                    data_testid="limit-save",
                )
            ),
            spacing="3",
            margin_top="12px",
        ),
        max_width=None,
        on_open_change=TimelinessState.set_limit_open,
    )


def timeliness_page() -> rx.Component:
    """The page."""
    body = rx.vstack(
        *dashboard_head(SECTION, TimelinessState, testid="timeliness"),
        simple_table(
            BUSINESS_COLUMNS, TimelinessState.businesses, _business, testid="timeliness-table"
        ),
        rx.heading("超期办结（最多 50 件，超期最久的在前）", size="3"),
        simple_table(LATE_COLUMNS, TimelinessState.late, _late, testid="timeliness-late"),
        rx.heading("超过承诺时限仍未办结（请督办）", size="3"),
        simple_table(LATE_COLUMNS, TimelinessState.open_overdue, _late, testid="timeliness-open"),
        _limit_dialog(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
