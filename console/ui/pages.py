"""Pages of the shell itself: the 404 page."""

from __future__ import annotations

import reflex as rx

from console.ui import theme


def not_found() -> rx.Component:
    """404: say so in Chinese and offer the way home."""
    return rx.center(
        rx.vstack(
            rx.heading("404", size="9", color_scheme="indigo"),
            rx.heading("页面不存在", size="5", as_="h1"),
            rx.text("您访问的地址不存在或已被移除，请检查地址或返回首页。", color_scheme="gray"),
            rx.link(rx.button("返回首页"), href="/"),
            align="center",
            spacing="3",
        ),
        height="100vh",
        font_family=theme.FONT_STACK,
    )
