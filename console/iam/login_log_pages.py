"""登录日志 page."""

from __future__ import annotations

import reflex as rx

from console.iam.login_log_state import OUTCOME_FILTERS, LoginLogState, LoginView
from console.ui.components import (
    error_callout,
    list_table,
    page_heading,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("login_log")
COLUMNS = ("时间", "账号", "结果", "说明", "IP", "浏览器")


def _row(event: LoginView) -> rx.Component:
    colour = rx.match(
        event.outcome,
        ("success", "green"),
        ("logout", "gray"),
        ("failure", "red"),
        ("locked", "red"),
        "amber",
    )
    return rx.table.row(
        rx.table.cell(event.time),
        rx.table.cell(event.account),
        rx.table.cell(rx.badge(event.outcome_label, color_scheme=colour, variant="soft")),
        rx.table.cell(event.reason),
        rx.table.cell(event.client_ip),
        rx.table.cell(
            rx.text(
                event.user_agent,
                size="1",
                color_scheme="gray",
                max_width="280px",
                trim="both",
                white_space="nowrap",
                overflow="hidden",
                text_overflow="ellipsis",
            )
        ),
    )


def login_log_page() -> rx.Component:
    """The page."""
    toolbar = rx.hstack(
        rx.form(
            rx.hstack(
                rx.input(
                    name="keyword",
                    placeholder="账号（精确）",
                    width="200px",
                    data_testid="login-log-account",
                ),
                rx.button(rx.icon("search", size=14), "查询", type="submit", variant="soft"),
            ),
            on_submit=LoginLogState.search,
        ),
        rx.select.root(
            rx.select.trigger(),
            rx.select.content(*[rx.select.item(label, value=v) for v, label in OUTCOME_FILTERS]),
            value=LoginLogState.outcome_filter,
            on_change=LoginLogState.set_outcome_filter,
        ),
        width="100%",
    )
    table = list_table(
        LoginLogState,
        COLUMNS,
        _row,
        size="1",
        empty=("没有符合条件的登录记录", "调整账号或结果筛选条件。"),
    )
    body = rx.vstack(
        page_heading(
            SECTION.label, "每一次登录、失败、锁定、退出与超时，含时间、账号、IP 与浏览器"
        ),
        toolbar,
        error_callout(LoginLogState.error),
        table,
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
