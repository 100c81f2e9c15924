"""Pieces of 告警规则: the rules table and form, the maintenance windows."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from console.alerts.channel_components import note, scope_field
from console.alerts.kinds import KINDS, Kind, Param
from console.alerts.rule_state import (
    SEVERITY_CHOICES,
    ChannelChoice,
    MaintenanceState,
    RuleState,
    RuleView,
    WindowView,
)
from console.ui.components import (
    card_header,
    create_button,
    empty_state,
    error_callout,
    labelled,
    option_select,
    simple_table,
)
from console.ui.widgets import delete_button, delete_confirm, form_dialog, row_button

R = RuleState
W = MaintenanceState
SEVERITY_COLOURS = {"critical": "red", "major": "orange", "minor": "amber", "info": "blue"}


def _error(label: str) -> rx.Var[str]:
    return R.rule_errors.get(label, "")  # type: ignore[attr-defined]


def _start(field: str) -> rx.Var[str]:
    return R.rule_form.get(field, "")  # type: ignore[attr-defined]


def _typed(field: str) -> Callable[[rx.Var[str]], rx.event.EventSpec]:
    return lambda value: R.check_rule(field, value)


# ---- the rule form ---------------------------------------------------------------------------


def _kind_item(kind: Kind) -> rx.Component:
    item = rx.select.item(kind.label, value=kind.key)
    # A county administrator cannot set rules about the province's platform itself.
    return rx.cond(R.province, item) if kind.province_only else item


def _kind_select() -> rx.Component:
    """类型, grouped as the kinds are."""
    groups: dict[str, list[Kind]] = {}
    for kind in KINDS:
        groups.setdefault(kind.group, []).append(kind)
    content = []
    for group, kinds in groups.items():
        block = rx.select.group(rx.select.label(group), *[_kind_item(k) for k in kinds])
        content.append(rx.cond(R.province, block) if all(k.province_only for k in kinds) else block)
    explain = rx.match(R.rule_kind, *[(k.key, note(k.explain)) for k in KINDS], rx.fragment())
    select = rx.select.root(
        rx.select.trigger(width="100%", data_testid="rule-kind"),
        rx.select.content(*content),
        value=R.rule_kind,
        on_change=R.set_rule_kind,
        disabled=R.rule_builtin,
    )
    return labelled("类型", rx.vstack(select, explain, spacing="1", width="100%"), _error("类型"))


def _amount(value: float) -> str:
    """1000000 as written, never ``1e+06``."""
    return f"{value:.0f}" if value == int(value) else f"{value:g}"


def _param(kind: Kind, param: Param) -> rx.Component:
    """One parameter of ``kind``: a number with its bounds, a choice, or optional text."""
    field = f"p_{param.name}"
    common = {"name": field, "key": f"{kind.key}-{param.name}", "on_change": _typed(field)}
    testid = f"rule-param-{param.name}"
    if param.choices:
        control = rx.select.root(
            rx.select.trigger(width="100%", data_testid=testid),
            rx.select.content(*[rx.select.item(label, value=v) for v, label in param.choices]),
            default_value=R.rule_form.get(field, str(param.default)),  # type: ignore[attr-defined]
            **common,
        )
        hint = ""
    elif param.optional_text:
        control = rx.input(
            default_value=_start(field), placeholder="留空表示全部", width="100%",
            data_testid=testid, **common,
        )  # fmt: skip
        hint = "留空表示全部"
    else:
        control = rx.hstack(
            rx.input(
                default_value=_start(field),
                input_mode="decimal",
                width="160px",
                data_testid=testid,
                **common,
            ),
            rx.text(param.unit, size="2"),
            align="center",
        )
        unit = f" {param.unit}" if param.unit else ""
        hint = f"可填 {_amount(param.low)} 到 {_amount(param.high)}{unit}"
    parts = [control, note(hint)] if hint else [control]
    return labelled(param.label, rx.vstack(*parts, spacing="1", width="100%"), _error(param.label))


def _params() -> rx.Component:
    """The chosen kind's parameters (none for some kinds)."""
    branches = [
        (
            kind.key,
            rx.vstack(*[_param(kind, p) for p in kind.params], spacing="3", width="100%")
            if kind.params
            else note("该类型没有参数。"),
        )
        for kind in KINDS
    ]
    return rx.match(R.rule_kind, *branches, rx.fragment())


def _channel_check(
    which: str, chosen: rx.Var[list[str]]
) -> Callable[[ChannelChoice], rx.Component]:
    def check(choice: ChannelChoice) -> rx.Component:
        return rx.checkbox(
            choice.label,
            checked=chosen.contains(choice.value),
            on_change=lambda on: R.toggle_channel(which, choice.value, on),
            data_testid=f"rule-{which}-" + choice.value,
        )

    return check


def _channels(which: str, label: str, chosen: rx.Var[list[str]], empty: str) -> rx.Component:
    """Tick the channels to notify (those of the rule's scope)."""
    boxes = rx.cond(
        R.scoped_channels.length() > 0,  # type: ignore[attr-defined]
        rx.flex(
            rx.foreach(R.scoped_channels, _channel_check(which, chosen)),
            wrap="wrap",
            spacing="3",
        ),
        note(empty),
    )
    return labelled(label, rx.box(boxes, data_testid=f"rule-{which}"), _error(label))


def _number(field: str, label: str, testid: str) -> rx.Component:
    return labelled(
        label,
        rx.input(
            name=field,
            default_value=_start(field),
            input_mode="numeric",
            width="160px",
            on_change=_typed(field),
            data_testid=testid,
        ),
        _error(label.split("（")[0]),
    )


def rule_dialog() -> rx.Component:
    """新建 or 编辑 a rule, checked as it is typed."""
    return form_dialog(
        R,
        "rule",
        rx.cond(R.rule_id > 0, "编辑告警规则", "新建告警规则"),
        labelled(
            "名称",
            rx.input(
                name="name",
                default_value=_start("name"),
                on_change=_typed("name"),
                placeholder="如 公安身份核验成功率",
                width="100%",
                data_testid="rule-name",
            ),
            _error("名称"),
        ),
        _kind_select(),
        rx.cond(
            R.rule_builtin, note("内置规则可修改参数、级别与通知，或停用；类型与适用范围不可改。")
        ),
        _params(),
        labelled(
            "级别",
            option_select(
                SEVERITY_CHOICES,
                value=R.rule_severity,
                on_change=R.set_rule_severity,
                testid="rule-severity",
            ),
            _error("级别"),
        ),
        scope_field(
            R.scope_options,
            R.rule_scope,
            R.set_rule_scope,
            fixed=R.scope_fixed,
            text=R.scope_text,
            testid="rule-scope",
            error=_error("适用范围"),
        ),
        _channels("channels", "通知渠道", R.rule_channels, "暂无可用的通知渠道：仅站内通知。"),
        _number("escalate", "升级时间（分钟，0 不升级）", "rule-escalate"),
        _channels(
            "escalate_channels",
            "升级通知渠道",
            R.rule_escalate_channels,
            "暂无可用的通知渠道。",
        ),
        _number("quiet", "静默期（分钟）", "rule-quiet"),
        note("同一对象在静默期内不重复通知；告警仍照常记录。"),
        rx.checkbox("启用", checked=R.rule_enabled, on_change=R.set_rule_enabled),
        error_callout(R.rule_error, testid="rule-error"),
        on_submit=R.save_rule,
        submit=rx.button("保存", type="submit", data_testid="rule-save"),
        max_width="640px",
        reset_on_submit=False,
    )


# ---- the rules table -------------------------------------------------------------------------


def _rule_row(row: RuleView) -> rx.Component:
    delete = rx.cond(
        row.builtin,
        rx.cond(R.can_delete, note("内置规则不能删除，可停用")),
        delete_button(R.ask_delete(row.id, row.name), allowed=R.can_delete, testid="rule-delete"),
    )
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(row.name, weight="medium"),
                rx.cond(row.builtin, rx.badge("内置", variant="outline")),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(row.kind_label),
        rx.table.cell(row.scope),
        rx.table.cell(note(row.params_text), max_width="280px"),
        rx.table.cell(
            rx.badge(
                row.severity_label,
                color_scheme=rx.match(row.severity, *SEVERITY_COLOURS.items(), "gray"),
                variant="soft",
            )
        ),
        rx.table.cell(note(row.channels)),
        rx.table.cell(note(row.escalate)),
        rx.table.cell(
            rx.switch(
                checked=row.enabled,
                disabled=~R.can_write,
                on_change=lambda on: R.set_enabled(row.id, on),
                data_testid="rule-enabled",
            )
        ),
        rx.table.cell(
            rx.hstack(
                row_button("编辑", R.edit_rule(row.id), allowed=R.can_write, testid="rule-edit"),
                delete,
                spacing="2",
                align="center",
            )
        ),
        data_testid="rule-row",
    )


RULE_COLUMNS = ("名称", "类型", "适用范围", "参数", "级别", "通知渠道", "升级", "启用", "操作")


def rules_card() -> rx.Component:
    """The rules, 新建规则."""
    table = simple_table(RULE_COLUMNS, R.rows, _rule_row, variant="surface")
    empty = rx.cond(
        R.loading,
        rx.center(rx.spinner(), padding="32px"),
        empty_state("暂无告警规则", "点“新建规则”添加；全省规则由省级管理员设置。"),
    )
    return rx.card(
        rx.vstack(
            card_header("告警规则", create_button(R.can_write, "新建规则", R.new_rule, "rule-new")),
            rx.cond(R.rows.length() > 0, table, empty),  # type: ignore[attr-defined]
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


# ---- maintenance windows ---------------------------------------------------------------------


def _window_row(row: WindowView) -> rx.Component:
    state = rx.cond(
        row.active,
        rx.badge("进行中", color_scheme="amber", variant="soft", data_testid="window-active"),
        rx.badge("未开始", color_scheme="gray", variant="soft"),
    )
    return rx.table.row(
        rx.table.cell(rx.text(row.name, weight="medium")),
        rx.table.cell(row.scope),
        rx.table.cell(row.starts),
        rx.table.cell(row.ends),
        rx.table.cell(note(row.reason)),
        rx.table.cell(row.by),
        rx.table.cell(state),
        rx.table.cell(
            row_button(
                rx.cond(row.active, "结束", "取消"),
                W.ask_delete(row.id, row.name),
                allowed=W.can_write,
                color_scheme="red",
                testid="window-end",
            )
        ),
        data_testid="window-row",
    )


WINDOW_COLUMNS = ("名称", "范围", "开始", "结束", "原因", "创建人", "状态", "操作")


def windows_card() -> rx.Component:
    """Windows not yet over, 新建维护窗口."""
    table = simple_table(WINDOW_COLUMNS, W.rows, _window_row, variant="surface")
    return rx.card(
        rx.vstack(
            card_header(
                "维护窗口", create_button(W.can_write, "新建维护窗口", W.new_window, "window-new")
            ),
            error_callout(W.error, testid="window-load-error"),
            rx.cond(
                W.rows.length() > 0,  # type: ignore[attr-defined]
                table,
                note("当前没有进行中或计划中的维护窗口。"),
            ),
            note("维护窗口内告警照常记录，但不发送通知；时间为北京时间，最长 7 天。"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _window_input(name: str, label: str, error: str, **props: object) -> rx.Component:
    return labelled(
        label,
        rx.input(name=name, width="100%", data_testid=f"window-{name}", **props),
        W.window_errors.get(error, ""),  # type: ignore[attr-defined]
    )


def window_dialog() -> rx.Component:
    """Plan a window."""
    return form_dialog(
        W,
        "window",
        "新建维护窗口",
        _window_input("name", "名称", "名称", placeholder="如 机房断电检修"),
        scope_field(
            W.scope_options,
            W.window_scope,
            W.set_window_scope,
            fixed=~W.province,
            text=rx.cond(W.scope_options.length() > 0, W.scope_options[0].label, ""),  # type: ignore[attr-defined]
            testid="window-scope",
            error=W.window_errors.get("适用范围", ""),  # type: ignore[attr-defined]
        ),
        rx.hstack(
            _window_input(
                "starts",
                "开始时间（北京时间）",
                "开始时间",
                type="datetime-local",
                default_value=W.window_form.get("starts", ""),
            ),  # type: ignore[attr-defined]
            _window_input(
                "ends",
                "结束时间（北京时间）",
                "结束时间",
                type="datetime-local",
                default_value=W.window_form.get("ends", ""),
            ),  # type: ignore[attr-defined]
            width="100%",
        ),
        labelled(
            "原因",
            rx.text_area(name="reason", rows="2", width="100%", data_testid="window-reason"),
        ),
        error_callout(W.window_error, testid="window-error"),
        on_submit=W.save_window,
        submit=rx.button("保存", type="submit", data_testid="window-save"),
        reset_on_submit=False,
    )


def rule_dialogs() -> rx.Component:
    """The forms and the confirmations of rules and windows."""
    return rx.fragment(
        rule_dialog(),
        delete_confirm(
            R,
            "删除告警规则",
            "将删除规则“",
            "”。已产生的告警保留在告警中心，下一轮评估时自动恢复。",
            testid="rule-delete-ok",
        ),
        window_dialog(),
        delete_confirm(
            W,
            "结束维护窗口",
            "将立即结束维护窗口“",
            "”（未开始的则取消），之后的告警恢复正常通知。",
            label="结束",
            testid="window-end-ok",
        ),
    )
