"""租户管理 page."""

from __future__ import annotations

import reflex as rx

from console.iam.tenant_state import TenantsState, TenantView
from console.ui.components import (
    create_button,
    error_callout,
    form_footer,
    labelled,
    list_table,
    page_heading,
    search_box,
    status_badge,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("tenants")
COLUMNS = ("租户代码", "名称", "层级", "状态", "联系人", "联系电话", "用户数", "更新时间", "操作")
STATUS_FILTERS = (("*", "全部状态"), ("active", "启用"), ("suspended", "停用"))


def _toolbar() -> rx.Component:
    return rx.hstack(
        search_box(TenantsState.search, "租户代码或名称", "tenants-keyword"),
        rx.select.root(
            rx.select.trigger(),
            rx.select.content(*[rx.select.item(label, value=v) for v, label in STATUS_FILTERS]),
            value=TenantsState.status_filter,
            on_change=TenantsState.set_status_filter,
        ),
        rx.spacer(),
        create_button(
            TenantsState.can_write, "新增租户", TenantsState.open_create, "tenants-create"
        ),
        width="100%",
        align="center",
    )


def _row(tenant: TenantView) -> rx.Component:
    suspended = tenant.status == "suspended"
    actions = rx.cond(
        TenantsState.can_write & (tenant.level == "county"),
        rx.hstack(
            rx.button(
                "编辑",
                size="1",
                variant="soft",
                on_click=TenantsState.open_edit(tenant.code, tenant.name),
            ),
            rx.button(
                rx.cond(suspended, "启用", "停用"),
                size="1",
                variant="soft",
                color_scheme=rx.cond(suspended, "green", "red"),
                on_click=TenantsState.ask_status(tenant.code, tenant.name, ~suspended),
                data_testid=f"tenant-status-{tenant.code}",
            ),
        ),
        rx.text("—", color_scheme="gray"),
    )
    return rx.table.row(
        rx.table.cell(rx.code(tenant.code)),
        rx.table.cell(tenant.name),
        rx.table.cell(rx.cond(tenant.level == "province", "省级", "区县")),
        rx.table.cell(status_badge(tenant.status_label, tenant.status)),
        rx.table.cell(tenant.contact_name),
        rx.table.cell(tenant.contact_phone),
        rx.table.cell(tenant.users),
        rx.table.cell(tenant.updated_at),
        rx.table.cell(actions),
        data_testid=f"tenant-row-{tenant.code}",
    )


def _table() -> rx.Component:
    return list_table(
        TenantsState,
        COLUMNS,
        _row,
        empty=("没有符合条件的租户", "调整查询条件，或点击「新增租户」建立区县租户。"),
    )


def _field_error(field: str) -> rx.Var:
    return rx.cond(TenantsState.form_field == field, TenantsState.form_error, "")


def _edit_dialog() -> rx.Component:
    creating = TenantsState.editing_code == ""
    form = rx.form(
        rx.vstack(
            rx.cond(
                creating,
                labelled(
                    "租户代码（6位区县行政区划代码）",
                    rx.input(
                        name="code",
                        placeholder="如 330106",
                        width="100%",
                        max_length=6,
                        data_testid="tenant-code",
                    ),
                    _field_error("租户代码"),
                ),
            ),
            labelled(
                "租户名称",
                rx.input(
                    name="name",
                    default_value=TenantsState.edit_name,
                    width="100%",
                    data_testid="tenant-name",
                ),
                _field_error("租户名称"),
            ),
            labelled(
                "联系人", rx.input(name="contact_name", width="100%", placeholder="保存后脱敏显示")
            ),
            labelled(
                "联系电话", rx.input(name="contact_phone", width="100%"), _field_error("联系电话")
            ),
            error_callout(rx.cond(TenantsState.form_field == "", TenantsState.form_error, "")),
            form_footer(rx.button("保存", type="submit", data_testid="tenant-save")),
            spacing="3",
        ),
        on_submit=TenantsState.save,
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(creating, "新增租户", "编辑租户 ")),
            form,
            max_width="480px",
        ),
        open=TenantsState.edit_open,
        on_open_change=TenantsState.set_edit_open,
    )


def _status_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(rx.cond(TenantsState.status_suspend, "停用租户", "启用租户")),
            rx.alert_dialog.description(
                rx.cond(
                    TenantsState.status_suspend,
                    "停用后，该租户的所有用户将在下一次操作时被拒绝并退出登录。",
                    "启用后，该租户的用户可以重新登录。",
                )
            ),
            rx.text(
                TenantsState.status_name,
                "（",
                TenantsState.status_code,
                "）",
                weight="bold",
                margin_y="8px",
            ),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="reason",
                        placeholder="原因（必填，记入操作日志）",
                        width="100%",
                        data_testid="tenant-status-reason",
                    ),
                    error_callout(TenantsState.status_error),
                    rx.hstack(
                        rx.alert_dialog.cancel(rx.button("取消", variant="soft", type="button")),
                        rx.button(
                            "确定",
                            type="submit",
                            color_scheme="red",
                            data_testid="tenant-status-ok",
                        ),
                        justify="end",
                        width="100%",
                    ),
                ),
                on_submit=TenantsState.apply_status,
            ),
        ),
        open=TenantsState.status_open,
        on_open_change=TenantsState.set_status_open,
    )


def tenants_page() -> rx.Component:
    """The page."""
    body = rx.vstack(
        page_heading(SECTION.label, "每个区县一个租户，数据相互隔离；省级为最高范围"),
        _toolbar(),
        error_callout(TenantsState.error),
        _table(),
        _edit_dialog(),
        _status_dialog(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
