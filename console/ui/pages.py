"""Pages of the shell itself: honest "建设中" pages and the 404 page."""

from __future__ import annotations

import reflex as rx

from console.ui import theme
from console.ui.components import page_heading
from console.ui.navigation import Section
from console.ui.shell import shell


def under_construction(section: Section) -> rx.Component:
    """What this section will offer; nothing on it pretends to work yet."""
    planned = [rx.list.item(item) for item in section.planned]
    body = rx.vstack(
        page_heading(section.label, section.summary),
        rx.callout(
            "本模块建设中，下列功能将在后续版本提供；当前页面不提供任何数据或操作。",
            icon="construction",
            color_scheme="amber",
            data_testid="under-construction",
        ),
        rx.card(
            rx.text("规划功能", weight="bold", size="3"),
            rx.list.unordered(*planned, margin_top="8px"),
            width="100%",
            max_width="720px",
        ),
        spacing="4",
        width="100%",
    )
    return shell(body, title=section.label, section=section)


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
