"""接口管理 page: inbound registrations and outbound sharing interfaces, versions, health."""

from __future__ import annotations

import reflex as rx

from console.interfaces.models import (
    AUTH_KINDS,
    DIRECTIONS,
    HEALTH_LABELS,
    METHODS,
    PROTOCOLS,
    SHARING_CLASSES,
)
from console.interfaces.registry_state import (
    InterfacesState,
    InterfaceView,
    ProbeView,
    RevisionView,
)
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
    delete_button,
    delete_confirm,
    dialog,
    dropdown,
    enabled_badge,
    field,
    filter_select,
    flag_badge,
    form_dialog,
    list_body,
    row_button,
    submit_button,
    table_row,
    toggle_button,
    toolbar,
)

SECTION = section_by_key("interfaces")
COLUMNS = ("代码", "名称", "方向", "部门 / 类别", "地址", "状态", "健康", "最近探测", "操作")
DIRECTION_FILTERS = [("inbound", "接入"), ("outbound", "共享")]
HEALTH_COLOURS = {"ok": "green", "down": "red"}


def _row(item: InterfaceView) -> rx.Component:
    writer = rx.hstack(
        row_button(
            "测试连接",
            InterfacesState.test_connection(item.id),
            loading=InterfacesState.probing_id == item.id,
            testid=f"iface-probe-{item.code}",
        ),
        row_button("编辑", InterfacesState.open_edit(item.id), variant="ghost"),
        toggle_button(item.enabled, InterfacesState.toggle(item.id, ~item.enabled)),
        delete_button(
            InterfacesState.ask_delete(item.id.to_string(), item.name),
            allowed=InterfacesState.can_delete & ~item.builtin,
            variant="ghost",
        ),
    )
    return table_row(
        rx.code(item.code),
        rx.link(
            item.name,
            href="#",
            on_click=InterfacesState.open_detail(item.id),
            data_testid=f"iface-open-{item.code}",
        ),
        (item.direction, " · ", item.tenant_code),
        rx.text(item.department, " · ", item.sharing_class, size="1"),
        rx.text(item.endpoint_url, size="1"),
        enabled_badge(item.enabled),
        status_badge(item.health_label, item.health, HEALTH_COLOURS, otherwise="gray"),
        rx.text(item.probe, size="1"),
        rx.cond(InterfacesState.can_write, writer, rx.text("—")),
        data_testid=f"iface-row-{item.code}",
    )


def _field(name: str, label: str, **props: object) -> rx.Component:
    return field(
        label,
        name,
        default_value=InterfacesState.edit_values[name],
        data_testid=f"iface-{name}",
        **props,
    )


def _choice(name: str, label: str, options: list[tuple[str, str]]) -> rx.Component:
    return labelled(
        label,
        dropdown(
            options,
            width="100%",
            value=InterfacesState.edit_values[name],
            on_change=lambda value: InterfacesState.set_edit_value(name, value),
        ),
    )


def _editor() -> rx.Component:
    creating = InterfacesState.edit_id == 0
    return form_dialog(
        InterfacesState,
        "edit",
        rx.cond(creating, "登记接口", "编辑接口登记"),
        rx.grid(
            _field("code", "代码", read_only=~creating, placeholder="gab.sfhc"),
            _field("name", "名称"),
            _choice("direction", "方向", list(DIRECTIONS.items())),
            _field("tenant_code", "适用租户（留空为全省共用）"),
            _field("department", "部门 / 系统"),
            _choice("sharing_class", "共享类别", [(c, c) for c in SHARING_CLASSES]),
            _field("version", "版本"),
            _choice("method", "方法", [(m, m) for m in METHODS]),
            _choice("protocol", "协议", [(p, p) for p in PROTOCOLS]),
            _choice("auth_kind", "认证方式", list(AUTH_KINDS.items())),
            _field("timeout_ms", "超时（毫秒）", type="number"),
            _field("rate_limit_per_minute", "限流（次/分钟）", type="number"),
            columns="2",
            spacing="3",
            width="100%",
        ),
        _field(
            "endpoint_url",
            "地址",
            placeholder="https://gateway.example.gov.cn/gab/sfhc",
            on_change=InterfacesState.check_endpoint.debounce(300),
            error=InterfacesState.endpoint_error,
        ),
        _field("request_fields", "请求字段（逗号分隔）"),
        _field("response_fields", "响应字段（逗号分隔）"),
        _field("description", "说明"),
        error_callout(InterfacesState.edit_error, testid="iface-error"),
        on_submit=InterfacesState.save,
        submit=submit_button("保存", "iface-save"),
        max_width="720px",
    )


def _detail_line(pair: rx.Var[list[str]]) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(pair[0]), rx.data_list.value(pair[1]))


def _revision_row(revision: RevisionView) -> rx.Component:
    return table_row(
        revision.revision,
        revision.time,
        revision.actor,
        revision.action,
        rx.code(revision.before, size="1"),
        rx.code(revision.after, size="1"),
    )


def _probe_row(probe: ProbeView) -> rx.Component:
    return table_row(
        probe.time,
        flag_badge(probe.ok, "正常", otherwise="失败", no_colour="red"),
        probe.status,
        probe.latency,
        rx.text(probe.error, size="1"),
        probe.trigger,
    )


def _detail_dialog() -> rx.Component:
    return dialog(
        InterfacesState,
        "detail",
        InterfacesState.detail_title,
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("登记信息", value="info"),
                rx.tabs.trigger("版本历史", value="revisions"),
                rx.tabs.trigger("探测记录", value="probes", data_testid="iface-tab-probes"),
            ),
            rx.tabs.content(
                rx.data_list.root(
                    rx.foreach(InterfacesState.detail_fields, _detail_line), margin_top="12px"
                ),
                value="info",
            ),
            rx.tabs.content(
                scroll_table(
                    ("版本", "时间", "操作人", "操作", "修改前", "修改后"),
                    InterfacesState.revisions,
                    _revision_row,
                    testid="iface-revisions",
                    max_height="50vh",
                ),
                value="revisions",
            ),
            rx.tabs.content(
                rx.cond(
                    InterfacesState.probes.length() > 0,
                    scroll_table(
                        ("时间", "结果", "HTTP", "耗时", "错误", "触发"),
                        InterfacesState.probes,
                        _probe_row,
                        testid="iface-probes",
                        max_height="50vh",
                    ),
                    rx.text("还没有探测记录：点击「测试连接」，或等待定时探测。", size="2"),
                ),
                value="probes",
            ),
            default_value="info",
        ),
        close_footer(),
        max_width="960px",
    )


def interfaces_page() -> rx.Component:
    """The page."""
    filters = toolbar(
        search_box(InterfacesState.search, "代码、名称或部门", "ifaces-keyword"),
        filter_select(
            InterfacesState,
            "direction_filter",
            DIRECTION_FILTERS,
            all_label="全部方向",
        ),
        filter_select(
            InterfacesState,
            "health_filter",
            list(HEALTH_LABELS.items()),
            all_label="全部健康状态",
        ),
        end=[
            create_button(
                InterfacesState.can_write, "登记接口", InterfacesState.open_create, "ifaces-create"
            )
        ],
    )
    body = list_body(
        page_heading(SECTION.label, SECTION.summary),
        filters,
        InterfacesState,
        list_table(
            InterfacesState,
            COLUMNS,
            _row,
            size="1",
            empty=("没有符合条件的接口", "换一个关键词或筛选条件，或点击「登记接口」。"),
        ),
        _editor(),
        _detail_dialog(),
        delete_confirm(
            InterfacesState,
            "删除接口登记",
            "确定删除「",
            "」？内置的国家接口、被共享任务或机构通道引用的接口不能删除。删除记入操作日志。",
        ),
    )
    return shell(body, title=SECTION.label, section=SECTION)
