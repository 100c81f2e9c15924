"""State of the 统计分析 page: cases by region, time, type and channel, crossed, drilled down."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import plotly.graph_objects as go
import polars as pl
import reflex as rx
from sqlmodel import Session

from console.authz.service import can
from console.core.actor import Actor
from console.core.exporting import XLSX_MIME, render
from console.core.paging import PageRequest
from console.stats import service, views_service
from console.stats.period import PeriodMixin
from console.stats.service import (
    DIMENSION_LABELS,
    MEASURE_STEP,
    MEASURES,
    TIME_KEYS,
    CaseRow,
    StatsQuery,
)
from console.ui.actions import call
from console.ui.charts import day_axis, month_axis
from console.ui.choice import Choice
from console.ui.effects_state import toast
from console.ui.list_state import PagedListMixin

DRILL_PAGE = 20
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclasses.dataclass(frozen=True)
class BreakdownRow:
    """One group of the breakdown table: its code (for drilling) and its figures as text."""

    code: str
    label: str
    cells: list[str]


@dataclasses.dataclass(frozen=True)
class Controls:
    """What the page asks for, read inside the state lock and handed to the worker."""

    query: StatsQuery
    key: str  # the column grouped by
    cross: str  # a second column, or ""
    measure: str
    chart_kind: str


@dataclasses.dataclass(frozen=True)
class Breakdown:
    """Everything the page shows, built in the worker thread."""

    headers: list[str]
    rows: list[BreakdownRow]
    sentences: list[str]
    chart: go.Figure
    heatmap: go.Figure | None
    can_export: bool
    quality: list[str]  # 数据质量: sent 登记类型 that disagree with the business dictionary


def _cell(value: object, measure: str) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if measure == "avg_hours" else f"{int(value):,}"


def _number(cell: str) -> float | int | None:
    """A figure as ``_cell`` shows it, back as a number (a typed cell in the XLSX export)."""
    if cell == "—":
        return None
    text = cell.replace(",", "")
    return float(text) if "." in text else int(text)


def _heatmap(hours: pl.DataFrame) -> go.Figure:
    """受理 by weekday × hour: when people come."""
    grid = [[0] * 24 for _ in WEEKDAYS]
    for weekday, hour, cases in hours.iter_rows():
        grid[weekday - 1][hour] = cases
    figure = go.Figure(
        go.Heatmap(z=grid, x=[f"{h}时" for h in range(24)], y=list(WEEKDAYS), colorscale="Blues")
    )
    figure.update_layout(
        title="受理时段分布（星期 × 小时，北京时间）",
        height=300,
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        yaxis={"autorange": "reversed"},
    )
    return figure


def _figure(labels: list[str], values: list, controls: Controls) -> go.Figure:
    figure, name = go.Figure(), MEASURES[controls.measure]
    if controls.chart_kind == "pie":
        figure.add_pie(labels=labels, values=values, sort=False, hole=0.35)
    elif controls.chart_kind == "line" or (
        controls.chart_kind == "auto" and controls.key in TIME_KEYS
    ):
        figure.add_scatter(x=labels, y=values, mode="lines+markers", name=name)
    else:
        figure.add_bar(x=labels, y=values, name=name, marker_color="#3e63dd")
    figure.update_layout(
        title=f"{name} · 按{DIMENSION_LABELS.get(controls.key, controls.key)}（点击柱形下钻）",
        height=380,
        margin={"l": 40, "r": 10, "t": 40, "b": 80},
    )
    if controls.key in ("day", "week") and controls.chart_kind != "pie":
        every = 7 if controls.key == "week" else 1
        figure.update_xaxes(**day_axis(len(labels), every_days=every))
    elif controls.key == "month" and controls.chart_kind != "pie":
        figure.update_xaxes(**month_axis(len(labels)))
    return figure


def _single(frame: pl.DataFrame, controls: Controls, label: Callable[[object], str]) -> tuple:
    """Headers, rows and chart of a breakdown by one dimension."""
    codes = ["" if c is None else str(c) for c in frame.get_column(controls.key).to_list()]
    labels = [label(code) for code in codes]
    rows = [
        BreakdownRow(code, text, [_cell(row[m], m) for m in MEASURES])
        for code, text, row in zip(codes, labels, frame.iter_rows(named=True), strict=True)
    ]
    headers = [DIMENSION_LABELS.get(controls.key, controls.key), *MEASURES.values()]
    values = frame.get_column(controls.measure).to_list()
    return headers, rows, _figure(labels, values, controls)


def _crossed(
    frame: pl.DataFrame, controls: Controls, label: Callable[[object], str], across: Callable
) -> tuple:
    """Headers, rows and stacked chart of a breakdown by two dimensions."""
    key, measure = controls.key, controls.measure
    pivot = frame.pivot(on=controls.cross, index=key, values=measure, aggregate_function="sum")
    pivot = pivot.sort(key)
    columns = [c for c in pivot.columns if c != key]
    headers = [DIMENSION_LABELS.get(key, key), *[across(c) for c in columns]]
    rows = [
        BreakdownRow(str(row[key]), label(row[key]), [_cell(row[c], measure) for c in columns])
        for row in pivot.iter_rows(named=True)
    ]
    figure = go.Figure()
    x = [label(v) for v in pivot.get_column(key).to_list()]
    for column in columns:
        figure.add_bar(x=x, y=pivot.get_column(column).to_list(), name=across(column))
    figure.update_layout(barmode="stack", height=380, margin={"l": 40, "r": 10, "t": 30, "b": 80})
    return headers, rows, figure


def breakdown(session: Session, actor: Actor, controls: Controls) -> Breakdown:
    """The page's figures, table, sentences and charts (runs in the worker thread)."""
    query, key = controls.query, controls.key
    label = service.labeller(session=session, actor=actor, dimension=key)
    totals = service.case_stats(actor=actor, query=query)
    sentences = service.describe_breakdown(totals, key, controls.measure, label)
    if totals.is_empty():
        headers, rows, chart = [], [], go.Figure()
    elif controls.cross:
        crossed = dataclasses.replace(query, group_by=(key, controls.cross))
        across = service.labeller(session=session, actor=actor, dimension=controls.cross)
        frame = service.case_stats(actor=actor, query=crossed)
        headers, rows, chart = _crossed(frame, controls, label, across)
    else:
        headers, rows, chart = _single(totals, controls, label)
    hours = service.accept_heatmap(actor=actor, query=query) if key in TIME_KEYS else None
    quality = service.describe_mismatches(
        service.registration_type_mismatches(actor=actor, query=query),
        service.labeller(session=session, actor=actor, dimension="tenant"),
        service.labeller(session=session, actor=actor, dimension="registration_type"),
    )
    return Breakdown(
        headers,
        rows,
        sentences,
        chart,
        None if hours is None else _heatmap(hours),
        can(actor, service.OBJ, "export"),
        quality,
    )


class StatisticsState(PeriodMixin, PagedListMixin, rx.State):
    """统计分析 (the mixins give the period, loading, errors, the session and drill paging)."""

    measure: str = "received"
    dimension: str = "region"
    grain: str = "month"
    cross: str = "none"
    chart_kind: str = "auto"  # auto (bars, lines over time) / bar / line / pie
    channel: str = "all"  # only cases of one channel
    city: str = ""  # the city a province reader drilled into
    city_label: str = ""
    chart: go.Figure = go.Figure()
    heatmap: go.Figure = go.Figure()
    headers: list[str] = []
    rows: list[BreakdownRow] = []
    sentences: list[str] = []
    quality: list[str] = []
    can_export: bool = False
    exporting: bool = False
    drill_title: str = ""
    drill_rows: list[CaseRow] = []
    _drill_code: str = ""
    views: list[Choice] = []
    share_choices: list[Choice] = []
    view_name: str = ""
    share_role: str = "none"
    saving: bool = False
    _views_loaded: bool = False
    _saved: dict[str, dict[str, str]] = {}

    def _key(self) -> str:
        """The column grouped by: region → city or county, time → the grain."""
        if self.dimension == "region":
            return "tenant" if self.city else "city"
        return self.grain if self.dimension == "time" else self.dimension

    def _query(self, *where: tuple[str, str]) -> StatsQuery:
        start, end = self._period()
        chosen = [("channel", self.channel)] if self.channel != "all" else []
        if self.city:
            chosen.append(("city", self.city))
        return StatsQuery(start, end, (self._key(),), where=(*chosen, *where))

    def _controls(self) -> Controls:
        key = self._key()
        cross = "" if self.cross in ("none", key) else self.cross
        return Controls(self._query(), key, cross, self.measure, self.chart_kind)

    @rx.event(background=True)
    async def load(self):
        """Compute the breakdown off the event loop."""

        def prepare():
            controls = self._controls()
            return lambda s, a: breakdown(s, a, controls)

        def show(result: Breakdown):
            self.headers, self.rows, self.sentences = result.headers, result.rows, result.sentences
            self.quality = result.quality
            self.chart = result.chart
            self.heatmap = result.heatmap or go.Figure()
            self.can_export = result.can_export
            self.drill_rows, self.drill_title = [], ""
            if not self._views_loaded:
                return StatisticsState.load_views
            return None

        async for event in self._load_page(prepare, show):
            yield event

    # --- controls -------------------------------------------------------------------------

    @rx.event
    def set_filter(self, name: str, value: str):
        """Change one control and recompute (values the page does not offer are ignored)."""
        if value in views_service.SETTING_CHOICES.get(name, ()):
            setattr(self, name, value)
            if name == "dimension":
                self.city, self.city_label = "", ""
        return StatisticsState.load

    @rx.event
    def back_to_province(self):
        """Leave a city for the whole province."""
        self.city, self.city_label = "", ""
        return StatisticsState.load

    @rx.event
    def drill(self, points: list[dict]):
        """A bar was clicked: a city opens its counties; anything else lists its cases."""
        if not points or self.cross != "none":
            return None
        index = points[0].get("pointIndex")
        if index is None or not 0 <= index < len(self.rows):
            return None
        row = self.rows[index]
        return self.open_group(row.code, row.label)

    @rx.event
    def open_group(self, code: str, label: str):
        """Open a group of the table: a city's counties, or the cases behind the figure."""
        if self._key() == "city":
            self.city, self.city_label = code, label
            return StatisticsState.load
        self._drill_code = code
        self.drill_title = f"{label} · {MEASURES[self.measure]}"
        self.page = 1
        return StatisticsState.load_drill

    @rx.event(background=True)
    async def load_drill(self):
        """The cases behind the opened group, a page at a time."""
        async with self:
            token, query = await self._token(), self._query((self._key(), self._drill_code))
            step, page = MEASURE_STEP[self.measure], PageRequest(self.page, DRILL_PAGE)
        outcome = await call(
            token, lambda _s, a: service.case_list(actor=a, query=query, step=step, page=page)
        )
        if outcome.relogin:
            yield self._relogin(outcome)
            return
        async with self:
            if not outcome.ok or outcome.value is None:
                self.error = outcome.error_text
                return
            found = outcome.value
            self.drill_rows, self.total, self.pages = list(found.items), found.total, found.pages

    @rx.event
    def drill_page(self, delta: int):
        """Next or previous page of the case list."""
        self.page = min(max(1, self.page + delta), self.pages)
        return StatisticsState.load_drill

    @rx.event
    def close_drill(self):
        """Hide the case list."""
        self.drill_rows, self.drill_title = [], ""

    @rx.event(background=True)
    async def export(self, fmt: str):
        """Download the table as shown (needs dashboards.statistics:export; logged)."""
        async with self:
            token, self.exporting = await self._token(), True
            headers = list(self.headers)
            rows = [[r.label, *map(_number, r.cells)] for r in self.rows]
            query = self._query()

        def build(session: Session, actor: Actor) -> bytes:
            service.record_export(
                session=session, actor=actor, query=query, rows=len(rows), fmt=fmt
            )
            return render(headers, rows, fmt=fmt, sheet="统计分析")  # type: ignore[arg-type]

        outcome = await call(token, build)
        async with self:
            self.exporting = False
        if not outcome.ok or outcome.value is None:
            yield toast.error(outcome.error_text)
            return
        mime = XLSX_MIME if fmt == "xlsx" else "text/csv"
        yield rx.download(data=outcome.value, filename=f"统计分析.{fmt}", mime_type=mime)

    # --- saved views ----------------------------------------------------------------------

    def _settings(self) -> dict[str, str]:
        start, end = self._chosen_period()
        chosen = {key: getattr(self, key) for key in views_service.SETTING_CHOICES}
        return {**chosen, "start": start, "end": end}

    @rx.event(background=True)
    async def load_views(self):
        """The user's views and those shared with their roles, and the roles to share with."""
        async with self:
            token = await self._token()

        def fetch(session: Session, actor: Actor):
            views = views_service.list_views(session=session, actor=actor)
            return views, views_service.share_roles(session=session)

        outcome = await call(token, fetch)
        if not outcome.ok or outcome.value is None:
            return
        views, roles = outcome.value
        async with self:
            self._views_loaded = True
            self._saved = {str(v.id): v.settings for v in views}
            self.views = [
                Choice(str(v.id), v.name if v.mine else f"{v.name}（{v.owner} 共享）")
                for v in views
            ]
            self.share_choices = [Choice("none", "不共享"), *[Choice(*r) for r in roles]]

    @rx.event
    def set_view_name(self, value: str) -> None:
        """Name of the view to save."""
        self.view_name = value

    @rx.event
    def set_share_role(self, value: str) -> None:
        """Role the view is shared with."""
        self.share_role = value

    @rx.event(background=True)
    async def save_view(self):
        """Save the current controls under the typed name."""
        async with self:
            token, settings, self.saving = await self._token(), self._settings(), True
            name, role = self.view_name, "" if self.share_role == "none" else self.share_role
        outcome = await call(
            token,
            lambda s, a: views_service.save_view(
                session=s, actor=a, name=name, settings=settings, shared_role=role
            ),
        )
        async with self:
            self.saving = False
        if not outcome.ok:
            yield toast.error(outcome.error_text)
            return
        yield toast.success(f"已保存视图「{name}」")
        yield StatisticsState.load_views

    @rx.event
    def open_view(self, view_id: str):
        """Restore a saved view's controls and recompute."""
        settings = self._saved.get(view_id, {})
        for key, allowed in views_service.SETTING_CHOICES.items():
            if settings.get(key) in allowed:
                setattr(self, key, settings[key])
        self._choose_period(settings.get("start", ""), settings.get("end", ""))
        self.city, self.city_label = "", ""
        return StatisticsState.load
