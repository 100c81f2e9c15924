"""接入密钥 page: keys of the registration systems and institutions calling this console."""

from __future__ import annotations

import reflex as rx

from console.interfaces.key_service import KNOWN_SCOPES
from console.interfaces.key_state import ApiKeysState, KeyView
from console.ui.components import (
    create_button,
    error_callout,
    labelled,
    list_table,
    page_heading,
    search_box,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import (
    delete_button,
    delete_confirm,
    dialog,
    dropdown,
    field,
    flag_badge,
    form_dialog,
    list_body,
    row_button,
    secret_notice,
    submit_button,
    table_row,
    toolbar,
)

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
            row_button(
                "轮换", ApiKeysState.ask_rotate(key.key_id), testid=f"key-rotate-{key.key_id}"
            ),
            delete_button(
                ApiKeysState.ask_delete(key.key_id, key.name),
                label="吊销",
                testid=f"key-revoke-{key.key_id}",
            ),
        ),
        rx.text("—", color_scheme="gray"),
    )
    return table_row(
        rx.code(key.key_id),
        key.name,
        key.tenant,
        key.bound_to,
        rx.text(key.scopes, size="1"),
        (key.rate_limit, "/分"),
        flag_badge(key.usable, key.status),
        key.last_used,
        rx.text(key.created, size="1"),
        actions,
        data_testid=f"key-row-{key.key_id}",
    )


def _scope_box(scope: str, label: str) -> rx.Component:
    return rx.checkbox(
        f"{label}（{scope}）",
        checked=ApiKeysState.chosen_scopes.contains(scope),
        on_change=lambda checked: ApiKeysState.toggle_scope(scope, checked),
        data_testid=f"key-scope-{scope}",
    )


def _create_dialog() -> rx.Component:
    return form_dialog(
        ApiKeysState,
        "create",
        "新建接入密钥",
        field("名称（接入系统或机构）", "name", data_testid="key-name"),
        labelled(
            "租户",
            dropdown(
                ApiKeysState.tenants,
                width="100%",
                value=ApiKeysState.chosen_tenant,
                on_change=ApiKeysState.choose_tenant,
            ),
        ),
        labelled(
            "机构（可选；已开通通道的机构，其密钥受通道状态约束）",
            dropdown(ApiKeysState.orgs, placeholder="不绑定机构", width="100%", name="org_id"),
        ),
        rx.text("可调用的范围", size="2", weight="medium"),
        rx.vstack(*[_scope_box(s, label) for s, label in KNOWN_SCOPES.items()], spacing="1"),
        field("限流（次/分钟）", "rate_limit", default_value="600", type="number", width="160px"),
        error_callout(ApiKeysState.create_error, testid="key-error"),
        on_submit=ApiKeysState.create,
        submit=submit_button("创建", "key-create-submit"),
        max_width="560px",
    )


def _shown_dialog() -> rx.Component:
    return dialog(
        ApiKeysState,
        "shown",
        "密钥只显示这一次",
        secret_notice(
            "请立即复制并通过安全渠道交给接入方；平台只保存它的 SM3 摘要，关闭后无法再次查看。"
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
        on_open_change=ApiKeysState.set_shown_open,
    )


def _rotate_dialog() -> rx.Component:
    return form_dialog(
        ApiKeysState,
        "rotate",
        ("轮换密钥 ", ApiKeysState.rotate_key_id),
        rx.text(
            "将生成新密钥，绑定不变；旧密钥在宽限期内仍可使用，到期后拒绝。留空使用系统默认宽限期。",
            size="2",
        ),
        field("宽限期（小时，0–720）", "grace_hours", type="number", width="160px"),
        error_callout(ApiKeysState.rotate_error, testid="rotate-error"),
        on_submit=ApiKeysState.rotate,
        submit=submit_button("轮换", "key-rotate-submit"),
        max_width="480px",
    )


def api_keys_page() -> rx.Component:
    """The page."""
    filters = toolbar(
        search_box(ApiKeysState.search, "名称或密钥编号", "keys-keyword"),
        rx.hstack(
            rx.switch(checked=ApiKeysState.active_only, on_change=ApiKeysState.set_active_only),
            rx.text("只看有效密钥", size="2"),
            align="center",
        ),
        end=[
            create_button(
                ApiKeysState.can_write, "新建密钥", ApiKeysState.open_create, "keys-create"
            )
        ],
    )
    body = list_body(
        page_heading(SECTION.label, SECTION.summary),
        filters,
        ApiKeysState,
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
        delete_confirm(
            ApiKeysState,
            "吊销密钥",
            "确定吊销「",
            "」的密钥？接入方的下一次调用即被拒绝（401），此操作不可撤销。",
            label="吊销",
            testid="key-revoke-confirm",
        ),
    )
    return shell(body, title=SECTION.label, section=SECTION)
