"""State of the 办理时效 page."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go
import reflex as rx

from console.logs.search import trace_url
from console.stats.period import PeriodMixin
from console.stats.service import StatsQuery
from console.stats.timeliness_service import LateCase, Timeliness, timeliness
from console.ui.list_state import PagedListMixin


@dataclasses.dataclass(frozen=True)
class BusinessView:
    """One business's row."""

    code: str
    label: str
    limit: str
    completed: str
    on_time: str
    rate: str
    p50: str
    p90: str
    worrying: bool


@dataclasses.dataclass(frozen=True)
class LateView:
    """A late case's row; its number opens the trace."""

    tenant: str
    case_no: str
    business_code: str
    accepted: str
    workdays: str
    trace_url: str


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _business(b) -> BusinessView:
    rate = "—" if b.on_time_rate is None else f"{b.on_time_rate:.1%}"
    return BusinessView(
        b.business_code, b.label, f"{b.limit_workdays} 个工作日", f"{b.completed:,}",
        f"{b.on_time:,}", rate, _hours(b.p50_hours), _hours(b.p90_hours),
        b.on_time_rate is not None and b.on_time_rate < 0.95,
    )  # fmt: skip


def _late(case: LateCase) -> LateView:
    used = f"{case.workdays} / {case.limit_workdays}"
    url = trace_url(case.case_no)
    return LateView(case.tenant, case.case_no, case.business_code, case.accepted, used, url)


def _box(result: Timeliness) -> go.Figure:
    figure = go.Figure()
    for b in result.businesses:
        if b.p50_hours is None:
            continue
        figure.add_box(
            name=b.label,
            x=[b.label],  # without it every box stacks on one unnamed category
            q1=[b.q1_hours],
            median=[b.p50_hours],
            q3=[b.q3_hours],
            lowerfence=[b.min_hours],
            upperfence=[b.max_hours],
            showlegend=False,
        )
    figure.update_layout(
        title="各业务办理时长分布（小时，受理至办结）",
        height=380,
        margin={"l": 50, "r": 10, "t": 40, "b": 100},
        # One tick per decade: the default log ticks (2, 5 between decades) clutter the axis.
        yaxis={"type": "log", "dtick": 1},
    )
    return figure


class TimelinessState(PeriodMixin, PagedListMixin, rx.State):
    """办理时效."""

    businesses: list[BusinessView] = []
    late: list[LateView] = []
    open_overdue: list[LateView] = []
    sentences: list[str] = []
    chart: go.Figure = go.Figure()

    @rx.event(background=True)
    async def load(self):
        """Compute the page off the event loop."""

        def prepare():
            query = StatsQuery(*self._period())
            return lambda s, a: timeliness(session=s, actor=a, query=query)

        def show(result: Timeliness):
            self.businesses = [_business(b) for b in result.businesses]
            self.late = [_late(c) for c in result.late]
            self.open_overdue = [_late(c) for c in result.open_overdue]
            self.sentences = result.sentences
            self.chart = _box(result)

        async for event in self._load_page(prepare, show):
            yield event
