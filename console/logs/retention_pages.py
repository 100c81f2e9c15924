"""日志保全 page: holdings per stream, monthly counts, missing days, next purge, integrity."""

from __future__ import annotations

import reflex as rx

from console.logs.quarantine_components import quarantine_card
from console.logs.retention_state import BreakView, RetentionState, StreamView
from console.ui.charts import chart
from console.ui.components import error_callout, list_table, page_heading, scroll_table
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import table_row

SECTION = section_by_key("log_retention")
COLUMNS = (
    "日志", "最早日期", "封存天数", "封存条数", "待封存", "缺失日期", "无数据日期", "下一次清理",
)  # fmt: skip


def _row(row: StreamView) -> rx.Component:
    return table_row(
        row.label,
        row.earliest,
        row.days_held,
        row.rows,
        row.pending,
        rx.text(row.missing, size="1", color_scheme=rx.cond(row.missing == "无", "gray", "red")),
        rx.text(row.no_data, size="1", color_scheme="gray"),
        row.next_purge,
        data_testid=f"retention-{row.stream}",
    )


def _break_row(found: BreakView) -> rx.Component:
    return table_row(
        found.stream,
        found.day,
        rx.code(found.file),
        rx.text(found.reason, color="var(--red-11)"),
    )


def retention_page() -> rx.Component:
    """The page."""
    integrity = rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("防篡改校验", size="3"),
                rx.spacer(),
                rx.button(
                    rx.icon("shield-check", size=14),
                    "立即校验",
                    loading=RetentionState.checking,
                    on_click=RetentionState.check,
                    data_testid="integrity-check",
                ),
                width="100%",
            ),
            rx.text(
                "每个封存文件的 SM3 摘要以带密钥的 HMAC-SM3 与前一条记录相链，链头另存于配置库；"
                "改动、删除、重排任何文件或伪造清除记录都会在此报告。系统每天 4:00 自动校验一次。",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                RetentionState.last_check != "",
                rx.callout(
                    "最近一次校验：" + RetentionState.last_check,
                    icon=rx.cond(RetentionState.last_check_ok, "check", "triangle-alert"),
                    color_scheme=rx.cond(RetentionState.last_check_ok, "gray", "red"),
                    size="1",
                    data_testid="integrity-last",
                ),
                rx.text("尚未校验过：系统每天 4:00 自动校验，也可点击“立即校验”。", size="2"),
            ),
            rx.cond(
                RetentionState.checked != "",
                rx.callout(
                    RetentionState.checked,
                    icon=rx.cond(RetentionState.breaks.length() > 0, "triangle-alert", "check"),
                    color_scheme=rx.cond(RetentionState.breaks.length() > 0, "red", "green"),
                    data_testid="integrity-result",
                ),
            ),
            rx.cond(
                RetentionState.breaks.length() > 0,
                scroll_table(
                    ("日志", "日期", "文件", "问题"),
                    RetentionState.breaks,
                    _break_row,
                    testid="integrity-breaks",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )
    body = rx.vstack(
        page_heading(SECTION.label, SECTION.summary),
        rx.text(
            "保留期 ",
            RetentionState.retention_days,
            " 天（不少于 365 天）：只有早于保留期的整日数据会被清理，"
            "每次清理都记入校验链与操作日志。",
            size="2",
        ),
        error_callout(RetentionState.error),
        list_table(
            RetentionState,
            COLUMNS,
            _row,
            size="1",
            paged=False,
            empty=("还没有日志", "登记系统通过接口推送日志后，这里显示各类日志的保存情况。"),
        ),
        chart(RetentionState.chart),
        integrity,
        quarantine_card(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
