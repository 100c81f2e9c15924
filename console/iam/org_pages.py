"""组织机构 page: one tree per tenant."""

from __future__ import annotations

import reflex as rx

from console.iam.org_state import KIND_OPTIONS, OrgsState, OrgView
from console.ui.components import (
    confirm_dialog,
    create_button,
    error_callout,
    form_footer,
    labelled,
    list_table,
    page_heading,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("organizations")
COLUMNS = ("机构名称", "类别", "统一社会信用代码", "所属租户", "人员数", "操作")


def _row(org: OrgView) -> rx.Component:
    actions = rx.hstack(
        rx.cond(
            OrgsState.can_write,
            rx.hstack(
                rx.button(
                    "下级",
                    size="1",
                    variant="soft",
                    on_click=OrgsState.open_create(org.id, org.tenant_code),
                ),
                rx.button("编辑", size="1", variant="soft", on_click=OrgsState.open_edit(org.id)),
            ),
        ),
        rx.cond(
            OrgsState.can_delete,
            rx.button(
                "删除",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=OrgsState.ask_delete(org.id.to_string(), org.name),
            ),
        ),
    )
    return rx.table.row(
        rx.table.cell(rx.text(org.indent, org.name)),
        rx.table.cell(rx.badge(org.kind_label, variant="soft")),
        rx.table.cell(rx.cond(org.uscc != "", rx.code(org.uscc), "—")),
        rx.table.cell(org.tenant_name),
        rx.table.cell(org.members),
        rx.table.cell(actions),
        data_testid=f"org-row-{org.name}",
    )


def _parent_items() -> rx.Component:
    return rx.foreach(
        OrgsState.rows,
        lambda org: rx.cond(
            (org.tenant_code == OrgsState.edit_tenant) & (org.id != OrgsState.edit_id),
            rx.select.item(org.indent + org.name, value=org.id.to_string()),
        ),
    )


def _editor() -> rx.Component:
    creating = OrgsState.edit_id == 0
    form = rx.form(
        rx.vstack(
            rx.cond(
                creating,
                labelled(
                    "所属租户",
                    rx.select.root(
                        rx.select.trigger(width="100%"),
                        rx.select.content(
                            rx.foreach(
                                OrgsState.tenant_options,
                                lambda t: rx.select.item(t.name, value=t.code),
                            )
                        ),
                        value=OrgsState.edit_tenant,
                        on_change=OrgsState.set_edit_tenant,
                    ),
                ),
            ),
            labelled(
                "机构名称",
                rx.input(
                    name="name",
                    default_value=OrgsState.edit_name,
                    width="100%",
                    data_testid="org-name",
                ),
            ),
            labelled(
                "机构类别",
                rx.select.root(
                    rx.select.trigger(width="100%", data_testid="org-kind"),
                    rx.select.content(
                        *[rx.select.item(label, value=k) for k, label in KIND_OPTIONS]
                    ),
                    value=OrgsState.edit_kind,
                    on_change=OrgsState.set_edit_kind,
                ),
            ),
            labelled(
                "上级机构",
                rx.select.root(
                    rx.select.trigger(width="100%"),
                    rx.select.content(
                        rx.select.item("（无，作为顶级机构）", value="none"), _parent_items()
                    ),
                    value=OrgsState.edit_parent,
                    on_change=OrgsState.set_edit_parent,
                ),
            ),
            labelled(
                "统一社会信用代码（选填）",
                rx.input(
                    name="uscc",
                    default_value=OrgsState.edit_uscc,
                    width="100%",
                    max_length=18,
                    on_blur=OrgsState.check_uscc,
                    data_testid="org-uscc",
                ),
                OrgsState.uscc_error,
            ),
            error_callout(OrgsState.form_error, testid="org-error"),
            form_footer(rx.button("保存", type="submit", data_testid="org-save")),
            spacing="3",
        ),
        on_submit=OrgsState.save,
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(creating, "新增机构", "编辑机构")), form, max_width="520px"
        ),
        open=OrgsState.edit_open,
        on_open_change=OrgsState.set_edit_open,
    )


def _delete_dialog() -> rx.Component:
    return confirm_dialog(
        title="删除机构",
        description=["确定删除「", OrgsState.delete_name, "」？有下级机构或人员的机构不能删除。"],
        open_=OrgsState.delete_open,
        on_open_change=OrgsState.set_delete_open,
        on_confirm=OrgsState.delete,
        confirm_label="删除",
    )


def orgs_page() -> rx.Component:
    """The page."""
    toolbar = rx.hstack(
        rx.select.root(
            rx.select.trigger(),
            rx.select.content(
                rx.select.item("全部租户", value="*"),
                rx.foreach(
                    OrgsState.tenant_options, lambda t: rx.select.item(t.name, value=t.code)
                ),
            ),
            value=OrgsState.tenant_filter,
            on_change=OrgsState.set_tenant_filter,
        ),
        rx.spacer(),
        rx.cond(
            OrgsState.can_export,
            rx.button(
                rx.icon("download", size=14),
                "导出",
                variant="soft",
                on_click=OrgsState.export,
                data_testid="orgs-export",
            ),
        ),
        create_button(OrgsState.can_write, "新增机构", OrgsState.open_create(0, ""), "orgs-create"),
        width="100%",
    )
    table = list_table(
        OrgsState,
        COLUMNS,
        _row,
        empty=("还没有机构", "点击「新增机构」建立登记机构、共享部门、银行等。"),
        paged=False,
    )
    body = rx.vstack(
        page_heading(SECTION.label, "每个租户一棵机构树：登记机构、共享部门、银行、开发企业等"),
        toolbar,
        error_callout(OrgsState.error),
        table,
        _editor(),
        _delete_dialog(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
