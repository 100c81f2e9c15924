"""Pieces of 告警中心 (tiles, filters, rows, dialogs, silences) and the header's bell."""

from __future__ import annotations

import reflex as rx

from console.alerts.models import SEVERITIES
from console.alerts.state import (
    KIND_FILTERS,
    MAX_HOURS,
    MIN_HOURS,
    ROUTE,
    SEVERITY_FILTERS,
    STATE_FILTERS,
    AlertsState,
    AlertView,
    BellItem,
    BellState,
    HistoryView,
    SilenceView,
)
from console.ui.components import (
    close_footer,
    confirm_dialog,
    empty_state,
    error_callout,
    labelled,
    scroll_table,
    search_box,
    simple_table,
    status_badge,
)
from console.ui.shell import provide_header_widget
from console.ui.widgets import (
    action_button,
    dialog,
    dropdown,
    filter_select,
    form_dialog,
    row_button,
    submit_button,
    table_row,
    toolbar,
)

SEVERITY_COLOURS = {"critical": "red", "major": "orange", "minor": "amber", "info": "blue"}
STATE_COLOURS = {"firing": "red", "acknowledged": "amber", "resolved": "green"}
INTEGRITY_RESOLVE = (
    "此告警关系日志完整性或备份：关闭需审计管理员确认。确认前告警保持打开并照常通知。"
)
INTEGRITY_SILENCE = "此告警关系日志完整性或备份：静默在审计管理员确认后才生效，确认前照常通知。"


def _note(text: rx.Var[str] | str, colour: str = "gray") -> rx.Component:
    return rx.text(text, size="1", color_scheme=colour, white_space="pre-wrap")


# ---- tiles and filters -----------------------------------------------------------------


def _tile(key: str, label: str) -> rx.Component:
    count = AlertsState.severity_counts[key]
    chosen = (AlertsState.severity_filter == key) & (AlertsState.state_filter == "open")
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.text(
                count,
                size="7",
                weight="bold",
                color=rx.cond(count > 0, f"var(--{SEVERITY_COLOURS[key]}-11)", "var(--gray-9)"),
                data_testid=f"alert-tile-{key}-count",
            ),
            rx.text("未恢复", size="1", color_scheme="gray"),
            spacing="1",
        ),
        on_click=AlertsState.pick_severity(key),
        cursor="pointer",
        flex="1",
        border=rx.cond(chosen, f"2px solid var(--{SEVERITY_COLOURS[key]}-8)", "none"),
        data_testid=f"alert-tile-{key}",
    )


def tiles() -> rx.Component:
    """Open alerts per severity; a click shows those."""
    return rx.hstack(
        *[_tile(key, label) for key, label in SEVERITIES.items()], spacing="3", width="100%"
    )


def filters() -> rx.Component:
    """State, severity, kind and text, applied on the server; the rule from a link."""
    rule_chip = rx.cond(
        AlertsState.rule_filter > 0,
        rx.badge(
            "仅显示通知链接中的规则",
            rx.icon("x", size=12, cursor="pointer", on_click=AlertsState.clear_rule),
            color_scheme="blue",
            variant="soft",
            data_testid="alerts-rule-filter",
        ),
    )
    return toolbar(
        search_box(AlertsState.search, "摘要或对象", "alerts-keyword"),
        dropdown(
            STATE_FILTERS,
            value=AlertsState.state_filter,
            on_change=lambda value: AlertsState.set_filter("state_filter", value),
            testid="alerts-state-filter",
        ),
        filter_select(
            AlertsState,
            "severity_filter",
            SEVERITY_FILTERS,
            all_label="全部级别",
            testid="alerts-severity-filter",
        ),
        filter_select(
            AlertsState,
            "kind_filter",
            KIND_FILTERS,
            all_label="全部类型",
            testid="alerts-kind-filter",
        ),
        rule_chip,
        end=[
            action_button("刷新", AlertsState.load, icon="refresh-cw", loading=AlertsState.loading)
        ],
        wrap="wrap",
    )


# ---- the list --------------------------------------------------------------------------


def _actions(row: AlertView) -> rx.Component:
    open_ = row.state != "resolved"
    may_write = AlertsState.can_write & open_
    return rx.hstack(
        row_button(
            "确认",
            AlertsState.ask("ack", row.id),
            allowed=AlertsState.can_write & (row.state == "firing"),
            testid="alert-ack",
        ),
        row_button(
            "关闭", AlertsState.ask("resolve", row.id), allowed=may_write, testid="alert-resolve"
        ),
        row_button(
            "静默", AlertsState.ask("silence", row.id), allowed=may_write, testid="alert-silence"
        ),
        row_button(
            "审计确认",
            AlertsState.ask("audit", row.id),
            allowed=AlertsState.can_approve & (row.waiting != ""),
            color_scheme="red",
            testid="alert-audit",
        ),
        rx.cond(
            row.link != "",
            rx.link("查看证据", href=row.link, size="1", data_testid="alert-evidence"),
        ),
        row_button("详情", AlertsState.show_detail(row.id), variant="ghost", testid="alert-detail"),
        spacing="2",
        wrap="wrap",
        align="center",
    )


def _state_cell(row: AlertView) -> rx.Component:
    return rx.vstack(
        status_badge(row.state_label, row.state, STATE_COLOURS, otherwise="gray"),
        rx.cond(
            row.waiting != "",
            rx.tooltip(
                rx.badge("待审计确认", color_scheme="purple", variant="soft"), content=row.waiting
            ),
        ),
        spacing="1",
    )


def alert_row(row: AlertView) -> rx.Component:
    """One alert."""
    return table_row(
        status_badge(row.severity_label, row.severity, SEVERITY_COLOURS, otherwise="gray"),
        rx.text(row.kind_label, size="1"),
        rx.text(row.subject, size="1", weight="medium"),
        row.tenant_name,
        rx.text(row.summary, size="1", max_width="360px"),
        _note(row.first_at),
        _note(row.last_at),
        _state_cell(row),
        _note(row.handler),
        _actions(row),
        data_testid="alert-row",
    )


# ---- the row's dialogs -----------------------------------------------------------------


def _title(action: str) -> tuple[object, ...]:
    return (action, "：", AlertsState.target_title)


def _integrity_note(text: str) -> rx.Component:
    return rx.cond(
        AlertsState.target_integrity,
        rx.callout(text, icon="shield-alert", color_scheme="purple", size="1"),
    )


def _ack_dialog() -> rx.Component:
    return form_dialog(
        AlertsState,
        "ack",
        _title("确认告警"),
        _note("确认表示已有人处理：停止升级通知；条件恢复后告警自动关闭。"),
        labelled(
            "备注（可选）",
            rx.text_area(name="note", width="100%", max_length=500, data_testid="alert-ack-note"),
        ),
        error_callout(AlertsState.ack_error, testid="alert-ack-error"),
        on_submit=AlertsState.acknowledge,
        submit=submit_button("确认", "alert-ack-submit"),
        reset_on_submit=False,
    )


def _resolve_dialog() -> rx.Component:
    return form_dialog(
        AlertsState,
        "resolve",
        _title("关闭告警"),
        _integrity_note(INTEGRITY_RESOLVE),
        labelled(
            "原因（必填，记入告警历史与操作日志）",
            rx.text_area(
                name="reason",
                width="100%",
                max_length=500,
                on_change=AlertsState.check_resolve,
                data_testid="alert-resolve-reason",
            ),
            AlertsState.resolve_error,
        ),
        on_submit=AlertsState.resolve,
        submit=submit_button(
            rx.cond(AlertsState.target_integrity, "申请关闭", "关闭告警"),
            "alert-resolve-submit",
            color_scheme="red",
        ),
        reset_on_submit=False,
    )


def _silence_error(field: str) -> rx.Var[str]:
    return AlertsState.silence_errors.get(field, "")  # type: ignore[attr-defined]


def _silence_dialog() -> rx.Component:
    return form_dialog(
        AlertsState,
        "silence",
        _title("静默"),
        _note("静默期间告警照常记录和显示，只是不发送通知。"),
        _integrity_note(INTEGRITY_SILENCE),
        labelled(
            f"时长（小时，{MIN_HOURS}–{MAX_HOURS}）",
            rx.input(
                name="hours",
                type="number",
                default_value="4",
                min=MIN_HOURS,
                max=MAX_HOURS,
                on_change=lambda value: AlertsState.check_silence("时长", value),
                data_testid="alert-silence-hours",
            ),
            _silence_error("时长"),
        ),
        labelled(
            "原因（必填）",
            rx.text_area(
                name="reason",
                width="100%",
                max_length=500,
                on_change=lambda value: AlertsState.check_silence("原因", value),
                data_testid="alert-silence-reason",
            ),
            _silence_error("原因"),
        ),
        rx.hstack(
            rx.switch(
                checked=AlertsState.silence_whole,
                on_change=AlertsState.set_silence_whole,
                data_testid="alert-silence-whole",
            ),
            rx.text("整条规则（该规则的所有对象，而不只是此对象）", size="2"),
            align="center",
        ),
        on_submit=AlertsState.silence,
        submit=submit_button(
            rx.cond(AlertsState.target_integrity, "申请静默", "静默"), "alert-silence-submit"
        ),
        reset_on_submit=False,
    )


def _audit_dialog() -> rx.Component:
    return form_dialog(
        AlertsState,
        "audit",
        _title("审计确认"),
        rx.callout(AlertsState.target_waiting, icon="shield-check", color_scheme="purple"),
        _note("确认后：关闭申请立即关闭告警，静默申请开始生效。不能确认自己提出的申请。"),
        labelled(
            "意见（可选）",
            rx.text_area(name="note", width="100%", max_length=200, data_testid="alert-audit-note"),
        ),
        error_callout(AlertsState.audit_error, testid="alert-audit-error"),
        on_submit=AlertsState.confirm,
        submit=submit_button("确认", "alert-audit-submit", color_scheme="red"),
        reset_on_submit=False,
    )


def _history_row(line: HistoryView) -> rx.Component:
    return table_row(_note(line.when), line.what, _note(line.who), _note(line.detail))


def _detail_dialog() -> rx.Component:
    return dialog(
        AlertsState,
        "detail",
        "告警详情",
        rx.vstack(
            rx.foreach(AlertsState.detail, lambda line: rx.text(line, size="2")),
            rx.cond(
                AlertsState.detail_link != "",
                rx.link("查看证据", href=AlertsState.detail_link, size="2"),
            ),
            rx.heading("处理经过与通知", size="3", margin_top="8px", as_="h3"),
            scroll_table(
                ("时间", "事件", "操作人 / 渠道", "说明"),
                AlertsState.history,
                _history_row,
                testid="alert-history",
                max_height="50vh",
            ),
            spacing="2",
            width="100%",
        ),
        close_footer(),
        max_width="900px",
    )


def dialogs() -> rx.Component:
    """Every dialog of the page."""
    return rx.fragment(
        _ack_dialog(),
        _resolve_dialog(),
        _silence_dialog(),
        _audit_dialog(),
        _detail_dialog(),
        confirm_dialog(
            title="结束静默",
            description=[
                "将立即结束对“",
                AlertsState.end_name,
                "”的静默，之后的告警照常发送通知。",
            ],
            open_=AlertsState.end_open,
            on_open_change=AlertsState.set_end_open,
            on_confirm=AlertsState.end_silence,
            confirm_label="结束静默",
            testid="alert-silence-end-ok",
        ),
    )


# ---- silences --------------------------------------------------------------------------


def _silence_row(silence: SilenceView) -> rx.Component:
    return table_row(
        silence.rule,
        silence.subject,
        _note(silence.reason),
        _note(silence.until),
        silence.by,
        status_badge(silence.state, silence.state, {"生效中": "green"}, otherwise="purple"),
        row_button(
            "结束静默",
            AlertsState.ask_end(silence.id, silence.rule),
            allowed=AlertsState.can_write,
            color_scheme="red",
            testid="alert-silence-end",
        ),
        data_testid="alert-silence-row",
    )


def silences_card() -> rx.Component:
    """Silences in force or waiting for the audit administrator."""
    table = simple_table(
        ("规则", "对象", "原因", "至", "申请人", "状态", ""),
        AlertsState.silences,
        _silence_row,
        testid="alert-silences",
    )
    return rx.card(
        rx.vstack(
            rx.heading("静默", size="4", as_="h2"),
            rx.cond(
                AlertsState.silences.length() > 0,  # type: ignore[attr-defined]
                table,
                empty_state(
                    "当前没有静默",
                    "在告警行点“静默”可暂停某对象或整条规则的通知；静默期间告警照常记录。",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


# ---- the bell --------------------------------------------------------------------------


def _bell_item(item: BellItem) -> rx.Component:
    dot = rx.box(
        width="8px",
        height="8px",
        border_radius="50%",
        flex_shrink="0",
        margin_top="6px",
        background=rx.cond(item.read, "transparent", "var(--red-9)"),
    )
    title = rx.text(
        item.title,
        size="2",
        weight=rx.cond(item.read, "regular", "medium"),
        color=rx.cond(item.read, "var(--gray-10)", "var(--gray-12)"),
        style={"overflow": "hidden", "text_overflow": "ellipsis", "white_space": "nowrap"},
    )
    return rx.hstack(
        dot,
        rx.vstack(title, _note(item.when), spacing="0", min_width="0", width="100%"),
        on_click=BellState.open_item(item.id, item.alert_id),
        role="button",
        cursor="pointer",
        padding="6px 8px",
        border_radius="6px",
        width="100%",
        spacing="2",
        _hover={"background": "var(--gray-3)"},
        data_testid="bell-item",
    )


def _bell_menu() -> rx.Component:
    items = rx.cond(
        BellState.items.length() > 0,  # type: ignore[attr-defined]
        rx.vstack(rx.foreach(BellState.items, _bell_item), spacing="1", width="100%"),
        rx.text("暂无告警通知", size="2", color_scheme="gray", padding="8px"),
    )
    return rx.popover.content(
        rx.vstack(
            rx.hstack(
                rx.text("告警通知", weight="bold"),
                rx.spacer(),
                rx.button(
                    "全部标为已读",
                    size="1",
                    variant="ghost",
                    disabled=BellState.unread == 0,
                    on_click=BellState.read_all,
                    data_testid="bell-read-all",
                ),
                width="100%",
                align="center",
            ),
            rx.scroll_area(items, max_height="360px", type="auto"),
            rx.link("查看全部告警", href=ROUTE, size="2", data_testid="bell-all"),
            spacing="2",
            width="100%",
        ),
        width="380px",
    )


def bell() -> rx.Component:
    """The header's bell with the unread count; its list opens on a click."""
    count = rx.cond(BellState.unread > 99, "99+", BellState.unread.to_string())
    trigger = rx.box(
        rx.icon_button(
            rx.icon("bell", size=18),
            variant="ghost",
            color_scheme="gray",
            aria_label="告警通知",
            data_testid="bell",
        ),
        rx.cond(
            BellState.unread > 0,
            rx.badge(
                count,
                color_scheme="red",
                variant="solid",
                radius="full",
                size="1",
                position="absolute",
                top="-6px",
                right="-8px",
                pointer_events="none",  # a click on the number opens the bell too
                data_testid="bell-count",
            ),
        ),
        position="relative",
    )
    menu = rx.popover.root(
        rx.popover.trigger(trigger),
        _bell_menu(),
        open=BellState.menu_open,
        on_open_change=BellState.set_menu,
    )
    # The count is fetched after each page's guard (console.console: AFTER_GUARD).
    return rx.box(rx.cond(BellState.shown, menu))


provide_header_widget(bell)
