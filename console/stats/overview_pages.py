"""概览 page: key figures with their change and trend, what they say, and the last 30 days."""

from __future__ import annotations

import reflex as rx

from console.stats.components import chart_box, sentences_card
from console.stats.overview_state import CardView, OverviewState
from console.ui.components import error_callout, page_heading
from console.ui.date_field import date_field
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("overview")


def _card(card: CardView) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(card.label, size="2", color_scheme="gray"),
            rx.text(card.shown, size="6", weight="bold", data_testid=f"kpi-value-{card.key}"),
            rx.text(card.change, size="1", color_scheme=card.tone),
            rx.recharts.line_chart(
                rx.recharts.line(data_key="v", stroke="#3e63dd", dot=False, stroke_width=2),
                data=card.trend,
                width="100%",
                height=36,
            ),
            spacing="1",
            width="100%",
        ),
        data_testid=f"kpi-{card.key}",
    )


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.text("统计截至", size="2"),
        date_field(
            testid="overview-day",
            # Until a day is picked, the day the figures are as of.
            value=rx.cond(
                OverviewState.picked_day != "", OverviewState.picked_day, OverviewState.as_of
            ),
            on_change=OverviewState.pick_day,
            width="140px",
        ),
        rx.button(
            rx.icon("refresh-cw", size=14),
            "刷新",
            size="1",
            variant="soft",
            loading=OverviewState.loading,
            on_click=OverviewState.load,
            data_testid="overview-refresh",
        ),
        align="center",
        spacing="2",
    )


def overview_page() -> rx.Component:
    """The page."""
    body = rx.vstack(
        page_heading(SECTION.label, SECTION.summary),
        _toolbar(),
        error_callout(OverviewState.error),
        rx.grid(
            rx.foreach(OverviewState.cards, _card),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="3",
            width="100%",
        ),
        sentences_card(OverviewState.sentences, testid="overview-text", title="情况说明"),
        chart_box(OverviewState.chart, testid="overview-chart"),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
