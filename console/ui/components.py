"""Small building blocks shared by every page."""

from __future__ import annotations

import reflex as rx


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


def status_badge(label: rx.Var[str], status: rx.Var[str]) -> rx.Component:
    """Coloured status: green for active, red for disabled/suspended, amber for locked."""
    colour = rx.match(status, ("active", "green"), ("locked", "amber"), "red")
    return rx.badge(label, color_scheme=colour, variant="soft")
