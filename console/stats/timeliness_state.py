"""State of the 办理时效 page."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go
import reflex as rx

from console.dictionaries import lookup
from console.dictionaries.lookup import DIVISION_TYPE
from console.logs.labels import named
from console.logs.search import trace_url
from console.stats.period import PeriodMixin
from console.stats.service import StatsQuery
from console.stats.timeliness_service import (
    LateCase,
    Timeliness,
    may_set_limits,
    set_time_limit,
    timeliness,
)
from console.ui.actions import call
from console.ui.effects_state import toast
from console.ui.list_state import PagedListMixin
from console.workflows.models import LEGAL_LIMIT_WORKDAYS


@dataclasses.dataclass(frozen=True)
class BusinessView:
    """One business's row."""

    code: str
    label: str
    limit: str
    limit_days: int
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
        b.business_code, b.label, f"{b.limit_workdays} 个工作日", b.limit_workdays,
        f"{b.completed:,}",
        f"{b.on_time:,}", rate, _hours(b.p50_hours), _hours(b.p90_hours),
        b.on_time_rate is not None and b.on_time_rate < 0.95,
    )  # fmt: skip


def _late(case: LateCase) -> LateView:
    used = f"{case.workdays} / {case.limit_workdays}"
    url = trace_url(case.case_no)
    business = named(lookup.label("business_code", case.business_code), case.business_code)
    place = named(lookup.label(DIVISION_TYPE, case.tenant), case.tenant)
    return LateView(place, case.case_no, business, case.accepted, used, url)


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
    can_edit_limits: bool = False
    # The 承诺时限 dialog.
    limit_open: bool = False
    limit_code: str = ""
    limit_label: str = ""
    limit_days: str = ""
    limit_basis: str = ""
    limit_error: str = ""
    saving: bool = False

    @rx.event(background=True)
    async def load(self):
        """Compute the page off the event loop."""

        def prepare():
            query = StatsQuery(*self._period())
            return lambda s, a: (
                timeliness(session=s, actor=a, query=query),
                may_set_limits(a),
            )

        def show(value: tuple[Timeliness, bool]):
            result, self.can_edit_limits = value
            self.businesses = [_business(b) for b in result.businesses]
            self.late = [_late(c) for c in result.late]
            self.open_overdue = [_late(c) for c in result.open_overdue]
            self.sentences = result.sentences
            self.chart = _box(result)

        async for event in self._load_page(prepare, show):
            yield event

    # --- promised limits ------------------------------------------------------------------

    @rx.event
    def open_limit(self, code: str, label: str, days: int) -> None:
        """Edit one business's promised limit."""
        self.limit_code, self.limit_label, self.limit_days = code, label, str(days)
        self.limit_basis, self.limit_error, self.limit_open = "", "", True

    @rx.event
    def set_limit_open(self, value: bool) -> None:
        """Close the dialog."""
        self.limit_open = value

    @rx.event
    def set_limit_days(self, value: str) -> None:
        """Check the limit as it is typed."""
        self.limit_days, self.limit_error = value, _limit_error(value)

    @rx.event
    def set_limit_basis(self, value: str) -> None:
        """The basis of the limit (e.g. the county's published promise)."""
        self.limit_basis = value

    @rx.event(background=True)
    async def save_limit(self):
        """Save the limit (province administrators; checked and logged by the service)."""
        async with self:
            self.limit_error = _limit_error(self.limit_days)
            if self.limit_error:
                return
            code, days, basis = self.limit_code, int(self.limit_days), self.limit_basis
            token, self.saving = await self._token(), True
        outcome = await call(
            token,
            lambda s, a: set_time_limit(
                session=s, actor=a, business_code=code, workdays=days, basis=basis
            ),
        )
        async with self:
            self.saving = False
            if outcome.ok:
                self.limit_open = False
        if not outcome.ok:
            yield toast.error(outcome.error_text)
            return
        yield toast.success("承诺时限已更新，按时办结率已按新时限重算")
        yield TimelinessState.load


def _limit_error(text: str) -> str:
    """Why a typed limit is not acceptable ('' when it is)."""
    value = text.strip()
    if not value.isdigit() or not 0 <= int(value) <= LEGAL_LIMIT_WORKDAYS:
        return f"承诺时限：应为 0 到 {LEGAL_LIMIT_WORKDAYS} 之间的整数（工作日）"
    return ""
