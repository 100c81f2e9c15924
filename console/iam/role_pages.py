"""角色权限 page: roles and the permission tree from the one catalogue."""

from __future__ import annotations

import reflex as rx

from console.iam.role_service import CATEGORIES
from console.iam.role_state import PERMISSION_TREE, PermissionGroup, RolesState, RoleView
from console.ui.components import (
    create_button,
    error_callout,
    form_footer,
    labelled,
    list_table,
    page_heading,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import (
    delete_button,
    delete_confirm,
    dialog,
    dropdown,
    list_body,
    row_button,
    submit_button,
    table_row,
)

SECTION = section_by_key("roles")
COLUMNS = ("角色代码", "名称", "类别", "范围", "说明", "权限数", "持有人数", "两步验证", "操作")
# The three administrators always sign in with a second factor: their switch stays on.
FIXED_SECOND_FACTOR = ("sys_admin", "sec_admin", "audit_admin")


def _row(role: RoleView) -> rx.Component:
    actions = rx.hstack(
        row_button(
            rx.cond(RolesState.can_write, "编辑权限", "查看权限"),
            RolesState.open_editor(role.code, role.name, "edit"),
            testid=f"role-edit-{role.code}",
        ),
        row_button(
            "复制",
            RolesState.open_editor(role.code, role.name, "copy"),
            allowed=RolesState.can_write,
        ),
        delete_button(
            RolesState.ask_delete(role.code, role.name),
            allowed=RolesState.can_delete & ~role.builtin,
        ),
    )
    return table_row(
        rx.code(role.code),
        rx.hstack(rx.text(role.name), rx.cond(role.builtin, rx.badge("内置", variant="outline"))),
        role.category,
        rx.cond(
            role.builtin, rx.cond(role.scope == "province", "全省", "各区县"), role.scope_label
        ),
        rx.text(role.description, size="1", color_scheme="gray"),
        role.permissions,
        role.holders,
        rx.switch(
            checked=role.second_factor,
            disabled=~RolesState.can_write
            | rx.Var.create(list(FIXED_SECOND_FACTOR)).contains(role.code),
            on_change=lambda required: RolesState.set_second_factor(role.code, required),
            data_testid=f"role-mfa-{role.code}",
        ),
        actions,
        data_testid=f"role-row-{role.code}",
    )


def _group(group: PermissionGroup) -> rx.Component:
    return rx.hstack(
        rx.text(group.label, width="120px", size="2", weight="medium"),
        rx.hstack(
            rx.foreach(
                group.cells,
                lambda cell: rx.checkbox(
                    cell.label,
                    checked=RolesState.selected.contains(cell.key),
                    on_change=lambda checked: RolesState.toggle(cell.key, checked),
                    disabled=~RolesState.can_write,
                    data_testid=f"perm-{cell.key}",
                ),
            ),
            wrap="wrap",
            spacing="3",
        ),
        align="start",
        width="100%",
        padding_y="4px",
        border_bottom="1px solid var(--gray-4)",
    )


def _tree() -> rx.Component:
    groups = []
    for heading in dict.fromkeys(g.group for g in PERMISSION_TREE):
        members = [g for g in PERMISSION_TREE if g.group == heading]
        groups.append(
            rx.box(
                rx.text(heading, size="1", color_scheme="gray", weight="bold"),
                *[_group(g) for g in members],
                width="100%",
            )
        )
    return rx.scroll_area(rx.vstack(*groups, spacing="3"), max_height="50vh", type="auto")


def _editor() -> rx.Component:
    new_role = RolesState.editor_mode != "edit"
    form = rx.form(
        rx.vstack(
            rx.cond(
                new_role,
                rx.hstack(
                    labelled(
                        "角色代码",
                        rx.input(
                            name="code",
                            placeholder="如 county_reviewer",
                            data_testid="role-new-code",
                        ),
                    ),
                    labelled(
                        "角色名称",
                        rx.input(
                            name="name",
                            default_value=RolesState.editor_name,
                            data_testid="role-new-name",
                        ),
                    ),
                    labelled(
                        "适用范围",
                        dropdown(
                            RolesState.tenant_options,
                            fields=("code", "name"),
                            first=("*", "全省"),
                            name="scope",
                            default_value="*",
                        ),
                    ),
                    labelled(
                        "类别",
                        dropdown(
                            [(c, c) for c in CATEGORIES], name="category", default_value="业务"
                        ),
                    ),
                    width="100%",
                ),
            ),
            _tree(),
            error_callout(RolesState.editor_error, testid="role-error"),
            form_footer(
                rx.cond(RolesState.can_write, submit_button("保存", "role-save")), cancel="关闭"
            ),
            spacing="3",
        ),
        on_submit=RolesState.save,
    )
    title = rx.cond(
        RolesState.editor_mode == "edit",
        rx.text("角色权限：", RolesState.editor_name),
        rx.cond(RolesState.editor_mode == "copy", rx.text("复制角色"), rx.text("新建角色")),
    )
    return dialog(RolesState, "editor", title, form, max_width="860px")


def roles_page() -> rx.Component:
    """The page."""
    table = list_table(
        RolesState,
        COLUMNS,
        _row,
        empty=("还没有角色", "运行 python -m console init 载入内置角色。"),
        paged=False,
    )
    body = list_body(
        page_heading(SECTION.label, "角色 × 权限目录（页面 × 操作）；三员职责不能合并到同一角色"),
        rx.hstack(
            rx.spacer(),
            create_button(RolesState.can_write, "新建角色", RolesState.open_create, "roles-create"),
        ),
        RolesState,
        table,
        _editor(),
        delete_confirm(
            RolesState, "删除角色", "确定删除角色「", "」？仍有用户持有的角色不能删除。"
        ),
    )
    return shell(body, title=SECTION.label, section=SECTION)
