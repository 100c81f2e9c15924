"""接入密钥 page: keys of the registration systems and institutions calling this console."""

from __future__ import annotations

import reflex as rx

from console.interfaces.key_service import KNOWN_SCOPES
from console.interfaces.key_state import ApiKeysState, KeyView
from console.ui.choice import Choice
from console.ui.components import (
    confirm_dialog,
    create_button,
    error_callout,
    form_footer,
    labelled,
    list_table,
    page_heading,
    search_box,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("api_keys")
COLUMNS = (
    "密钥编号",
    "名称",
    "租户",
    "机构 / 通道",
    "范围",
    "限流",
    "状态",
    "最近使用",
    "创建",
    "操作",
)


def _row(key: KeyView) -> rx.Component:
    actions = rx.cond(
        ApiKeysState.can_write & key.usable,
        rx.hstack(
            rx.button(
                "轮换",
                size="1",
                variant="soft",
                on_click=ApiKeysState.ask_rotate(key.key_id),
                data_testid=f"key-rotate-{key.key_id}",
            ),
            rx.button(
                "吊销",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=ApiKeysState.ask_delete(key.key_id, key.name),
                data_testid=f"key-revoke-{key.key_id}",
            ),
        ),
        rx.text("—", color_scheme="gray"),
    )
    return rx.table.row(
        rx.table.cell(rx.code(key.key_id)),
        rx.table.cell(key.name),
        rx.table.cell(key.tenant_code),
        rx.table.cell(key.bound_to),
        rx.table.cell(rx.text(key.scopes, size="1")),
        rx.table.cell(key.rate_limit, "/分"),
        rx.table.cell(
            rx.badge(key.status, color_scheme=rx.cond(key.usable, "green", "gray"), variant="soft")
        ),
        rx.table.cell(key.last_used),
        rx.table.cell(rx.text(key.created, size="1")),
        rx.table.cell(actions),
        data_testid=f"key-row-{key.key_id}",
    )


def _choice(choice: Choice) -> rx.Component:
    return rx.select.item(choice.label, value=choice.value)


def _scope_box(scope: str, label: str) -> rx.Component:
    return rx.checkbox(
        f"{label}（{scope}）",
        checked=ApiKeysState.chosen_scopes.contains(scope),
        on_change=lambda checked: ApiKeysState.toggle_scope(scope, checked),
        data_testid=f"key-scope-{scope}",
    )


def _create_dialog() -> rx.Component:
    form = rx.form(
        rx.vstack(
            labelled(
                "名称（接入系统或机构）",
                rx.input(name="name", width="100%", data_testid="key-name"),
            ),
            labelled(
                "租户",
                rx.select.root(
                    rx.select.trigger(width="100%"),
                    rx.select.content(rx.foreach(ApiKeysState.tenants, _choice)),
                    value=ApiKeysState.chosen_tenant,
                    on_change=ApiKeysState.choose_tenant,
                ),
            ),
            labelled(
                "机构（可选；已开通通道的机构，其密钥受通道状态约束）",
                rx.select.root(
                    rx.select.trigger(placeholder="不绑定机构", width="100%"),
                    rx.select.content(rx.foreach(ApiKeysState.orgs, _choice)),
                    name="org_id",
                ),
            ),
            rx.text("可调用的范围", size="2", weight="medium"),
            rx.vstack(*[_scope_box(s, label) for s, label in KNOWN_SCOPES.items()], spacing="1"),
            labelled(
                "限流（次/分钟）",
                rx.input(name="rate_limit", default_value="600", type="number", width="160px"),
            ),
            error_callout(ApiKeysState.create_error, testid="key-error"),
            form_footer(rx.button("创建", type="submit", data_testid="key-create-submit")),
            spacing="3",
        ),
        on_submit=ApiKeysState.create,
    )
    return rx.dialog.root(
        rx.dialog.content(rx.dialog.title("新建接入密钥"), form, max_width="560px"),
        open=ApiKeysState.create_open,
        on_open_change=ApiKeysState.set_create_open,
    )


def _shown_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("密钥只显示这一次"),
            rx.callout(
                "请立即复制并通过安全渠道交给接入方；平台只保存它的 SM3 摘要，关闭后无法再次查看。",
                icon="key-round",
                color_scheme="amber",
            ),
            rx.code(
                ApiKeysState.shown_key,
                data_testid="key-shown",
                style={"word_break": "break_all"},
                margin_y="12px",
            ),
            rx.hstack(
                rx.button(
                    rx.icon("copy", size=14),
                    "复制",
                    variant="soft",
                    on_click=rx.set_clipboard(ApiKeysState.shown_key),
                ),
                rx.dialog.close(rx.button("我已保存", data_testid="key-shown-done")),
                justify="end",
                width="100%",
            ),
            max_width="640px",
        ),
        open=ApiKeysState.shown_open,
        on_open_change=ApiKeysState.set_shown_open,
    )


def _rotate_dialog() -> rx.Component:
    form = rx.form(
        rx.vstack(
            rx.text(
                "将生成新密钥，绑定不变；旧密钥在宽限期内仍可使用，到期后拒绝。留空使用系统默认宽限期。",
                size="2",
            ),
            labelled(
                "宽限期（小时，0–720）",
                rx.input(name="grace_hours", type="number", width="160px"),
            ),
            error_callout(ApiKeysState.rotate_error, testid="rotate-error"),
            form_footer(rx.button("轮换", type="submit", data_testid="key-rotate-submit")),
            spacing="3",
        ),
        on_submit=ApiKeysState.rotate,
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("轮换密钥 ", ApiKeysState.rotate_key_id), form, max_width="480px"
        ),
        open=ApiKeysState.rotate_open,
        on_open_change=ApiKeysState.set_rotate_open,
    )


def api_keys_page() -> rx.Component:
    """The page."""
    toolbar = rx.hstack(
        search_box(ApiKeysState.search, "名称或密钥编号", "keys-keyword"),
        rx.hstack(
            rx.switch(checked=ApiKeysState.active_only, on_change=ApiKeysState.set_active_only),
            rx.text("只看有效密钥", size="2"),
            align="center",
        ),
        rx.spacer(),
        create_button(ApiKeysState.can_write, "新建密钥", ApiKeysState.open_create, "keys-create"),
        width="100%",
        align="center",
    )
    body = rx.vstack(
        page_heading(SECTION.label, SECTION.summary),
        toolbar,
        error_callout(ApiKeysState.error),
        list_table(
            ApiKeysState,
            COLUMNS,
            _row,
            size="1",
            empty=(
                "还没有接入密钥",
                "点击「新建密钥」，为登记系统或机构生成调用本平台接口的密钥。",
            ),
        ),
        _create_dialog(),
        _shown_dialog(),
        _rotate_dialog(),
        confirm_dialog(
            title="吊销密钥",
            description=[
                "确定吊销「",
                ApiKeysState.delete_name,
                "」的密钥？接入方的下一次调用即被拒绝（401），此操作不可撤销。",
            ],
            open_=ApiKeysState.delete_open,
            on_open_change=ApiKeysState.set_delete_open,
            on_confirm=ApiKeysState.delete,
            confirm_label="吊销",
            testid="key-revoke-confirm",
        ),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
