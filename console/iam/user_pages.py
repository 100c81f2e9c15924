"""用户管理 page: searchable, filterable, paged list with masked personal data and dialogs."""

from __future__ import annotations

import reflex as rx

from console.core.exporting import XLSX_MIME
from console.iam.user_state import (
    ID_TYPE_OPTIONS,
    REVEAL_OPTIONS,
    RoleChoice,
    SyncLine,
    UsersState,
    UserView,
    VerdictView,
)
from console.ui.components import (
    close_footer,
    confirm_dialog,
    error_callout,
    file_picker,
    form_footer,
    labelled,
    list_table,
    page_heading,
    scroll_table,
    status_badge,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("users")
SYNC_UPLOAD = "user_sync_upload"
STATUS_FILTERS = (("*", "全部状态"), ("active", "正常"), ("locked", "锁定"), ("disabled", "停用"))
COLUMNS = (
    "",
    "账号",
    "姓名",
    "证件号码",
    "手机号",
    "所属租户",
    "机构",
    "角色",
    "状态",
    "最近登录",
    "操作",
)


def _toolbar() -> rx.Component:
    tenant_items = rx.foreach(
        UsersState.tenant_options, lambda t: rx.select.item(t.name, value=t.code)
    )
    return rx.hstack(
        rx.form(
            rx.hstack(
                rx.input(
                    name="keyword",
                    placeholder="账号，或完整的姓名/证件号码/手机号",
                    width="300px",
                    data_testid="users-keyword",
                ),
                rx.button(rx.icon("search", size=14), "查询", type="submit", variant="soft"),
            ),
            on_submit=UsersState.search,
        ),
        rx.select.root(
            rx.select.trigger(placeholder="全部租户", data_testid="users-tenant-filter"),
            rx.select.content(rx.select.item("全部租户", value="*"), tenant_items),
            value=UsersState.tenant_filter,
            on_change=UsersState.set_tenant_filter,
        ),
        rx.select.root(
            rx.select.trigger(data_testid="users-status-filter"),
            rx.select.content(
                *[rx.select.item(label, value=value) for value, label in STATUS_FILTERS]
            ),
            value=UsersState.status_filter,
            on_change=UsersState.set_status_filter,
        ),
        rx.spacer(),
        rx.cond(
            UsersState.can_write,
            rx.button(
                rx.icon("refresh-cw", size=14),
                "一体化平台同步",
                variant="soft",
                on_click=UsersState.set_sync_open(True),
                data_testid="users-sync",
            ),
        ),
        rx.cond(
            UsersState.can_write & (UsersState.selected_ids.length() > 0),
            rx.hstack(
                rx.text("已选 ", UsersState.selected_ids.length(), " 个", size="2"),
                rx.button(
                    "批量启用",
                    size="2",
                    variant="soft",
                    color_scheme="green",
                    on_click=UsersState.ask_bulk(True),
                    data_testid="bulk-enable",
                ),
                rx.button(
                    "批量停用",
                    size="2",
                    variant="soft",
                    color_scheme="red",
                    on_click=UsersState.ask_bulk(False),
                    data_testid="bulk-disable",
                ),
                align="center",
            ),
        ),
        rx.cond(
            UsersState.can_export,
            rx.button(
                rx.icon("download", size=14),
                "导出",
                variant="soft",
                loading=UsersState.exporting,
                on_click=UsersState.export,
                data_testid="users-export",
            ),
        ),
        rx.cond(
            UsersState.can_write,
            rx.button(
                rx.icon("user-plus", size=14),
                "新增用户",
                on_click=UsersState.open_create,
                data_testid="users-create",
            ),
        ),
        width="100%",
        align="center",
        wrap="wrap",
    )


def _actions(user: UserView) -> rx.Component:
    enable = user.status == "disabled"
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                "操作",
                rx.icon("chevron-down", size=12),
                size="1",
                variant="soft",
                data_testid=f"user-actions-{user.account}",
            )
        ),
        rx.menu.content(
            rx.cond(
                UsersState.can_write,
                rx.menu.item(
                    "编辑", on_click=UsersState.open_edit(user.id), data_testid="action-edit"
                ),
            ),
            rx.cond(
                UsersState.can_write,
                rx.menu.item(
                    rx.cond(enable, "启用", "停用"),
                    on_click=UsersState.ask_status(user.id, user.account, enable),
                ),
            ),
            rx.cond(
                UsersState.can_grant,
                rx.menu.item(
                    "分配角色",
                    on_click=UsersState.open_roles(user.id, user.account),
                    data_testid="action-roles",
                ),
            ),
            rx.cond(
                UsersState.can_unlock,
                rx.menu.item(
                    "解锁并重置密码", on_click=UsersState.reset_password(user.id, user.account)
                ),
            ),
            rx.cond(
                UsersState.can_explain,
                rx.menu.item(
                    "有效权限",
                    on_click=UsersState.explain(user.id, user.account),
                    data_testid="action-explain",
                ),
            ),
            rx.cond(
                UsersState.can_unmask,
                rx.menu.item(
                    "查看明文信息", on_click=UsersState.open_reveal(user.id, user.account)
                ),
            ),
        ),
    )


def _row(user: UserView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=UsersState.selected_ids.contains(user.id),
                on_change=lambda checked: UsersState.toggle_selected(user.id, checked),
                data_testid=f"select-{user.account}",
            )
        ),
        rx.table.cell(user.account),
        rx.table.cell(user.real_name),
        rx.table.cell(user.id_number),
        rx.table.cell(user.phone),
        rx.table.cell(user.tenant_name),
        rx.table.cell(user.org_name),
        rx.table.cell(user.roles),
        rx.table.cell(status_badge(user.status_label, user.status)),
        rx.table.cell(user.last_login),
        rx.table.cell(_actions(user)),
        data_testid=f"user-row-{user.account}",
    )


def _table() -> rx.Component:
    return list_table(
        UsersState,
        COLUMNS,
        _row,
        empty=("没有符合条件的用户", "调整查询条件，或点击「新增用户」创建账号。"),
    )


def _field(name: str, label: str, **props) -> rx.Component:
    return labelled(
        label,
        rx.input(
            name=name,
            width="100%",
            on_blur=lambda v: UsersState.check_field(name, v),
            data_testid=f"new-{name}",
            **props,
        ),
        UsersState.form_errors.get(name, ""),
    )


def _create_form() -> rx.Component:
    tenant_items = rx.foreach(
        UsersState.tenant_options, lambda t: rx.select.item(t.name, value=t.code)
    )
    return rx.form(
        rx.vstack(
            _field("account", "账号", placeholder="如 zhangsan01"),
            _field("real_name", "姓名"),
            labelled(
                "所属租户",
                rx.select.root(
                    rx.select.trigger(
                        placeholder="请选择租户", width="100%", data_testid="new-tenant"
                    ),
                    rx.select.content(tenant_items),
                    value=UsersState.new_tenant,
                    on_change=UsersState.set_new_tenant,
                ),
            ),
            labelled("所属机构", _org_select(name="org_id", default="none")),
            labelled(
                "证件种类",
                rx.select.root(
                    rx.select.trigger(width="100%"),
                    rx.select.content(
                        *[rx.select.item(label, value=code) for code, label in ID_TYPE_OPTIONS]
                    ),
                    name="id_type",
                    default_value="1",
                ),
            ),
            _field("id_number", "证件号码", placeholder="居民身份证将校验第18位"),
            _field("phone", "手机号"),
            _field("post", "岗位"),
            error_callout(UsersState.create_error, testid="create-error"),
            form_footer(rx.button("创建", type="submit", data_testid="new-submit")),
            spacing="3",
        ),
        on_submit=UsersState.create,
    )


def _org_select(**props) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%", data_testid="org-select"),
        rx.select.content(
            rx.select.item("（不指定）", value="none"),
            rx.foreach(UsersState.org_options, lambda o: rx.select.item(o.name, value=o.id)),
        ),
        **(
            {"name": props["name"], "default_value": props["default"]}
            if "name" in props
            else {"value": UsersState.edit_org, "on_change": UsersState.set_edit_org}
        ),
    )


def _edit_dialog() -> rx.Component:
    form = rx.form(
        rx.vstack(
            rx.text("个人信息以脱敏形式显示；留空表示不修改。", size="2", color_scheme="gray"),
            labelled(
                "姓名",
                rx.input(
                    name="real_name",
                    placeholder=UsersState.edit_masked_name,
                    width="100%",
                    data_testid="edit-real_name",
                ),
            ),
            labelled(
                "证件号码",
                rx.input(name="id_number", placeholder=UsersState.edit_masked_id, width="100%"),
            ),
            labelled(
                "手机号",
                rx.input(
                    name="phone",
                    placeholder=UsersState.edit_masked_phone,
                    width="100%",
                    data_testid="edit-phone",
                ),
            ),
            labelled("所属机构", _org_select()),
            labelled(
                "岗位", rx.input(name="post", default_value=UsersState.edit_post, width="100%")
            ),
            rx.hstack(
                rx.switch(checked=UsersState.edit_multi, on_change=UsersState.set_edit_multi),
                rx.text("允许同时多处登录", size="2"),
            ),
            error_callout(UsersState.edit_error, testid="edit-error"),
            form_footer(rx.button("保存", type="submit", data_testid="edit-save")),
            spacing="3",
        ),
        on_submit=UsersState.save_edit,
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("编辑用户：", UsersState.edit_account), form, max_width="520px"
        ),
        open=UsersState.edit_open,
        on_open_change=UsersState.set_edit_open,
    )


def _bulk_dialog() -> rx.Component:
    return confirm_dialog(
        title=rx.cond(UsersState.bulk_enable, "批量启用", "批量停用"),
        description=[
            "确定",
            rx.cond(UsersState.bulk_enable, "启用", "停用"),
            "已勾选的 ",
            UsersState.selected_ids.length(),
            " 个账号？任何一个不在您的数据范围内时，全部不做修改。",
        ],
        open_=UsersState.bulk_open,
        on_open_change=UsersState.set_bulk_open,
        on_confirm=UsersState.confirm_bulk,
        testid="bulk-ok",
    )


def _one_time_password() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "请把一次性密码当面或经安全渠道告知用户；关闭本窗口后将无法再次查看。",
            icon="key-round",
            color_scheme="amber",
        ),
        rx.text("账号：", rx.code(UsersState.one_time_account)),
        rx.text(
            "一次性密码：", rx.code(UsersState.one_time_password, data_testid="one-time-password")
        ),
        rx.hstack(
            rx.dialog.close(rx.button("我已记下", data_testid="otp-done")),
            justify="end",
            width="100%",
        ),
        spacing="3",
    )


def _create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(UsersState.one_time_password != "", "账号已就绪", "新增用户")),
            rx.cond(UsersState.one_time_password != "", _one_time_password(), _create_form()),
            max_width="520px",
        ),
        open=UsersState.create_open,
        on_open_change=UsersState.set_create_open,
    )


def _confirm_dialog() -> rx.Component:
    return confirm_dialog(
        title=rx.cond(UsersState.confirm_enable, "启用账号", "停用账号"),
        description=[
            rx.cond(
                UsersState.confirm_enable,
                "确定启用账号 ",
                "停用后该账号的会话将在下一次操作时结束。确定停用账号 ",
            ),
            UsersState.confirm_account,
            "？",
        ],
        open_=UsersState.confirm_open,
        on_open_change=UsersState.set_confirm_open,
        on_confirm=UsersState.confirm_status,
    )


def _role_item(role: RoleChoice) -> rx.Component:
    return rx.checkbox(
        rx.text(role.name, " ", rx.text.span("（", role.category, "）", color_scheme="gray")),
        checked=UsersState.selected_roles.contains(role.code),
        on_change=lambda checked: UsersState.toggle_role(role.code, checked),
        data_testid=f"role-{role.code}",
    )


def _role_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("分配角色：", UsersState.role_account),
            rx.text(
                "三员（系统/安全/审计管理员）不能由同一用户兼任。", size="2", color_scheme="gray"
            ),
            rx.grid(
                rx.foreach(UsersState.role_choices, _role_item),
                columns="2",
                spacing="2",
                margin_y="12px",
            ),
            rx.hstack(
                rx.dialog.close(rx.button("取消", variant="soft")),
                rx.button("保存", on_click=UsersState.save_roles, data_testid="roles-save"),
                justify="end",
                spacing="3",
            ),
            max_width="560px",
        ),
        open=UsersState.role_open,
        on_open_change=UsersState.set_role_open,
    )


def _sync_line(line: SyncLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(line.line), rx.table.cell(line.account), rx.table.cell(line.reason)
    )


def _sync_dialog() -> rx.Component:
    picker = file_picker(
        SYNC_UPLOAD,
        "拖入或点击选择 CSV / XLSX / JSON 文件",
        {"text/csv": [".csv"], XLSX_MIME: [".xlsx"], "application/json": [".json"]},
        "sync-file",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("一体化平台用户同步"),
            rx.text(
                "按账号新增、更新或停用用户；逐条校验，有问题的记录单独列出，其余照常保存；"
                "不会改动本地分配的角色。列：account, real_name, tenant_code, id_type, "
                "id_number, phone, org_uscc, post, status（active/disabled）。",
                size="2",
                color_scheme="gray",
            ),
            picker,
            rx.hstack(
                rx.cond(UsersState.sync_running, rx.spinner()),
                rx.text(UsersState.sync_summary, size="2", data_testid="sync-summary"),
                rx.spacer(),
                rx.dialog.close(rx.button("关闭", variant="soft")),
                rx.button(
                    "开始同步",
                    loading=UsersState.sync_running,
                    on_click=UsersState.upload_sync(rx.upload_files(upload_id=SYNC_UPLOAD)),
                    data_testid="sync-start",
                ),
                width="100%",
                align="center",
                margin_y="12px",
            ),
            rx.cond(
                UsersState.sync_rejected.length() > 0,
                scroll_table(
                    ("行", "账号", "原因"),
                    UsersState.sync_rejected,
                    _sync_line,
                    testid="sync-rejected",
                ),
            ),
            max_width="720px",
        ),
        open=UsersState.sync_open,
        on_open_change=UsersState.set_sync_open,
    )


def _verdict_row(verdict: VerdictView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(verdict.label),
        rx.table.cell(
            rx.cond(
                verdict.allowed,
                rx.badge("可以", color_scheme="green"),
                rx.badge("不可以", color_scheme="gray"),
            )
        ),
        rx.table.cell(rx.text(verdict.via, size="1", color_scheme="gray")),
    )


def _explain_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("有效权限：", UsersState.explain_account),
            rx.scroll_area(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("权限"),
                            rx.table.column_header_cell("结论"),
                            rx.table.column_header_cell("由哪些角色授予"),
                        )
                    ),
                    rx.table.body(rx.foreach(UsersState.verdicts, _verdict_row)),
                    size="1",
                    data_testid="verdicts",
                ),
                max_height="60vh",
                type="auto",
            ),
            close_footer(),
            max_width="680px",
        ),
        open=UsersState.explain_open,
        on_open_change=UsersState.set_explain_open,
    )


def _reveal_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("查看明文信息：", UsersState.reveal_account),
            rx.form(
                rx.vstack(
                    rx.select.root(
                        rx.select.trigger(width="100%"),
                        rx.select.content(
                            *[rx.select.item(label, value=key) for key, label in REVEAL_OPTIONS]
                        ),
                        value=UsersState.reveal_field,
                        on_change=UsersState.set_reveal_field,
                    ),
                    rx.input(
                        name="reason",
                        placeholder="查看原因（必填，将记入操作日志）",
                        width="100%",
                        data_testid="reveal-reason",
                    ),
                    error_callout(UsersState.reveal_error, testid="reveal-error"),
                    rx.cond(
                        UsersState.reveal_value != "",
                        rx.code(UsersState.reveal_value, size="4", data_testid="reveal-value"),
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("关闭", variant="soft", type="button")),
                        rx.button("查看", type="submit", data_testid="reveal-submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=UsersState.reveal,
            ),
            max_width="480px",
        ),
        open=UsersState.reveal_open,
        on_open_change=UsersState.set_reveal_open,
    )


def users_page() -> rx.Component:
    """The page."""
    body = rx.vstack(
        page_heading(SECTION.label, "账号、所属租户与机构、角色；个人信息默认脱敏显示"),
        _toolbar(),
        error_callout(UsersState.error),
        _table(),
        _create_dialog(),
        _confirm_dialog(),
        _role_dialog(),
        _reveal_dialog(),
        _explain_dialog(),
        _sync_dialog(),
        _edit_dialog(),
        _bulk_dialog(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
