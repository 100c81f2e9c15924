"""Small building blocks shared by every page."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import reflex as rx

from console.ui.date_field import date_field


def page_heading(title: str, summary: str = "") -> rx.Component:
    """Page title with a one-line explanation under it."""
    return rx.vstack(
        rx.heading(title, size="6", as_="h1"),
        rx.cond(summary != "", rx.text(summary, color_scheme="gray", size="2")),
        spacing="1",
        margin_bottom="16px",
    )


def field_error(message: rx.Var[str] | str) -> rx.Component:
    """Red message under a form field, present only when there is something to say."""
    return rx.cond(
        message != "",
        rx.text(message, color="var(--red-11)", size="1", role="alert"),
    )


def error_callout(message: rx.Var[str] | str, *, testid: str = "form-error") -> rx.Component:
    """Red callout for a whole-form error."""
    return rx.cond(
        message != "",
        rx.callout(
            message,
            icon="triangle-alert",
            color_scheme="red",
            role="alert",
            data_testid=testid,
            width="100%",
        ),
    )


def pager(
    *,
    page: rx.Var[int],
    pages: rx.Var[int],
    total: rx.Var[int],
    on_prev,
    on_next,
) -> rx.Component:
    """Server-side paging controls with the total count."""
    return rx.hstack(
        rx.text(
            "共 ",
            total,
            " 条 · 第 ",
            page,
            " / ",
            pages,
            " 页",
            size="2",
            color_scheme="gray",
            data_testid="pager-text",
        ),
        rx.spacer(),
        rx.button(
            rx.icon("chevron-left", size=14),
            "上一页",
            variant="soft",
            size="1",
            disabled=page <= 1,
            on_click=on_prev,
            data_testid="pager-prev",
        ),
        rx.button(
            "下一页",
            rx.icon("chevron-right", size=14),
            variant="soft",
            size="1",
            disabled=page >= pages,
            on_click=on_next,
            data_testid="pager-next",
        ),
        width="100%",
        align="center",
        padding_top="8px",
    )


def empty_state(message: str, hint: str) -> rx.Component:
    """What an empty list says, and what to do next."""
    return rx.center(
        rx.vstack(
            rx.icon("inbox", size=32, color="var(--gray-8)"),
            rx.text(message, weight="medium"),
            rx.text(hint, size="2", color_scheme="gray"),
            align="center",
            spacing="1",
        ),
        padding="32px",
        width="100%",
        data_testid="empty-state",
    )


def labelled(label: str, control: rx.Component, error: rx.Var[str] | str = "") -> rx.Component:
    """A form field: label, control, live error under it."""
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium"),
        control,
        field_error(error),
        spacing="1",
        width="100%",
    )


def status_badge(
    label: rx.Var[str],
    status: rx.Var[str],
    colours: dict[str, str] | None = None,
    *,
    otherwise: str = "red",
    testid: str | None = None,
) -> rx.Component:
    """Coloured status; by default green for active, amber for locked, red for anything else."""
    pairs = (colours or {"active": "green", "locked": "amber"}).items()
    colour = rx.match(status, *pairs, otherwise)
    extra = {"data_testid": testid} if testid else {}
    return rx.badge(label, color_scheme=colour, variant="soft", **extra)


def list_table(
    state: type[rx.State],
    columns: tuple[str, ...],
    row: Callable[[rx.Var], rx.Component],
    *,
    empty: tuple[str, str],
    paged: bool = True,
    size: str = "2",
    leading_columns: rx.Var[list[str]] | None = None,
) -> rx.Component:
    """A list page's table: rows, pager, spinner while loading, empty state when nothing.

    ``leading_columns`` are headers that change with the data (before the fixed ``columns``).
    """
    headers = [rx.table.column_header_cell(c) for c in columns]
    if leading_columns is not None:
        headers.insert(0, rx.foreach(leading_columns, rx.table.column_header_cell))
    table = rx.table.root(
        rx.table.header(rx.table.row(*headers)),
        rx.table.body(rx.foreach(state.rows, row)),  # type: ignore[attr-defined]
        width="100%",
        variant="surface",
        size=size,
    )
    if paged:
        table = rx.vstack(
            table,
            pager(
                page=state.page,
                pages=state.pages,
                total=state.total,  # type: ignore[attr-defined]
                on_prev=state.previous_page,
                on_next=state.next_page,
            ),  # type: ignore[attr-defined]
            width="100%",
        )
    return rx.cond(
        state.total > 0,  # type: ignore[attr-defined]
        table,
        rx.cond(state.loading, rx.center(rx.spinner(), padding="32px"), empty_state(*empty)),  # type: ignore[attr-defined]
    )


def confirm_dialog(
    *,
    title: rx.Component | str,
    description: list,
    open_: rx.Var[bool],
    on_open_change: rx.EventHandler,
    on_confirm: rx.EventHandler,
    confirm_label: str = "确定",
    testid: str = "confirm-ok",
) -> rx.Component:
    """Ask before anything destructive; red confirm button, cancel by default."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(*description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("取消", variant="soft")),
                rx.alert_dialog.action(
                    rx.button(
                        confirm_label, color_scheme="red", on_click=on_confirm, data_testid=testid
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=open_,
        on_open_change=on_open_change,
    )


def file_picker(
    upload_id: str, hint: str, accept: dict[str, list[str]], testid: str
) -> rx.Component:
    """Drop zone for one uploaded file, naming the chosen file."""
    return rx.upload(
        rx.vstack(
            rx.icon("file-up", size=24),
            rx.text(hint, size="2"),
            rx.foreach(rx.selected_files(upload_id), lambda name: rx.code(name)),
            align="center",
        ),
        id=upload_id,
        max_files=1,
        multiple=False,
        accept=accept,
        border="1px dashed var(--gray-7)",
        padding="16px",
        width="100%",
        data_testid=testid,
    )


def scroll_table(
    headers: tuple[str, ...],
    items: rx.Var,
    row: Callable[[rx.Var], rx.Component],
    *,
    testid: str,
    max_height: str = "40vh",
) -> rx.Component:
    """A small table inside a dialog that scrolls instead of growing past the screen."""
    return rx.scroll_area(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(items, row)),
            size="1",
            data_testid=testid,
        ),
        max_height=max_height,
        type="auto",
    )


def search_box(
    on_submit: rx.EventHandler, placeholder: str, testid: str, *, width: str = "240px"
) -> rx.Component:
    """A list's keyword search: Enter or the button runs it from page 1."""
    return rx.form(
        rx.hstack(
            rx.input(name="keyword", placeholder=placeholder, width=width, data_testid=testid),
            rx.button(rx.icon("search", size=14), "查询", type="submit", variant="soft"),
        ),
        on_submit=on_submit,
    )


def option_select(
    options: list[tuple[str, str]] | rx.Var,
    *,
    value: rx.Var[str],
    on_change: rx.EventHandler,
    testid: str = "",
) -> rx.Component:
    """A dropdown of fixed (value, label) pairs."""
    items = [rx.select.item(label, value=v) for v, label in options]  # type: ignore[union-attr]
    return rx.select.root(
        rx.select.trigger(data_testid=testid or None),
        rx.select.content(*items),
        value=value,
        on_change=on_change,
    )


def form_footer(submit: rx.Component, *, cancel: str = "取消") -> rx.Component:
    """A dialog form's buttons: 取消 (or ``cancel``: closes, changes nothing) and the submit."""
    return rx.hstack(
        rx.dialog.close(rx.button(cancel, variant="soft", type="button")),
        submit,
        justify="end",
        width="100%",
    )


def close_footer() -> rx.Component:
    """A read-only dialog's 关闭 button."""
    return rx.hstack(
        rx.dialog.close(rx.button("关闭", variant="soft")), justify="end", margin_top="12px"
    )


def create_button(
    allowed: rx.Var[bool], label: str, on_click: rx.EventHandler, testid: str
) -> rx.Component:
    """A list's 新增 button, shown only to those who may write (the service checks anyway)."""
    return rx.cond(
        allowed,
        rx.button(rx.icon("plus", size=14), label, on_click=on_click, data_testid=testid),
    )


def export_menu(
    formats: Sequence[tuple[str, str]],
    on_export: Callable[[str], rx.event.EventSpec],
    *,
    loading: rx.Var[bool] | bool,
    testid: str,
) -> rx.Component:
    """An 导出 button opening one item per format (``(format, label)``)."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("download", size=14),
                "导出",
                size="1",
                variant="soft",
                loading=loading,
                data_testid=testid,
            )
        ),
        rx.menu.content(
            *[
                rx.menu.item(label, on_click=on_export(fmt), data_testid=f"{testid}-{fmt}")
                for fmt, label in formats
            ]
        ),
    )


def period_picker(state: type[rx.State]) -> rx.Component:
    """Start and end day of a dashboard page, and a refresh button (``PeriodMixin`` states)."""

    def day(name: str, value: rx.Var) -> rx.Component:
        return date_field(
            testid=f"period-{name}",
            value=value,
            on_change=lambda v: state.set_period(name, v),  # type: ignore[attr-defined]
            width="140px",
        )

    return rx.hstack(
        day("start", state.start),  # type: ignore[attr-defined]
        rx.text("至", size="2"),
        day("end", state.end),  # type: ignore[attr-defined]
        rx.button(
            rx.icon("refresh-cw", size=14),
            "刷新",
            size="1",
            variant="soft",
            loading=state.loading,  # type: ignore[attr-defined]
            on_click=state.load,  # type: ignore[attr-defined]
        ),
        align="center",
        spacing="2",
    )


def simple_table(
    columns: Sequence[str],
    items: rx.Var,
    row: Callable[[rx.Var], rx.Component],
    *,
    testid: str | None = None,
    size: str = "1",
    variant: str | None = None,
) -> rx.Component:
    """A plain table of fixed columns (a dashboard's breakdown, a settings list; no paging)."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in columns])),
        rx.table.body(rx.foreach(items, row)),
        size=size,
        width="100%",
        **({"data_testid": testid} if testid else {}),
        **({"variant": variant} if variant else {}),
    )


def card_header(title: str, *actions: rx.Component) -> rx.Component:
    """A card's section heading (h2) with its buttons on the right."""
    return rx.hstack(
        rx.heading(title, size="4", as_="h2"),
        rx.spacer(),
        *actions,
        width="100%",
        align="center",
    )
