"""我的账号 page: personal access tokens for the user's own tools (the read API)."""

from __future__ import annotations

import reflex as rx

from console.iam.account_state import AccountState, TokenView
from console.ui.components import error_callout, list_table, page_heading
from console.ui.shell import shell
from console.ui.widgets import delete_button, delete_confirm, table_row

COLUMNS = ("编号", "名称", "创建", "到期", "最近使用", "状态", "")


def _row(token: TokenView) -> rx.Component:
    return table_row(
        rx.code(token.token_id),
        token.name,
        token.created,
        token.expires,
        token.last_used,
        token.status,
        delete_button(
            AccountState.ask_delete(token.token_id, token.name),
            allowed=token.status == "有效",
            label="吊销",
            testid=f"token-revoke-{token.token_id}",
        ),
    )


def _create_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                name="name",
                placeholder="用途，如：审计脚本",
                width="220px",
                data_testid="token-name",
            ),
            rx.input(name="days", default_value="90", type="number", width="100px"),
            rx.text("天", size="2"),
            rx.button(
                rx.icon("plus", size=14), "创建令牌", type="submit", data_testid="token-create"
            ),
            align="center",
        ),
        on_submit=AccountState.create,
    )


def _shown() -> rx.Component:
    return rx.cond(
        AccountState.shown_token != "",
        rx.callout(
            rx.vstack(
                rx.text("令牌只显示这一次，请立即复制保存：", weight="medium"),
                rx.code(AccountState.shown_token, data_testid="token-shown"),
                rx.hstack(
                    rx.button(
                        "复制",
                        size="1",
                        variant="soft",
                        on_click=rx.set_clipboard(AccountState.shown_token),
                    ),
                    rx.button("我已保存", size="1", on_click=AccountState.forget_token),
                ),
            ),
            icon="key-round",
            color_scheme="amber",
        ),
    )


def account_page() -> rx.Component:
    """The page."""
    body = rx.vstack(
        page_heading(
            "我的账号",
            "个人访问令牌：以您本人的权限与数据范围调用只读接口（/api/v1/logs、/api/v1/cases/…/trace）",
        ),
        _create_form(),
        error_callout(AccountState.create_error, testid="token-error"),
        _shown(),
        list_table(
            AccountState,
            COLUMNS,
            _row,
            size="1",
            paged=False,
            empty=("还没有个人访问令牌", "需要用脚本或工具读取日志时，在上方创建一个。"),
        ),
        delete_confirm(
            AccountState,
            "吊销令牌",
            "确定吊销「",
            "」？使用它的工具将立即无法访问。",
            label="吊销",
            testid="token-revoke-confirm",
        ),
        spacing="4",
        width="100%",
    )
    return shell(body, title="我的账号", section=None)
