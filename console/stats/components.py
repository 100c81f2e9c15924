"""What every dashboard page shows first: title, period, error, the sentences, the chart."""

from __future__ import annotations

import reflex as rx

from console.ui.charts import chart
from console.ui.components import error_callout, page_heading, period_picker
from console.ui.navigation import Section


def sentences_card(sentences: rx.Var, *, testid: str, title: str = "") -> rx.Component:
    """The generated sentences that say what the figures show (under an optional title)."""
    heading = [rx.text(title, weight="bold")] if title else []
    return rx.card(
        rx.vstack(*heading, rx.foreach(sentences, lambda s: rx.text(s, size="2")), spacing="1"),
        width="100%",
        data_testid=testid,
    )


def chart_box(figure: rx.Var, *, testid: str, **plotly_props: object) -> rx.Component:
    """A Plotly chart at full width (the box carries the test id; Plotly's own div cannot)."""
    return rx.box(chart(figure, **plotly_props), width="100%", data_testid=testid)


def dashboard_head(section: Section, state: type[rx.State], *, testid: str) -> list[rx.Component]:
    """Heading, period picker, error, sentences and chart of a ``PeriodMixin`` page."""
    return [
        page_heading(section.label, section.summary),
        period_picker(state),
        error_callout(state.error),  # type: ignore[attr-defined]
        sentences_card(state.sentences, testid=f"{testid}-text"),  # type: ignore[attr-defined]
        chart_box(state.chart, testid=f"{testid}-chart"),  # type: ignore[attr-defined]
    ]
