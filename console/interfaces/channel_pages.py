"""机构通道 page: banks, developers, brokers and agencies calling the platform directly."""

from __future__ import annotations

import reflex as rx

from console.interfaces.channel_state import ChannelsState, ChannelView, EventView
from console.interfaces.models import CHANNEL_STATES
from console.ui.choice import Choice
from console.ui.components import (
    close_footer,
    create_button,
    error_callout,
    form_footer,
    labelled,
    list_table,
    option_select,
    page_heading,
    scroll_table,
    search_box,
    status_badge,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("channels")
COLUMNS = (
    "机构",
    "类型",
    "租户",
    "状态",
    "开通业务",
    "限流（次/分）",
    "近30天调用/拒绝",
    "最近决定",
    "操作",
)
STATE_FILTERS = [("*", "全部状态"), *CHANNEL_STATES.items()]


STATE_COLOURS = {"open": "green", "probation": "amber", "closed": "red"}


def _row(channel: ChannelView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(channel.name),
        rx.table.cell(channel.kind),
        rx.table.cell(channel.tenant_code),
        rx.table.cell(status_badge(channel.state_label, channel.state, STATE_COLOURS)),
        rx.table.cell(rx.text(channel.business_codes, size="1")),
        rx.table.cell(channel.limits),
        rx.table.cell(channel.counters),
        rx.table.cell(rx.text(channel.decision, size="1")),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    ChannelsState.can_approve,
                    rx.button(
                        "变更状态",
                        size="1",
                        variant="soft",
                        on_click=ChannelsState.ask_state(channel.id),
                        data_testid=f"channel-state-{channel.id}",
                    ),
                ),
                rx.button(
                    "历史",
                    size="1",
                    variant="ghost",
                    on_click=ChannelsState.show_history(channel.id, channel.name),
                    data_testid=f"channel-history-{channel.id}",
                ),
            )
        ),
        data_testid=f"channel-row-{channel.id}",
    )


def _choice(choice: Choice) -> rx.Component:
    return rx.select.item(choice.label, value=choice.value)


def _create_dialog() -> rx.Component:
    form = rx.form(
        rx.vstack(
            labelled(
                "机构（银行、开发企业、经纪或代理机构，先在「组织机构」中登记）",
                rx.select.root(
                    rx.select.trigger(placeholder="选择机构", width="100%"),
                    rx.select.content(rx.foreach(ChannelsState.org_options, _choice)),
                    name="org_id",
                ),
            ),
            labelled(
                "可提交的业务代码（7 位，逗号分隔）",
                rx.input(name="business_codes", placeholder="9000101,2000402", width="100%"),
            ),
            labelled(
                "可经由的接口代码（可选，逗号分隔）",
                rx.input(name="interface_codes", width="100%"),
            ),
            rx.hstack(
                labelled(
                    "正常限额（次/分）",
                    rx.input(name="rate_limit", default_value="600", type="number"),
                ),
                labelled(
                    "观察期限额（次/分）",
                    rx.input(name="probation_rate_limit", default_value="60", type="number"),
                ),
            ),
            error_callout(ChannelsState.create_error, testid="channel-error"),
            form_footer(rx.button("开通", type="submit", data_testid="channel-create-submit")),
            spacing="3",
        ),
        on_submit=ChannelsState.create,
    )
    return rx.dialog.root(
        rx.dialog.content(rx.dialog.title("开通机构通道"), form, max_width="560px"),
        open=ChannelsState.create_open,
        on_open_change=ChannelsState.set_create_open,
    )


def _state_dialog() -> rx.Component:
    leaving_closed = ChannelsState.state_from == "closed"
    form = rx.form(
        rx.vstack(
            labelled(
                "新状态",
                rx.select.root(
                    rx.select.trigger(width="100%", data_testid="channel-state-to"),
                    rx.select.content(rx.foreach(ChannelsState.state_targets, _choice)),
                    value=ChannelsState.state_to,
                    on_change=ChannelsState.set_state_to,
                ),
            ),
            labelled(
                "原因（记入通道历史与操作日志）",
                rx.text_area(name="reason", width="100%", data_testid="channel-reason"),
            ),
            rx.cond(
                leaving_closed,
                labelled(
                    "整改情况（重新开通必填）",
                    rx.text_area(
                        name="rectification", width="100%", data_testid="channel-rectification"
                    ),
                ),
            ),
            rx.callout(
                "决定立即生效：该机构的下一次接口调用即按新状态处理（关闭则拒绝并告知原因）。",
                icon="info",
                size="1",
            ),
            error_callout(ChannelsState.state_error, testid="channel-state-error"),
            form_footer(
                rx.button(
                    "确定", type="submit", color_scheme="red", data_testid="channel-state-submit"
                )
            ),
            spacing="3",
        ),
        on_submit=ChannelsState.change_state,
        reset_on_submit=False,
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("变更通道状态：", ChannelsState.state_channel_name),
            form,
            max_width="520px",
        ),
        open=ChannelsState.state_open,
        on_open_change=ChannelsState.set_state_open,
    )


def _event_row(event: EventView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(event.time),
        rx.table.cell(
            rx.badge(
                event.kind,
                color_scheme=rx.cond(event.kind == "拒绝调用", "red", "gray"),
                variant="soft",
            )
        ),
        rx.table.cell(event.change),
        rx.table.cell(event.reason),
        rx.table.cell(event.rectification),
        rx.table.cell(event.actor),
    )


def _history_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("通道历史：", ChannelsState.history_name),
            scroll_table(
                ("时间", "类别", "状态变化", "原因", "整改情况", "操作人"),
                ChannelsState.history,
                _event_row,
                testid="channel-history",
                max_height="60vh",
            ),
            close_footer(),
            max_width="960px",
        ),
        open=ChannelsState.history_open,
        on_open_change=ChannelsState.set_history_open,
    )


def channels_page() -> rx.Component:
    """The page."""
    toolbar = rx.hstack(
        search_box(ChannelsState.search, "机构名称", "channels-keyword"),
        option_select(
            STATE_FILTERS,
            value=ChannelsState.state_filter,
            on_change=ChannelsState.set_state_filter,
        ),
        rx.spacer(),
        create_button(
            ChannelsState.can_write, "开通通道", ChannelsState.open_create, "channels-create"
        ),
        width="100%",
        align="center",
    )
    body = rx.vstack(
        page_heading(SECTION.label, SECTION.summary),
        toolbar,
        error_callout(ChannelsState.error),
        list_table(
            ChannelsState,
            COLUMNS,
            _row,
            size="1",
            empty=(
                "还没有机构通道",
                "先在「组织机构」登记银行或开发企业，再点击「开通通道」。",
            ),
        ),
        _create_dialog(),
        _state_dialog(),
        _history_dialog(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
