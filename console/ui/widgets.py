"""Widgets for the shapes the list pages repeat: guarded buttons, toolbars, selects, dialogs.

Dialogs follow one naming rule in the states: a dialog ``x`` is open while the state var
``x_open`` is true, and the state's ``set_open("x", value)`` (``ui.form_state.FormMixin``)
opens or closes it unless a page passes its own ``on_open_change``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx

from console.ui.components import confirm_dialog, error_callout, form_footer, labelled

Title = str | rx.Var | rx.Component | tuple[Any, ...]
Options = Sequence[tuple[str, str]] | rx.Var


def _given(**props: object) -> dict[str, object]:
    """The props that were given: ``None`` leaves Radix's default in place."""
    return {name: value for name, value in props.items() if value is not None}


def action_button(
    label: str | rx.Var,
    on_click: object,
    *,
    allowed: rx.Var[bool] | None = None,
    icon: str | None = None,
    testid: str | rx.Var | None = None,
    size: str | None = None,
    variant: str | None = "soft",
    color_scheme: str | rx.Var | None = None,
    loading: rx.Var[bool] | None = None,
    disabled: rx.Var[bool] | None = None,
) -> rx.Component:
    """A button shown only when ``allowed`` (if given), spinning and disabled while ``loading``.

    Hiding is a courtesy: the service checks the permission on every call anyway.
    """
    children = [rx.icon(icon, size=14), label] if icon else [label]
    button = rx.button(
        *children,
        on_click=on_click,
        **_given(
            size=size,
            variant=variant,
            color_scheme=color_scheme,
            loading=loading,
            disabled=disabled,
            data_testid=testid,
        ),
    )
    return button if allowed is None else rx.cond(allowed, button)


def row_button(
    label: str | rx.Var,
    on_click: object,
    *,
    allowed: rx.Var[bool] | None = None,
    testid: str | rx.Var | None = None,
    variant: str = "soft",
    color_scheme: str | rx.Var | None = None,
    loading: rx.Var[bool] | None = None,
) -> rx.Component:
    """A small button of a table row's 操作 cell."""
    return action_button(
        label,
        on_click,
        allowed=allowed,
        testid=testid,
        size="1",
        variant=variant,
        color_scheme=color_scheme,
        loading=loading,
    )


def delete_button(
    on_click: object,
    *,
    allowed: rx.Var[bool] | None = None,
    label: str = "删除",
    variant: str = "soft",
    testid: str | rx.Var | None = None,
) -> rx.Component:
    """A row's red 删除 (or 吊销) button; the state asks for confirmation before acting."""
    return row_button(
        label, on_click, allowed=allowed, testid=testid, variant=variant, color_scheme="red"
    )


def menu_action(
    label: str | rx.Var,
    on_click: object,
    *,
    allowed: rx.Var[bool],
    testid: str | None = None,
) -> rx.Component:
    """An item of a row's 操作 menu, shown only when ``allowed``."""
    return rx.cond(allowed, rx.menu.item(label, on_click=on_click, **_given(data_testid=testid)))


def toggle_button(
    enabled: rx.Var[bool],
    on_click: object,
    *,
    variant: str = "ghost",
    testid: str | rx.Var | None = None,
) -> rx.Component:
    """A row's 停用 (red) or 启用 (green) button, as the item is ``enabled`` or not."""
    return row_button(
        rx.cond(enabled, "停用", "启用"),
        on_click,
        testid=testid,
        variant=variant,
        color_scheme=rx.cond(enabled, "red", "green"),
    )


def flag_badge(
    flag: rx.Var[bool],
    label: str | rx.Var,
    *,
    otherwise: str | rx.Var | None = None,
    yes_colour: str = "green",
    no_colour: str = "gray",
) -> rx.Component:
    """A badge coloured as ``flag`` is true or not; it says ``label`` (or then ``otherwise``)."""
    text = label if otherwise is None else rx.cond(flag, label, otherwise)
    return rx.badge(text, color_scheme=rx.cond(flag, yes_colour, no_colour), variant="soft")


def enabled_badge(enabled: rx.Var[bool]) -> rx.Component:
    """启用 (green) or 停用 (grey)."""
    return flag_badge(enabled, "启用", otherwise="停用")


def table_row(*cells: object, **props: object) -> rx.Component:
    """A table row with one cell per value; a tuple makes one cell of several parts."""
    return rx.table.row(
        *[rx.table.cell(*c) if isinstance(c, tuple) else rx.table.cell(c) for c in cells],
        **props,
    )


def toolbar(
    *start: rx.Component, end: Sequence[rx.Component] = (), **props: object
) -> rx.Component:
    """A list page's toolbar: search and filters at the start, the page's actions at the end."""
    return rx.hstack(*start, rx.spacer(), *end, width="100%", align="center", **props)


def dropdown(
    options: Options,
    *,
    first: tuple[str, str] | None = None,
    fields: tuple[str, str] = ("value", "label"),
    testid: str | None = None,
    placeholder: str | None = None,
    width: str | None = None,
    size: str | None = None,
    **root: object,
) -> rx.Component:
    """A dropdown of fixed ``(value, label)`` pairs or of a state list of items.

    ``fields`` names the value and label attributes of a state list's items; ``first`` is a
    leading ``(value, label)`` item such as ``("*", "全部租户")``. ``root`` goes to the select
    itself (``value``/``on_change``, or ``name``/``default_value`` inside a form).
    """
    if isinstance(options, rx.Var):
        value_of, label_of = fields
        items: list[rx.Component] = [
            rx.foreach(
                options,
                lambda item: rx.select.item(getattr(item, label_of), value=getattr(item, value_of)),
            )
        ]
    else:
        items = [rx.select.item(label, value=value) for value, label in options]
    if first is not None:
        items.insert(0, rx.select.item(first[1], value=first[0]))
    trigger = _given(placeholder=placeholder, width=width, size=size, data_testid=testid)
    return rx.select.root(rx.select.trigger(**trigger), rx.select.content(*items), **root)


def filter_select(
    state: type[rx.State],
    name: str,
    options: Options,
    *,
    all_label: str,
    **props: Any,
) -> rx.Component:
    """The list filter ``name`` of ``state`` (``form_state.FilterMixin``): 全部 (``*``), options."""
    return dropdown(
        options,
        first=("*", all_label),
        value=getattr(state, name),
        on_change=lambda value: state.set_filter(name, value),  # type: ignore[attr-defined]
        **props,
    )


def list_body(
    heading: rx.Component,
    bar: rx.Component,
    state: type[rx.State],
    table: rx.Component,
    *rest: rx.Component,
) -> rx.Component:
    """A list page's body: heading, toolbar, the load error, the table, then ``rest``."""
    return rx.vstack(
        heading,
        bar,
        error_callout(state.error),  # type: ignore[attr-defined]
        table,
        *rest,
        spacing="4",
        width="100%",
    )


def field(label: str, name: str, *, error: rx.Var[str] | str = "", **props: object) -> rx.Component:
    """A labelled text input of a form, full width unless ``width`` says otherwise."""
    width = props.pop("width", "100%")
    return labelled(label, rx.input(name=name, **_given(width=width), **props), error)


def submit_button(label: str, testid: str, **props: object) -> rx.Component:
    """A form's submit button."""
    return rx.button(label, type="submit", data_testid=testid, **props)


def secret_notice(text: str) -> rx.Component:
    """The amber warning above a secret that is shown only this once."""
    return rx.callout(text, icon="key-round", color_scheme="amber")


def upload_bar(
    running: rx.Var[bool],
    summary: rx.Var[str],
    *buttons: rx.Component,
    testid: str,
    cancel: str = "关闭",
) -> rx.Component:
    """An upload dialog's status line: spinner and summary, then close and ``buttons``."""
    return rx.hstack(
        rx.cond(running, rx.spinner()),
        rx.text(summary, size="2", data_testid=testid),
        rx.spacer(),
        rx.dialog.close(rx.button(cancel, variant="soft")),
        *buttons,
        width="100%",
        align="center",
        margin_y="12px",
    )


def dialog(
    state: type[rx.State],
    name: str,
    title: Title,
    *children: rx.Component,
    max_width: str | None = "520px",
    on_open_change: Callable[[bool], object] | object | None = None,
) -> rx.Component:
    """The dialog ``name`` of ``state``: open while ``<name>_open``; a title, then ``children``."""
    parts = title if isinstance(title, tuple) else (title,)

    def set_open(value: rx.Var[bool]) -> rx.event.EventSpec:
        return state.set_open(name, value)  # type: ignore[attr-defined]

    return rx.dialog.root(
        rx.dialog.content(rx.dialog.title(*parts), *children, **_given(max_width=max_width)),
        open=getattr(state, f"{name}_open"),
        on_open_change=set_open if on_open_change is None else on_open_change,
    )


def form_dialog(
    state: type[rx.State],
    name: str,
    title: Title,
    *children: rx.Component,
    on_submit: object,
    submit: rx.Component,
    cancel: str = "取消",
    max_width: str = "520px",
    on_open_change: object | None = None,
    **form_props: object,
) -> rx.Component:
    """A dialog holding one form: ``children`` (fields, the form's error), 取消 and ``submit``."""
    form = rx.form(
        rx.vstack(*children, form_footer(submit, cancel=cancel), spacing="3"),
        on_submit=on_submit,
        **form_props,
    )
    return dialog(state, name, title, form, max_width=max_width, on_open_change=on_open_change)


def delete_confirm(
    state: type[rx.State],
    title: str,
    before: str,
    after: str,
    *,
    label: str = "删除",
    testid: str = "confirm-ok",
) -> rx.Component:
    """Confirm the deletion a row asked for (``PagedListMixin.ask_delete``), naming the item."""
    return confirm_dialog(
        title=title,
        description=[before, state.delete_name, after],  # type: ignore[attr-defined]
        open_=state.delete_open,  # type: ignore[attr-defined]
        on_open_change=state.set_delete_open,  # type: ignore[attr-defined]
        on_confirm=state.delete,  # type: ignore[attr-defined]
        confirm_label=label,
        testid=testid,
    )
