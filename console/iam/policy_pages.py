"""系统设置 page: the password and sign-in policy (editable by 安全管理员) and runtime facts."""

from __future__ import annotations

import reflex as rx

from console.iam.outbound_components import outbound_card
from console.iam.policy_state import FactRow, NetworkRow, PolicyRow, PolicyState
from console.ui.components import error_callout, page_heading, simple_table
from console.ui.navigation import section_by_key
from console.ui.session import session_port
from console.ui.shell import shell
from console.ui.widgets import table_row

SECTION = section_by_key("settings")
JOBS = section_by_key("system_jobs")


def _policy_row(row: PolicyRow) -> rx.Component:
    return table_row(
        row.label,
        rx.input(
            name=row.name,
            default_value=row.value,
            width="120px",
            read_only=~PolicyState.can_write,
            data_testid=f"policy-{row.name}",
        ),
        rx.text(row.bounds, color_scheme="gray", size="2"),
    )


def _network_form(row: NetworkRow) -> rx.Component:
    error = PolicyState.network_errors.get(row.admin, "")
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.text(row.label, weight="medium"),
                rx.text(row.note, size="1", color_scheme="gray"),
                spacing="2",
                align="baseline",
            ),
            rx.el.input(type="hidden", name="admin", value=row.admin),
            rx.text_area(
                name="networks",
                default_value=row.networks,
                read_only=~PolicyState.can_write,
                rows="2",
                width="100%",
                placeholder="如 10.0.0.0/8, 192.168.1.20, ::1",
                on_change=lambda value: PolicyState.check_networks(row.admin, value),
                data_testid=f"networks-{row.admin}",
            ),
            rx.cond(
                error != "",
                rx.text(
                    error, color_scheme="red", size="2", data_testid=f"networks-error-{row.admin}"
                ),
            ),
            rx.cond(
                PolicyState.can_write,
                rx.button(
                    "保存",
                    type="submit",
                    size="1",
                    variant="soft",
                    data_testid=f"networks-save-{row.admin}",
                ),
            ),
            spacing="1",
            width="100%",
        ),
        on_submit=PolicyState.save_networks,
        width="100%",
    )


def _networks_card() -> rx.Component:
    return rx.card(
        rx.heading("管理员登录地址限制", size="4", margin_bottom="4px"),
        rx.text(
            "三员只能从下列地址或网段登录（逗号分隔，支持 IPv4、IPv6 与 CIDR）；"
            "其他地址的登录一律按账号或密码错误处理，并记入登录日志。",
            size="2",
            color_scheme="gray",
            margin_bottom="8px",
        ),
        rx.vstack(rx.foreach(PolicyState.networks, _network_form), spacing="4", width="100%"),
        width="100%",
        max_width="720px",
    )


def _fact_row(row: FactRow) -> rx.Component:
    return table_row(row.label, row.value)


def _jobs_card() -> rx.Component:
    """系统任务 lives under 系统设置: a way there for those who may open it."""
    card = rx.card(
        rx.heading(JOBS.label, size="4", margin_bottom="8px"),
        rx.text(JOBS.summary, size="2", color_scheme="gray"),
        rx.link("查看运行记录与立即运行 →", href=JOBS.route, data_testid="settings-jobs-link"),
        width="100%",
        max_width="720px",
    )
    return rx.cond(session_port().state.allowed_sections.contains(JOBS.key), card)


def settings_page() -> rx.Component:
    """The page."""
    policy = rx.card(
        rx.heading("密码与登录策略", size="4", margin_bottom="8px"),
        rx.form(
            rx.vstack(
                simple_table(("规则", "取值", "允许范围"), PolicyState.rows, _policy_row, size="2"),
                error_callout(PolicyState.form_error, testid="policy-error"),
                rx.cond(
                    PolicyState.can_write,
                    rx.button("保存策略", type="submit", data_testid="policy-save"),
                    rx.text("仅安全管理员可以修改。", size="2", color_scheme="gray"),
                ),
                spacing="3",
            ),
            on_submit=PolicyState.save,
        ),
        width="100%",
        max_width="720px",
    )
    facts = rx.card(
        rx.heading("运行信息", size="4", margin_bottom="8px"),
        rx.table.root(rx.table.body(rx.foreach(PolicyState.facts, _fact_row)), width="100%"),
        width="100%",
        max_width="720px",
    )
    body = rx.vstack(
        page_heading(SECTION.label, "安全策略与运行参数；修改均记入操作日志"),
        error_callout(PolicyState.error),
        policy,
        _networks_card(),
        outbound_card(),
        facts,
        _jobs_card(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
