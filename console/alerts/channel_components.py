"""Pieces of 告警规则 for 通知渠道: the table, the form of each kind, 测试发送, 删除."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from console.alerts.channel_state import (
    KIND_CHOICES,
    RECIPIENT_LABELS,
    ChannelView,
    FieldSpec,
    NotifyChannelState,
    fields_of,
)
from console.ui.choice import Choice
from console.ui.components import (
    card_header,
    create_button,
    empty_state,
    error_callout,
    field_error,
    labelled,
    option_select,
    simple_table,
)
from console.ui.widgets import delete_button, delete_confirm, enabled_badge, form_dialog, row_button

S = NotifyChannelState
KEPT_SECRET = "已设置，留空保持不变"


def note(text: rx.Var[str] | str, colour: str | rx.Var = "gray") -> rx.Component:
    """Small grey (or coloured) text under a field or in a cell."""
    return rx.text(text, size="1", color_scheme=colour, white_space="pre-wrap")


def scope_field(
    options: rx.Var[list[Choice]],
    value: rx.Var[str],
    on_change: Callable[[rx.Var[str]], object],
    *,
    fixed: rx.Var[bool],
    text: rx.Var[str],
    testid: str,
    error: rx.Var[str] | str = "",
) -> rx.Component:
    """适用范围: 全省 or a county to choose, or the one it must be shown as fixed."""
    chooser = rx.select.root(
        rx.select.trigger(width="100%", data_testid=testid),
        rx.select.content(
            rx.foreach(options, lambda option: rx.select.item(option.label, value=option.value))
        ),
        value=value,
        on_change=on_change,
    )
    shown = rx.badge(text, variant="soft", size="2", data_testid=f"{testid}-fixed")
    return labelled("适用范围", rx.cond(fixed, shown, chooser), error)


def _error(field: str) -> rx.Var[str]:
    return S.channel_errors.get(field, "")  # type: ignore[attr-defined]


def _start(field: str) -> rx.Var[str]:
    return S.channel_form.get(field, "")  # type: ignore[attr-defined]


def _typed(field: str) -> Callable[[rx.Var[str]], rx.event.EventSpec]:
    return lambda value: S.check_channel(field, value)


def _setting(kind: str, spec: FieldSpec) -> rx.Component:
    """One setting of ``kind``: a select, a text area, a password or a plain input."""
    common = {"name": spec.key, "key": f"{kind}-{spec.key}", "on_change": _typed(spec.key),
              "width": "100%", "data_testid": f"channel-{spec.key}"}  # fmt: skip
    if spec.choices:
        common.pop("width")
        testid = common.pop("data_testid")
        control = rx.select.root(
            rx.select.trigger(width="100%", data_testid=testid),
            rx.select.content(*[rx.select.item(label, value=v) for v, label in spec.choices]),
            default_value=S.channel_form.get(spec.key, spec.choices[0][0]),  # type: ignore[attr-defined]
            **common,
        )
    elif spec.secret:
        kept = S.secrets_set.contains(spec.key)  # type: ignore[attr-defined]
        control = rx.input(
            type="password",
            auto_complete="new-password",  # never the browser's saved sign-in password
            placeholder=rx.cond(kept, KEPT_SECRET, spec.placeholder),
            **common,
        )
    elif spec.multiline:
        control = rx.text_area(default_value=_start(spec.key), rows="4", **common)
    else:
        control = rx.input(default_value=_start(spec.key), placeholder=spec.placeholder, **common)
    parts = [control, note(spec.hint)] if spec.hint else [control]
    return labelled(spec.label, rx.vstack(*parts, spacing="1", width="100%"), _error(spec.key))


def _settings() -> rx.Component:
    """The chosen kind's settings."""
    branches = [
        (kind, rx.vstack(*[_setting(kind, s) for s in fields_of(kind)], spacing="3", width="100%"))
        for kind, _ in KIND_CHOICES
    ]
    return rx.match(S.channel_kind, *branches, rx.fragment())


def _recipients() -> rx.Component:
    """Who receives: one per line; on edit a blank keeps the stored (shown masked)."""
    label = rx.match(S.channel_kind, *RECIPIENT_LABELS.items(), "接收人")
    kept = rx.cond(
        S.kept_recipients != "",
        note("现有接收人：" + S.kept_recipients + "。留空则保持不变，填写则整体替换。"),
    )
    area = rx.text_area(
        name="recipients",
        key=S.channel_kind + "-recipients",
        rows="3",
        width="100%",
        placeholder=rx.cond(S.kept_recipients != "", "留空保持现有接收人", "每行一个"),
        on_change=_typed("recipients"),
        data_testid="channel-recipients",
    )
    return rx.cond(
        S.channel_kind != "feishu",
        rx.vstack(
            rx.text(label, as_="label", size="2", weight="medium"),
            area,
            kept,
            field_error(_error("recipients")),
            spacing="1",
            width="100%",
        ),
        note("飞书群机器人不支持按手机号提醒，消息发到群内。"),
    )


def channel_dialog() -> rx.Component:
    """Add or change a channel; secrets are write-only."""
    return form_dialog(
        S,
        "channel",
        rx.cond(S.channel_id > 0, "编辑通知渠道", "新建通知渠道"),
        labelled(
            "名称",
            rx.input(
                name="name",
                default_value=_start("name"),
                placeholder="如 值班钉钉群、运维值班邮箱",
                on_change=_typed("name"),
                width="100%",
                data_testid="channel-name",
            ),
            _error("name"),
        ),
        labelled(
            "渠道类型",
            option_select(
                KIND_CHOICES,
                value=S.channel_kind,
                on_change=S.set_channel_kind,
                testid="channel-kind",
            ),
            _error("kind"),
        ),
        scope_field(
            S.scope_options,
            S.channel_scope,
            S.set_channel_scope,
            fixed=~S.province,
            text=rx.cond(S.scope_options.length() > 0, S.scope_options[0].label, ""),  # type: ignore[attr-defined]
            testid="channel-scope",
            error=_error("scope"),
        ),
        _settings(),
        _recipients(),
        labelled(
            "每小时上限（条）",
            rx.input(
                name="per_hour",
                default_value=_start("per_hour"),
                input_mode="numeric",
                on_change=_typed("per_hour"),
                width="120px",
                data_testid="channel-per-hour",
            ),
            _error("per_hour"),
        ),
        rx.checkbox(
            "启用（规则可使用此渠道发送通知）",
            checked=S.channel_enabled,
            on_change=S.set_channel_enabled,
        ),
        field_error(_error("form")),
        error_callout(S.channel_error, testid="channel-error"),
        on_submit=S.save_channel,
        submit=rx.button("保存", type="submit", data_testid="channel-save"),
        max_width="600px",
        on_open_change=S.set_channel_open,
        reset_on_submit=False,
    )


def _channel_row(row: ChannelView) -> rx.Component:
    actions = rx.hstack(
        row_button(
            "测试发送",
            S.test_send(row.id),
            allowed=S.can_execute,
            loading=S.testing_id == row.id,
            testid="channel-test",
        ),
        row_button("编辑", S.edit_channel(row.id), allowed=S.can_write, testid="channel-edit"),
        delete_button(
            S.ask_delete(row.id, row.name), allowed=S.can_delete, testid="channel-delete"
        ),
        spacing="2",
    )
    return rx.table.row(
        rx.table.cell(rx.text(row.name, weight="medium")),
        rx.table.cell(row.kind_label),
        rx.table.cell(row.scope),
        rx.table.cell(note(row.recipients)),
        rx.table.cell(
            note(row.status, rx.cond(row.failing, "red", "gray")), data_testid="channel-status"
        ),
        rx.table.cell(row.per_hour),
        rx.table.cell(enabled_badge(row.enabled)),
        rx.table.cell(actions),
        data_testid="channel-row",
    )


CHANNEL_COLUMNS = ("名称", "类型", "适用范围", "接收人", "状态", "每小时上限", "启用", "操作")


def channels_card() -> rx.Component:
    """The channels, 新建通知渠道, and what a channel is for."""
    table = simple_table(CHANNEL_COLUMNS, S.rows, _channel_row, variant="surface")
    empty = empty_state(
        "尚未配置通知渠道",
        "未配置渠道时告警只在站内铃铛提醒；添加邮件、钉钉、企业微信、飞书或短信渠道后在规则中选用。",
    )
    return rx.card(
        rx.vstack(
            card_header(
                "通知渠道", create_button(S.can_write, "新建通知渠道", S.new_channel, "channel-new")
            ),
            error_callout(S.error, testid="channel-load-error"),
            rx.cond(S.rows.length() > 0, table, empty),  # type: ignore[attr-defined]
            note(
                "密钥与接收人加密保存，页面不回显；地址须在对外访问白名单内。"
                "连续发送失败的渠道状态标红，“通知渠道发送失败”规则会告警。"
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def channel_dialogs() -> rx.Component:
    """The form and the confirmation before 删除."""
    return rx.fragment(
        channel_dialog(),
        delete_confirm(
            S,
            "删除通知渠道",
            "将删除通知渠道“",
            "”，其密钥与接收人一并清除；仍被规则使用的渠道不能删除。",
            testid="channel-delete-ok",
        ),
    )
