"""登录日志 page: every sign-in, failure, lockout, sign-out and timeout, by account and outcome."""

from __future__ import annotations

import reflex as rx

from console.iam.login_log_service import OUTCOME_LABELS
from console.iam.login_log_state import LoginLogState, LoginView
from console.ui.components import list_table, page_heading, search_box
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import filter_select, list_body, table_row, toolbar

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
    return table_row(
        event.time,
        event.account,
        rx.badge(event.outcome_label, color_scheme=colour, variant="soft"),
        event.reason,
        event.client_ip,
        rx.text(
            event.user_agent,
            size="1",
            color_scheme="gray",
            max_width="280px",
            trim="both",
            white_space="nowrap",
            overflow="hidden",
            text_overflow="ellipsis",
        ),
    )


def login_log_page() -> rx.Component:
    """The page."""
    filters = toolbar(
        search_box(LoginLogState.search, "账号（精确）", "login-log-account", width="200px"),
        filter_select(
            LoginLogState,
            "outcome_filter",
            OUTCOME_LABELS.items(),
            all_label="全部结果",
        ),
    )
    table = list_table(
        LoginLogState,
        COLUMNS,
        _row,
        size="1",
        empty=("没有符合条件的登录记录", "调整账号或结果筛选条件。"),
    )
    body = list_body(
        page_heading(
            SECTION.label, "每一次登录、失败、锁定、退出与超时，含时间、账号、IP 与浏览器"
        ),
        filters,
        LoginLogState,
        table,
    )
    return shell(body, title=SECTION.label, section=SECTION)
