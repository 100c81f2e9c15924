"""机构通道 page: banks, developers, brokers and agencies calling the platform directly."""

from __future__ import annotations

import reflex as rx

from console.interfaces.channel_state import ChannelsState, ChannelView, EventView
from console.interfaces.models import CHANNEL_STATES
from console.ui.components import (
    close_footer,
    create_button,
    error_callout,
    labelled,
    list_table,
    page_heading,
    scroll_table,
    search_box,
    status_badge,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import (
    dialog,
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
STATE_COLOURS = {"open": "green", "probation": "amber", "closed": "red"}


def _row(channel: ChannelView) -> rx.Component:
    actions = rx.hstack(
        row_button(
            "变更状态",
            ChannelsState.ask_state(channel.id),
            allowed=ChannelsState.can_approve,
            testid=f"channel-state-{channel.id}",
        ),
        row_button(
            "历史",
            ChannelsState.show_history(channel.id, channel.name),
            variant="ghost",
            testid=f"channel-history-{channel.id}",
        ),
    )
    return table_row(
        channel.name,
        channel.kind,
        channel.tenant,
        status_badge(channel.state_label, channel.state, STATE_COLOURS),
        rx.text(channel.business_codes, size="1"),
        channel.limits,
        channel.counters,
        rx.text(channel.decision, size="1"),
        actions,
        data_testid=f"channel-row-{channel.id}",
    )


def _create_dialog() -> rx.Component:
    return form_dialog(
        ChannelsState,
        "create",
        "开通机构通道",
        labelled(
            "机构（银行、开发企业、经纪或代理机构，先在「组织机构」中登记）",
            dropdown(
                ChannelsState.org_options, placeholder="选择机构", width="100%", name="org_id"
            ),
        ),
        field(
            "可提交的业务代码（7 位，逗号分隔）",
            "business_codes",
            placeholder="9000101,2000402",
        ),
        field("可经由的接口代码（可选，逗号分隔）", "interface_codes"),
        rx.hstack(
            field(
                "正常限额（次/分）", "rate_limit", default_value="600", type="number", width=None
            ),
            field(
                "观察期限额（次/分）",
                "probation_rate_limit",
                default_value="60",
                type="number",
                width=None,
            ),
        ),
        error_callout(ChannelsState.create_error, testid="channel-error"),
        on_submit=ChannelsState.create,
        submit=submit_button("开通", "channel-create-submit"),
        max_width="560px",
    )


def _state_dialog() -> rx.Component:
    leaving_closed = ChannelsState.state_from == "closed"
    return form_dialog(
        ChannelsState,
        "state",
        ("变更通道状态：", ChannelsState.state_channel_name),
        labelled(
            "新状态",
            dropdown(
                ChannelsState.state_targets,
                width="100%",
                testid="channel-state-to",
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
        on_submit=ChannelsState.change_state,
        submit=submit_button("确定", "channel-state-submit", color_scheme="red"),
        max_width="520px",
        reset_on_submit=False,
    )


def _event_row(event: EventView) -> rx.Component:
    return table_row(
        event.time,
        status_badge(event.kind, event.kind, {"拒绝调用": "red"}, otherwise="gray"),
        event.change,
        event.reason,
        event.rectification,
        event.actor,
    )


def _history_dialog() -> rx.Component:
    return dialog(
        ChannelsState,
        "history",
        ("通道历史：", ChannelsState.history_name),
        scroll_table(
            ("时间", "类别", "状态变化", "原因", "整改情况", "操作人"),
            ChannelsState.history,
            _event_row,
            testid="channel-history",
            max_height="60vh",
        ),
        close_footer(),
        max_width="960px",
    )


def channels_page() -> rx.Component:
    """The page."""
    filters = toolbar(
        search_box(ChannelsState.search, "机构名称", "channels-keyword"),
        filter_select(
            ChannelsState,
            "state_filter",
            list(CHANNEL_STATES.items()),
            all_label="全部状态",
        ),
        end=[
            create_button(
                ChannelsState.can_write, "开通通道", ChannelsState.open_create, "channels-create"
            )
        ],
    )
    body = list_body(
        page_heading(SECTION.label, SECTION.summary),
        filters,
        ChannelsState,
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
    )
    return shell(body, title=SECTION.label, section=SECTION)
