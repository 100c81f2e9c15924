"""办理时效 page: time per business, on-time rate, and the late cases with their traces."""

from __future__ import annotations

import reflex as rx

from console.stats.components import dashboard_head
from console.stats.timeliness_state import BusinessView, LateView, TimelinessState
from console.ui.components import simple_table
from console.ui.navigation import section_by_key
from console.ui.shell import shell

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
    return rx.table.row(
        rx.table.cell(row.label, rx.text(row.code, size="1", color_scheme="gray")),
        rx.table.cell(row.limit),
        rx.table.cell(row.completed),
        rx.table.cell(row.on_time),
        rx.table.cell(rx.text(row.rate, color_scheme=rx.cond(row.worrying, "red", "green"))),
        rx.table.cell(row.p50),
        rx.table.cell(row.p90),
        data_testid=f"timeliness-{row.code}",
    )


def _late(row: LateView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.tenant),
        rx.table.cell(row.case_no),
        rx.table.cell(row.business_code),
        rx.table.cell(row.accepted),
        rx.table.cell(rx.text(row.workdays, color_scheme="red")),
        rx.table.cell(rx.link("追溯", href=row.trace_url)),
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
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
