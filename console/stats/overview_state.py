"""State of the 概览 page: the cards, their trends, the sentences and the 30-day chart."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

import plotly.graph_objects as go
import reflex as rx
from sqlmodel import Session

from console.core.actor import Actor
from console.core.clock import CHINA_TZ, local_day, utcnow
from console.stats.overview_service import Kpi, Overview, overview
from console.ui.charts import day_axis
from console.ui.list_state import PagedListMixin


@dataclasses.dataclass(frozen=True)
class CardView:
    """One card as the page shows it; ``trend`` feeds the sparkline."""

    key: str
    label: str
    shown: str
    change: str
    tone: str  # green / red / gray: whether the change is good news
    trend: list[dict[str, float | None]]


_LOWER_IS_BETTER = {"avg_hours"}


def _tone(kpi: Kpi) -> str:
    if not kpi.direction:
        return "gray"
    better = (kpi.direction > 0) != (kpi.key in _LOWER_IS_BETTER)
    return "green" if better else "red"


def _card(kpi: Kpi) -> CardView:
    # A day without a figure stays a gap in the line, not a squeezed axis.
    trend = [{"v": None if v is None else round(v, 4)} for v in kpi.trend]
    return CardView(kpi.key, kpi.label, kpi.shown, kpi.change, _tone(kpi), trend)


def _trend_chart(result: Overview) -> go.Figure:
    cards = {kpi.key: kpi for kpi in result.kpis}
    figure = go.Figure()
    for key, name, colour in (("received", "受理", "#3e63dd"), ("completed", "办结", "#30a46c")):
        figure.add_bar(x=result.trend_days, y=cards[key].trend, name=name, marker_color=colour)
    figure.update_layout(
        title="近 30 天每日受理与办结（件）",
        barmode="group",
        height=320,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        xaxis=day_axis(len(result.trend_days)),
    )
    return figure


def _page(session: Session, actor: Actor, moment: datetime) -> tuple:
    """Cards, sentences, chart and day, built in the worker thread."""
    result = overview(session=session, actor=actor, now=moment)
    cards = [_card(kpi) for kpi in result.kpis]
    return cards, result.sentences, _trend_chart(result), result.as_of


class OverviewState(PagedListMixin, rx.State):
    """概览 (the mixin gives loading, errors and the session)."""

    cards: list[CardView] = []
    sentences: list[str] = []
    chart: go.Figure = go.Figure()
    as_of: str = ""
    picked_day: str = ""

    @rx.event(background=True)
    async def load(self):
        """Compute the figures off the event loop; the page stays responsive meanwhile."""

        def prepare():
            moment = _moment_of(self.picked_day)
            return lambda s, a: _page(s, a, moment)

        def show(built: tuple):
            self.cards, self.sentences, self.chart, self.as_of = built

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event
    def pick_day(self, value: str):
        """Look at the figures as of another day (empty = now)."""
        self.picked_day = value
        return OverviewState.load


def _moment_of(picked: str) -> datetime:
    """Now, or the end of a past day picked on the page."""
    if not picked:
        return utcnow()
    day = date.fromisoformat(picked)
    if day >= local_day():
        return utcnow()
    return datetime.combine(day + timedelta(days=1), time(0), CHINA_TZ) - timedelta(seconds=1)
