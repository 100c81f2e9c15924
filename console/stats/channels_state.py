"""State of the 机构通道统计 page: institutions' cases and rejections, channels' refusals."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go
import reflex as rx

from console.logs.search import search_url
from console.stats.channels_service import ChannelStats, channel_stats
from console.stats.period import PeriodMixin
from console.stats.service import StatsQuery
from console.ui.list_state import PagedListMixin

TOP_INSTITUTIONS = 15


@dataclasses.dataclass(frozen=True)
class InstitutionView:
    """An institution's row."""

    channel: str
    institution: str
    received: str
    completed: str
    rejected: str
    rate: str
    hours: str
    flagged: bool
    cases_url: str  # its case events on 日志审计


@dataclasses.dataclass(frozen=True)
class ChannelView:
    """A channel's row."""

    tenant: str
    name: str
    kind: str
    calls: str
    refusals: str
    rate: str
    flagged: bool


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _chart(stats: ChannelStats) -> go.Figure:
    top = stats.institutions[:TOP_INSTITUTIONS]
    figure = go.Figure()
    figure.add_bar(
        x=[i.institution for i in top],
        y=[i.received for i in top],
        name="受理件数",
        marker_color=["#e5484d" if i.flagged else "#3e63dd" for i in top],
    )
    figure.update_layout(
        title=f"受理量前 {TOP_INSTITUTIONS} 的机构（红色：驳回率超过提醒阈值）",
        height=360,
        margin={"l": 40, "r": 10, "t": 40, "b": 120},
    )
    return figure


class ChannelStatsState(PeriodMixin, PagedListMixin, rx.State):
    """机构通道统计."""

    institutions: list[InstitutionView] = []
    channels: list[ChannelView] = []
    sentences: list[str] = []
    chart: go.Figure = go.Figure()

    @rx.event(background=True)
    async def load(self):
        """Compute the page off the event loop."""

        def prepare():
            query = StatsQuery(*self._period())
            return lambda s, a: (query, channel_stats(session=s, actor=a, query=query))

        def show(value: tuple[StatsQuery, ChannelStats]):
            query, stats = value
            self.institutions = [
                InstitutionView(
                    i.channel,
                    i.institution,
                    f"{i.received:,}",
                    f"{i.completed:,}",
                    f"{i.rejected:,}",
                    _rate(i.rejection_rate),
                    "—" if i.avg_hours is None else f"{i.avg_hours:.1f}",
                    i.flagged,
                    search_url("case_event", query.start, query.end, text=i.institution),
                )
                for i in stats.institutions
            ]
            self.channels = [
                ChannelView(
                    c.tenant_code,
                    c.name,
                    c.kind,
                    f"{c.calls:,}",
                    f"{c.refusals:,}",
                    _rate(c.refusal_rate),
                    c.flagged,
                )
                for c in stats.channels
            ]
            self.sentences = stats.sentences
            self.chart = _chart(stats)

        async for event in self._load_page(prepare, show):
            yield event
