"""用户管理 page: searchable, filterable, paged list with masked personal data and dialogs."""

from __future__ import annotations

import reflex as rx

from console.core.exporting import XLSX_MIME
from console.iam.admin_reset_components import dialogs as reset_dialogs
from console.iam.admin_reset_components import waiting_requests
from console.iam.admin_reset_state import AdminResetState
from console.iam.models import USER_CATEGORIES
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
    search_box,
    status_badge,
)
from console.ui.navigation import section_by_key
from console.ui.session import session_port
from console.ui.shell import shell
from console.ui.widgets import (
    action_button,
    dialog,
    dropdown,
    field,
    filter_select,
    flag_badge,
    form_dialog,
    list_body,
    menu_action,
    secret_notice,
    submit_button,
    table_row,
    toolbar,
    upload_bar,
)

SECTION = section_by_key("users")
SYNC_UPLOAD = "user_sync_upload"
STATUS_FILTERS = (
    ("active", "正常"),
    ("locked", "锁定"),
    ("disabled", "停用"),
    ("inactive", "闲置停用"),
    ("exempt", "同步或仅令牌（不参与闲置停用）"),
)
TENANT_FIELDS = ("code", "name")
COLUMNS = (
    "",
    "账号",
    "类别",
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


def _bulk_actions() -> rx.Component:
    return rx.cond(
        (UsersState.can_write | UsersState.can_unlock) & (UsersState.selected_ids.length() > 0),
        rx.hstack(
            rx.text("已选 ", UsersState.selected_ids.length(), " 个", size="2"),
            action_button(
                "批量启用",
                UsersState.ask_bulk(True),
                size="2",
                color_scheme="green",
                testid="bulk-enable",
            ),
            action_button(
                "批量停用",
                UsersState.ask_bulk(False),
                size="2",
                color_scheme="red",
                testid="bulk-disable",
            ),
            align="center",
        ),
    )


def _toolbar() -> rx.Component:
    return toolbar(
        search_box(
            UsersState.search,
            "账号，或完整的姓名/证件号码/手机号",
            "users-keyword",
            width="300px",
        ),
        filter_select(
            UsersState,
            "tenant_filter",
            UsersState.tenant_options,
            fields=TENANT_FIELDS,
            all_label="全部租户",
            placeholder="全部租户",
            testid="users-tenant-filter",
        ),
        filter_select(
            UsersState,
            "category_filter",
            tuple(USER_CATEGORIES.items()),
            all_label="全部类别",
            testid="users-category-filter",
        ),
        filter_select(
            UsersState,
            "status_filter",
            STATUS_FILTERS,
            all_label="全部状态",
            testid="users-status-filter",
        ),
        end=[
            action_button(
                "一体化平台同步",
                UsersState.set_sync_open(True),
                allowed=UsersState.can_write,
                icon="refresh-cw",
                testid="users-sync",
            ),
            _bulk_actions(),
            action_button(
                "导出",
                UsersState.export,
                allowed=UsersState.can_export,
                icon="download",
                loading=UsersState.exporting,
                testid="users-export",
            ),
            action_button(
                "新增用户",
                UsersState.open_create,
                allowed=UsersState.can_write,
                icon="user-plus",
                variant=None,
                testid="users-create",
            ),
        ],
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
            *[
                menu_action(label, on_click, allowed=allowed, testid=testid)
                for label, on_click, allowed, testid in (
                    ("编辑", UsersState.open_edit(user.id), UsersState.can_write, "action-edit"),
                    (
                        rx.cond(enable, "启用", "停用"),
                        UsersState.ask_status(user.id, user.account, enable),
                        # Administrators' accounts: the security administrator's, not their own.
                        rx.cond(
                            user.administrator,
                            UsersState.can_unlock & (user.account != session_port().state.account),
                            UsersState.can_write,
                        ),
                        "action-status",
                    ),
                    (
                        "分配角色",
                        UsersState.open_roles(user.id, user.account),
                        UsersState.can_grant,
                        "action-roles",
                    ),
                    (
                        "解锁并重置密码",
                        UsersState.reset_password(user.id, user.account),
                        UsersState.can_unlock & ~user.administrator,
                        None,
                    ),
                    (
                        "申请重置密码（双人确认）",
                        AdminResetState.ask(user.id, user.account, "password"),
                        UsersState.can_unlock & user.administrator,
                        "action-reset-password",
                    ),
                    (
                        "申请重置动态验证码（双人确认）",
                        AdminResetState.ask(user.id, user.account, "second_factor"),
                        UsersState.can_unlock & user.administrator,
                        "action-reset-factor",
                    ),
                    (
                        "有效权限",
                        UsersState.explain(user.id, user.account),
                        UsersState.can_explain,
                        "action-explain",
                    ),
                    (
                        "查看明文信息",
                        UsersState.open_reveal(user.id, user.account),
                        UsersState.can_unmask,
                        None,
                    ),
                )
            ]
        ),
    )


def _row(user: UserView) -> rx.Component:
    return table_row(
        rx.checkbox(
            checked=UsersState.selected_ids.contains(user.id),
            on_change=lambda checked: UsersState.toggle_selected(user.id, checked),
            data_testid=f"select-{user.account}",
        ),
        user.account,
        rx.badge(
            user.category_label,
            color_scheme=rx.match(
                user.category, ("applicant", "amber"), ("sharing_contact", "cyan"), "gray"
            ),
            variant="soft",
        ),
        user.real_name,
        user.id_number,
        user.phone,
        user.tenant_name,
        user.org_name,
        user.roles,
        status_badge(user.status_label, user.status),
        user.last_login,
        _actions(user),
        data_testid=f"user-row-{user.account}",
    )


def _table() -> rx.Component:
    return list_table(
        UsersState,
        COLUMNS,
        _row,
        empty=("没有符合条件的用户", "调整查询条件，或点击「新增用户」创建账号。"),
    )


def _field(name: str, label: str, **props: object) -> rx.Component:
    return field(
        label,
        name,
        on_blur=lambda v: UsersState.check_field(name, v),
        data_testid=f"new-{name}",
        error=UsersState.form_errors.get(name, ""),
        **props,
    )


def _create_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _field("account", "账号", placeholder="如 zhangsan01"),
            _field("real_name", "姓名"),
            labelled(
                "所属租户",
                dropdown(
                    UsersState.tenant_options,
                    fields=TENANT_FIELDS,
                    placeholder="请选择租户",
                    width="100%",
                    testid="new-tenant",
                    value=UsersState.new_tenant,
                    on_change=UsersState.set_new_tenant,
                ),
            ),
            labelled("所属机构", _org_select(name="org_id", default_value="none")),
            labelled(
                "证件种类",
                dropdown(ID_TYPE_OPTIONS, width="100%", name="id_type", default_value="1"),
            ),
            _field("id_number", "证件号码", placeholder="居民身份证将校验第18位"),
            _field("phone", "手机号"),
            _field("post", "岗位"),
            error_callout(UsersState.create_error, testid="create-error"),
            form_footer(submit_button("创建", "new-submit")),
            spacing="3",
        ),
        on_submit=UsersState.create,
    )


def _org_select(**root: object) -> rx.Component:
    """The organisation picker: in the create form by name, in the edit form by state."""
    return dropdown(
        UsersState.org_options,
        fields=("id", "name"),
        first=("none", "（不指定）"),
        width="100%",
        testid="org-select",
        **(root or {"value": UsersState.edit_org, "on_change": UsersState.set_edit_org}),
    )


def _edit_dialog() -> rx.Component:
    return form_dialog(
        UsersState,
        "edit",
        ("编辑用户：", UsersState.edit_account),
        rx.text("个人信息以脱敏形式显示；留空表示不修改。", size="2", color_scheme="gray"),
        field(
            "姓名",
            "real_name",
            placeholder=UsersState.edit_masked_name,
            data_testid="edit-real_name",
        ),
        field("证件号码", "id_number", placeholder=UsersState.edit_masked_id),
        field(
            "手机号", "phone", placeholder=UsersState.edit_masked_phone, data_testid="edit-phone"
        ),
        labelled("所属机构", _org_select()),
        field("岗位", "post", default_value=UsersState.edit_post),
        rx.hstack(
            rx.switch(checked=UsersState.edit_multi, on_change=UsersState.set_edit_multi),
            rx.text("允许同时多处登录", size="2"),
        ),
        error_callout(UsersState.edit_error, testid="edit-error"),
        on_submit=UsersState.save_edit,
        submit=submit_button("保存", "edit-save"),
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
        on_open_change=lambda v: UsersState.set_open("bulk", v),
        on_confirm=UsersState.confirm_bulk,
        testid="bulk-ok",
    )


def _one_time_password() -> rx.Component:
    return rx.vstack(
        secret_notice("请把一次性密码当面或经安全渠道告知用户；关闭本窗口后将无法再次查看。"),
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
    return dialog(
        UsersState,
        "create",
        rx.cond(UsersState.one_time_password != "", "账号已就绪", "新增用户"),
        rx.cond(UsersState.one_time_password != "", _one_time_password(), _create_form()),
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
        on_open_change=lambda v: UsersState.set_open("confirm", v),
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
    return dialog(
        UsersState,
        "role",
        ("分配角色：", UsersState.role_account),
        rx.text("三员（系统/安全/审计管理员）不能由同一用户兼任。", size="2", color_scheme="gray"),
        rx.grid(
            rx.foreach(UsersState.role_choices, _role_item),
            columns="2",
            spacing="2",
            margin_y="12px",
        ),
        form_footer(rx.button("保存", on_click=UsersState.save_roles, data_testid="roles-save")),
        max_width="560px",
    )


def _sync_line(line: SyncLine) -> rx.Component:
    return table_row(line.line, line.account, line.reason)


def _sync_dialog() -> rx.Component:
    picker = file_picker(
        SYNC_UPLOAD,
        "拖入或点击选择 CSV / XLSX / JSON 文件",
        {"text/csv": [".csv"], XLSX_MIME: [".xlsx"], "application/json": [".json"]},
        "sync-file",
    )
    return dialog(
        UsersState,
        "sync",
        "一体化平台用户同步",
        rx.text(
            "按账号新增、更新或停用用户；逐条校验，有问题的记录单独列出，其余照常保存；"
            "不会改动本地分配的角色。列：account, real_name, tenant_code, id_type, "
            "id_number, phone, org_uscc, post, status（active/disabled）。",
            size="2",
            color_scheme="gray",
        ),
        picker,
        upload_bar(
            UsersState.sync_running,
            UsersState.sync_summary,
            rx.button(
                "开始同步",
                loading=UsersState.sync_running,
                on_click=UsersState.upload_sync(rx.upload_files(upload_id=SYNC_UPLOAD)),
                data_testid="sync-start",
            ),
            testid="sync-summary",
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
        on_open_change=UsersState.set_sync_open,
    )


def _verdict_row(verdict: VerdictView) -> rx.Component:
    return table_row(
        verdict.label,
        flag_badge(verdict.allowed, "可以", otherwise="不可以"),
        rx.text(verdict.via, size="1", color_scheme="gray"),
    )


def _explain_dialog() -> rx.Component:
    return dialog(
        UsersState,
        "explain",
        ("有效权限：", UsersState.explain_account),
        scroll_table(
            ("权限", "结论", "由哪些角色授予"),
            UsersState.verdicts,
            _verdict_row,
            testid="verdicts",
            max_height="60vh",
        ),
        close_footer(),
        max_width="680px",
    )


def _reveal_dialog() -> rx.Component:
    return form_dialog(
        UsersState,
        "reveal",
        ("查看明文信息：", UsersState.reveal_account),
        dropdown(
            REVEAL_OPTIONS,
            width="100%",
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
        on_submit=UsersState.reveal,
        submit=submit_button("查看", "reveal-submit"),
        cancel="关闭",
        max_width="480px",
        on_open_change=UsersState.set_reveal_open,
    )


def users_page() -> rx.Component:
    """The page."""
    body = list_body(
        rx.vstack(
            page_heading(SECTION.label, "账号、所属租户与机构、角色；个人信息默认脱敏显示"),
            waiting_requests(),
            width="100%",
        ),
        _toolbar(),
        UsersState,
        _table(),
        _create_dialog(),
        _confirm_dialog(),
        _role_dialog(),
        _reveal_dialog(),
        _explain_dialog(),
        _sync_dialog(),
        _edit_dialog(),
        _bulk_dialog(),
        reset_dialogs(),
    )
    return shell(body, title=SECTION.label, section=SECTION)
