"""共享接口监测 page: calls, success rate and latency per interface, worst first; daily trend."""

from __future__ import annotations

import reflex as rx

from console.stats.components import dashboard_head
from console.stats.interfaces_state import (
    CodeRow,
    InterfaceMonitorState,
    InterfaceRow,
    RejectedKeyRow,
)
from console.ui.components import simple_table
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import table_row

SECTION = section_by_key("interface_monitor")
COLUMNS = ("部门", "接口", "调用次数", "失败次数", "成功率", "p50 时延", "p95 时延")


def _row(row: InterfaceRow) -> rx.Component:
    name = rx.link(
        row.name,
        on_click=InterfaceMonitorState.select(row.code),
        data_testid=f"monitor-select-{row.code}",
    )
    flag = rx.cond(
        row.flag != "",
        rx.badge(row.flag, color_scheme="red", variant="soft", data_testid="monitor-flag"),
    )
    return table_row(
        row.department,
        (rx.hstack(name, flag, align="center"), rx.text(row.code, size="1", color_scheme="gray")),
        rx.link(row.calls, href=row.calls_url, data_testid="monitor-calls"),
        rx.link(row.failures, href=row.failures_url, data_testid="monitor-failures"),
        rx.text(row.success_rate, color_scheme=rx.cond(row.worrying, "red", "green")),
        row.p50,
        row.p95,
        data_testid=f"monitor-row-{row.code}",
    )


def _code(row: CodeRow) -> rx.Component:
    return table_row(row.result_code, row.outcome, row.calls)


def _rejected(row: RejectedKeyRow) -> rx.Component:
    return table_row(row.name, rx.code(row.key_id, size="1"), row.lines)


def _rejected_card() -> rx.Component:
    """Lines refused per key: a sender whose shipper drops the refusals shows up here."""
    return rx.card(
        rx.hstack(
            rx.text("推送拒收行数（按密钥）", weight="bold", size="2"),
            rx.spacer(),
            rx.link("查看拒收记录 →", href="/log-retention", size="2"),
            width="100%",
        ),
        rx.cond(
            InterfaceMonitorState.rejected.length() > 0,
            simple_table(
                ("密钥", "编号", "拒收行数"),
                InterfaceMonitorState.rejected,
                _rejected,
                testid="monitor-rejected",
            ),
            rx.text("本期没有被拒收的推送行。", size="2", color_scheme="gray"),
        ),
        width="100%",
    )


def interface_monitor_page() -> rx.Component:
    """The page."""
    body = rx.vstack(
        *dashboard_head(SECTION, InterfaceMonitorState, testid="monitor"),
        rx.grid(
            simple_table(COLUMNS, InterfaceMonitorState.rows, _row, testid="monitor-table"),
            rx.card(
                rx.text("结果码（点击接口名查看单个接口）", weight="bold", size="2"),
                simple_table(
                    ("结果码", "结果", "次数"),
                    InterfaceMonitorState.codes,
                    _code,
                    testid="monitor-codes",
                ),
            ),
            columns=rx.breakpoints(initial="1", lg="3fr 1fr"),
            spacing="3",
            width="100%",
        ),
        _rejected_card(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
