"""角色权限 page: roles and the permission tree from the one catalogue."""

from __future__ import annotations

import reflex as rx

from console.iam.role_service import CATEGORIES
from console.iam.role_state import PERMISSION_TREE, PermissionGroup, RolesState, RoleView
from console.ui.components import (
    confirm_dialog,
    create_button,
    error_callout,
    labelled,
    list_table,
    page_heading,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("roles")
COLUMNS = ("角色代码", "名称", "类别", "范围", "说明", "权限数", "持有人数", "操作")


def _row(role: RoleView) -> rx.Component:
    actions = rx.hstack(
        rx.button(
            rx.cond(RolesState.can_write, "编辑权限", "查看权限"),
            size="1",
            variant="soft",
            on_click=RolesState.open_editor(role.code, role.name, "edit"),
            data_testid=f"role-edit-{role.code}",
        ),
        rx.cond(
            RolesState.can_write,
            rx.button(
                "复制",
                size="1",
                variant="soft",
                on_click=RolesState.open_editor(role.code, role.name, "copy"),
            ),
        ),
        rx.cond(
            RolesState.can_delete & ~role.builtin,
            rx.button(
                "删除",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=RolesState.ask_delete(role.code, role.name),
            ),
        ),
    )
    return rx.table.row(
        rx.table.cell(rx.code(role.code)),
        rx.table.cell(
            rx.hstack(
                rx.text(role.name), rx.cond(role.builtin, rx.badge("内置", variant="outline"))
            )
        ),
        rx.table.cell(role.category),
        rx.table.cell(
            rx.cond(
                role.builtin, rx.cond(role.scope == "province", "全省", "各区县"), role.scope_label
            )
        ),
        rx.table.cell(rx.text(role.description, size="1", color_scheme="gray")),
        rx.table.cell(role.permissions),
        rx.table.cell(role.holders),
        rx.table.cell(actions),
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
                        rx.select.root(
                            rx.select.trigger(),
                            rx.select.content(
                                rx.select.item("全省", value="*"),
                                rx.foreach(
                                    RolesState.tenant_options,
                                    lambda t: rx.select.item(t.name, value=t.code),
                                ),
                            ),
                            name="scope",
                            default_value="*",
                        ),
                    ),
                    labelled(
                        "类别",
                        rx.select.root(
                            rx.select.trigger(),
                            rx.select.content(*[rx.select.item(c, value=c) for c in CATEGORIES]),
                            name="category",
                            default_value="业务",
                        ),
                    ),
                    width="100%",
                ),
            ),
            _tree(),
            error_callout(RolesState.editor_error, testid="role-error"),
            rx.hstack(
                rx.dialog.close(rx.button("关闭", variant="soft", type="button")),
                rx.cond(
                    RolesState.can_write, rx.button("保存", type="submit", data_testid="role-save")
                ),
                justify="end",
                width="100%",
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
    return rx.dialog.root(
        rx.dialog.content(rx.dialog.title(title), form, max_width="860px"),
        open=RolesState.editor_open,
        on_open_change=RolesState.set_editor_open,
    )


def _delete_dialog() -> rx.Component:
    return confirm_dialog(
        title="删除角色",
        description=["确定删除角色「", RolesState.delete_name, "」？仍有用户持有的角色不能删除。"],
        open_=RolesState.delete_open,
        on_open_change=RolesState.set_delete_open,
        on_confirm=RolesState.delete,
        confirm_label="删除",
    )


def roles_page() -> rx.Component:
    """The page."""
    table = list_table(
        RolesState,
        COLUMNS,
        _row,
        empty=("还没有角色", "运行 python -m console init 载入内置角色。"),
        paged=False,
    )
    body = rx.vstack(
        page_heading(SECTION.label, "角色 × 权限目录（页面 × 操作）；三员职责不能合并到同一角色"),
        rx.hstack(
            rx.spacer(),
            create_button(RolesState.can_write, "新建角色", RolesState.open_create, "roles-create"),
        ),
        error_callout(RolesState.error),
        table,
        _editor(),
        _delete_dialog(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
