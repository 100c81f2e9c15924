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
