"""组织机构 page: one tree per tenant."""

from __future__ import annotations

import reflex as rx

from console.iam.org_state import KIND_OPTIONS, OrgsState, OrgView
from console.ui.components import create_button, error_callout, labelled, list_table, page_heading
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import (
    action_button,
    delete_button,
    delete_confirm,
    dropdown,
    field,
    filter_select,
    form_dialog,
    list_body,
    row_button,
    submit_button,
    table_row,
    toolbar,
)

SECTION = section_by_key("organizations")
COLUMNS = ("机构名称", "类别", "统一社会信用代码", "所属租户", "人员数", "操作")
TENANT_FIELDS = ("code", "name")


def _row(org: OrgView) -> rx.Component:
    actions = rx.hstack(
        rx.cond(
            OrgsState.can_write,
            rx.hstack(
                row_button("下级", OrgsState.open_create(org.id, org.tenant_code)),
                row_button("编辑", OrgsState.open_edit(org.id)),
            ),
        ),
        delete_button(
            OrgsState.ask_delete(org.id.to_string(), org.name), allowed=OrgsState.can_delete
        ),
    )
    return table_row(
        rx.text(org.indent, org.name),
        rx.badge(org.kind_label, variant="soft"),
        rx.cond(org.uscc != "", rx.code(org.uscc), "—"),
        org.tenant_name,
        org.members,
        actions,
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
    return form_dialog(
        OrgsState,
        "edit",
        rx.cond(creating, "新增机构", "编辑机构"),
        rx.cond(
            creating,
            labelled(
                "所属租户",
                dropdown(
                    OrgsState.tenant_options,
                    fields=TENANT_FIELDS,
                    width="100%",
                    value=OrgsState.edit_tenant,
                    on_change=OrgsState.set_edit_tenant,
                ),
            ),
        ),
        field("机构名称", "name", default_value=OrgsState.edit_name, data_testid="org-name"),
        labelled(
            "机构类别",
            dropdown(
                KIND_OPTIONS,
                width="100%",
                testid="org-kind",
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
        field(
            "统一社会信用代码（选填）",
            "uscc",
            default_value=OrgsState.edit_uscc,
            max_length=18,
            on_blur=OrgsState.check_uscc,
            data_testid="org-uscc",
            error=OrgsState.uscc_error,
        ),
        error_callout(OrgsState.form_error, testid="org-error"),
        on_submit=OrgsState.save,
        submit=submit_button("保存", "org-save"),
    )


def orgs_page() -> rx.Component:
    """The page."""
    actions = toolbar(
        filter_select(
            OrgsState,
            "tenant_filter",
            OrgsState.tenant_options,
            fields=TENANT_FIELDS,
            all_label="全部租户",
        ),
        end=[
            action_button(
                "导出",
                OrgsState.export,
                allowed=OrgsState.can_export,
                icon="download",
                testid="orgs-export",
            ),
            create_button(
                OrgsState.can_write, "新增机构", OrgsState.open_create(0, ""), "orgs-create"
            ),
        ],
    )
    table = list_table(
        OrgsState,
        COLUMNS,
        _row,
        empty=("还没有机构", "点击「新增机构」建立登记机构、共享部门、银行等。"),
        paged=False,
    )
    body = list_body(
        page_heading(SECTION.label, "每个租户一棵机构树：登记机构、共享部门、银行、开发企业等"),
        actions,
        OrgsState,
        table,
        _editor(),
        delete_confirm(OrgsState, "删除机构", "确定删除「", "」？有下级机构或人员的机构不能删除。"),
    )
    return shell(body, title=SECTION.label, section=SECTION)
