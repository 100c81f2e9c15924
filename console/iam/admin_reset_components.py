"""用户管理's parts for two-person resets: the waiting requests, the dialogs."""

from __future__ import annotations

import reflex as rx

from console.iam.admin_reset_service import ResetRequestRow
from console.iam.admin_reset_state import AdminResetState
from console.ui.components import confirm_dialog


def _request_row(row: ResetRequestRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.account),
        rx.table.cell(row.kind_label),
        rx.table.cell(row.requested_by),
        rx.table.cell(row.requested_at),
        rx.table.cell(
            rx.cond(
                row.may_confirm,
                rx.button(
                    "确认重置",
                    size="1",
                    color_scheme="red",
                    variant="soft",
                    on_click=AdminResetState.ask_confirm(row.id, row.account, row.kind_label),
                    data_testid=f"reset-confirm-{row.account}",
                ),
                rx.text("须另一名管理员确认", size="1", color_scheme="gray"),
            )
        ),
        data_testid="reset-request",
    )


def waiting_requests() -> rx.Component:
    """The three-admin resets waiting for a second administrator (hidden when none)."""
    return rx.cond(
        AdminResetState.requests.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("users")),
            rx.vstack(
                rx.text(
                    "待确认的三员重置申请（双人确认：申请人和账号本人不能确认）", weight="medium"
                ),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(label)
                                for label in ("账号", "重置内容", "申请人", "申请时间", "")
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(AdminResetState.requests, _request_row)),
                    size="1",
                    width="100%",
                ),
                width="100%",
            ),
            color_scheme="amber",
            width="100%",
        ),
    )


def dialogs() -> rx.Component:
    """Ask, confirm, and the one-time password of a confirmed password reset."""
    ask = confirm_dialog(
        title="申请重置（双人确认）",
        description=[
            "将申请重置 ",
            AdminResetState.ask_account,
            " 的",
            AdminResetState.ask_kind_label,
            "。三员账号的重置须由另一名管理员确认后才生效，账号本人下次登录时会看到说明。",
        ],
        open_=AdminResetState.ask_open,
        on_open_change=AdminResetState.set_ask_open,
        on_confirm=AdminResetState.submit_request,
        confirm_label="提交申请",
        testid="reset-ask-ok",
    )
    confirm = confirm_dialog(
        title="确认重置",
        description=["将立即重置 ", AdminResetState.confirm_text, "，其全部会话随即结束。"],
        open_=AdminResetState.confirm_open,
        on_open_change=AdminResetState.set_confirm_open,
        on_confirm=AdminResetState.confirm,
        confirm_label="确认重置",
        testid="reset-confirm-ok",
    )
    password = rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("一次性密码"),
            rx.vstack(
                rx.text("账号：", rx.code(AdminResetState.one_time_account)),
                rx.text(
                    "一次性密码：",
                    rx.code(AdminResetState.one_time_password, data_testid="reset-one-time"),
                ),
                rx.text(
                    "只显示这一次。请当面或经安全渠道交给账号本人，其首次登录须修改。", size="2"
                ),
                rx.dialog.close(rx.button("我已交付", on_click=AdminResetState.forget_password)),
                spacing="3",
            ),
        ),
        open=AdminResetState.one_time_password != "",
    )
    return rx.fragment(ask, confirm, password)
