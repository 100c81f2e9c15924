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
    confirm_dialog,
    create_button,
    error_callout,
    field_error,
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

SECTION = section_by_key("interfaces")
COLUMNS = ("代码", "名称", "方向", "部门 / 类别", "地址", "状态", "健康", "最近探测", "操作")
DIRECTION_FILTERS = [("*", "全部方向"), ("inbound", "接入"), ("outbound", "共享")]
HEALTH_FILTERS = [("*", "全部健康状态"), *HEALTH_LABELS.items()]
HEALTH_COLOURS = {"ok": "green", "down": "red"}


def _row(item: InterfaceView) -> rx.Component:
    writer = rx.hstack(
        rx.button(
            "测试连接",
            size="1",
            variant="soft",
            loading=InterfacesState.probing_id == item.id,
            on_click=InterfacesState.test_connection(item.id),
            data_testid=f"iface-probe-{item.code}",
        ),
        rx.button("编辑", size="1", variant="ghost", on_click=InterfacesState.open_edit(item.id)),
        rx.button(
            rx.cond(item.enabled, "停用", "启用"),
            size="1",
            variant="ghost",
            color_scheme=rx.cond(item.enabled, "red", "green"),
            on_click=InterfacesState.toggle(item.id, ~item.enabled),
        ),
        rx.cond(
            InterfacesState.can_delete & ~item.builtin,
            rx.button(
                "删除",
                size="1",
                variant="ghost",
                color_scheme="red",
                on_click=InterfacesState.ask_delete(item.id.to_string(), item.name),
            ),
        ),
    )
    return rx.table.row(
        rx.table.cell(rx.code(item.code)),
        rx.table.cell(
            rx.link(
                item.name,
                href="#",
                on_click=InterfacesState.open_detail(item.id),
                data_testid=f"iface-open-{item.code}",
            )
        ),
        rx.table.cell(item.direction, " · ", item.tenant_code),
        rx.table.cell(rx.text(item.department, " · ", item.sharing_class, size="1")),
        rx.table.cell(rx.text(item.endpoint_url, size="1")),
        rx.table.cell(
            rx.badge(
                rx.cond(item.enabled, "启用", "停用"),
                color_scheme=rx.cond(item.enabled, "green", "gray"),
                variant="soft",
            )
        ),
        rx.table.cell(
            status_badge(item.health_label, item.health, HEALTH_COLOURS, otherwise="gray")
        ),
        rx.table.cell(rx.text(item.probe, size="1")),
        rx.table.cell(rx.cond(InterfacesState.can_write, writer, rx.text("—"))),
        data_testid=f"iface-row-{item.code}",
    )


def _field(name: str, label: str, **props: object) -> rx.Component:
    return labelled(
        label,
        rx.input(
            name=name,
            default_value=InterfacesState.edit_values[name],
            width="100%",
            data_testid=f"iface-{name}",
            **props,
        ),
    )


def _choice(name: str, label: str, options: list[tuple[str, str]]) -> rx.Component:
    return labelled(
        label,
        rx.select.root(
            rx.select.trigger(width="100%"),
            rx.select.content(*[rx.select.item(text, value=value) for value, text in options]),
            value=InterfacesState.edit_values[name],
            on_change=lambda value: InterfacesState.set_edit_value(name, value),
        ),
    )


def _editor() -> rx.Component:
    creating = InterfacesState.edit_id == 0
    form = rx.form(
        rx.vstack(
            rx.grid(
                labelled(
                    "代码",
                    rx.input(
                        name="code",
                        default_value=InterfacesState.edit_values["code"],
                        read_only=~creating,
                        placeholder="gab.sfhc",
                        width="100%",
                        data_testid="iface-code",
                    ),
                ),
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
            rx.vstack(
                rx.text("地址", as_="label", size="2", weight="medium"),
                rx.input(
                    name="endpoint_url",
                    default_value=InterfacesState.edit_values["endpoint_url"],
                    placeholder="https://gateway.example.gov.cn/gab/sfhc",
                    on_change=InterfacesState.check_endpoint.debounce(300),
                    width="100%",
                    data_testid="iface-endpoint_url",
                ),
                field_error(InterfacesState.endpoint_error),
                spacing="1",
                width="100%",
            ),
            _field("request_fields", "请求字段（逗号分隔）"),
            _field("response_fields", "响应字段（逗号分隔）"),
            _field("description", "说明"),
            error_callout(InterfacesState.edit_error, testid="iface-error"),
            form_footer(rx.button("保存", type="submit", data_testid="iface-save")),
            spacing="3",
        ),
        on_submit=InterfacesState.save,
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(creating, "登记接口", "编辑接口登记")), form, max_width="720px"
        ),
        open=InterfacesState.edit_open,
        on_open_change=InterfacesState.set_edit_open,
    )


def _detail_line(pair: rx.Var[list[str]]) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(pair[0]), rx.data_list.value(pair[1]))


def _revision_row(revision: RevisionView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(revision.revision),
        rx.table.cell(revision.time),
        rx.table.cell(revision.actor),
        rx.table.cell(revision.action),
        rx.table.cell(rx.code(revision.before, size="1")),
        rx.table.cell(rx.code(revision.after, size="1")),
    )


def _probe_row(probe: ProbeView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(probe.time),
        rx.table.cell(
            rx.badge(
                rx.cond(probe.ok, "正常", "失败"),
                color_scheme=rx.cond(probe.ok, "green", "red"),
                variant="soft",
            )
        ),
        rx.table.cell(probe.status),
        rx.table.cell(probe.latency),
        rx.table.cell(rx.text(probe.error, size="1")),
        rx.table.cell(probe.trigger),
    )


def _detail_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(InterfacesState.detail_title),
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
        ),
        open=InterfacesState.detail_open,
        on_open_change=InterfacesState.set_detail_open,
    )


def interfaces_page() -> rx.Component:
    """The page."""
    toolbar = rx.hstack(
        search_box(InterfacesState.search, "代码、名称或部门", "ifaces-keyword"),
        option_select(
            DIRECTION_FILTERS,
            value=InterfacesState.direction_filter,
            on_change=InterfacesState.set_direction_filter,
        ),
        option_select(
            HEALTH_FILTERS,
            value=InterfacesState.health_filter,
            on_change=InterfacesState.set_health_filter,
        ),
        rx.spacer(),
        create_button(
            InterfacesState.can_write, "登记接口", InterfacesState.open_create, "ifaces-create"
        ),
        width="100%",
        align="center",
    )
    body = rx.vstack(
        page_heading(SECTION.label, SECTION.summary),
        toolbar,
        error_callout(InterfacesState.error),
        list_table(
            InterfacesState,
            COLUMNS,
            _row,
            size="1",
            empty=("没有符合条件的接口", "换一个关键词或筛选条件，或点击「登记接口」。"),
        ),
        _editor(),
        _detail_dialog(),
        confirm_dialog(
            title="删除接口登记",
            description=[
                "确定删除「",
                InterfacesState.delete_name,
                "」？内置的国家接口、被共享任务或机构通道引用的接口不能删除。删除记入操作日志。",
            ],
            open_=InterfacesState.delete_open,
            on_open_change=InterfacesState.set_delete_open,
            on_confirm=InterfacesState.delete,
            confirm_label="删除",
        ),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
