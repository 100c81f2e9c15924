"""State of the 统计分析 page: cases by region, time, type and channel, crossed, drilled down."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go
import polars as pl
import reflex as rx
from sqlmodel import Session, select

from console.core.actor import Actor
from console.core.exporting import XLSX_MIME, render
from console.core.paging import PageRequest
from console.stats import service, views_service
from console.stats.period import PeriodMixin
from console.stats.service import DIMENSION_LABELS, CaseRow, StatsQuery, label_of
from console.tenancy.models import Tenant
from console.ui.actions import call
from console.ui.list_state import PagedListMixin

MEASURES = {"received": "受理件数", "completed": "办结件数", "rejected": "驳回件数",
            "avg_hours": "平均办理时长（小时）"}  # fmt: skip
_MEASURE_STEP = {"received": "accept", "completed": "close", "rejected": "reject",
                 "avg_hours": "close"}  # fmt: skip
DIMENSIONS = ("region", "time", "registration_type", "business_code", "channel", "institution")
DIMENSION_CHOICES = (
    ("region", "地区"), ("time", "时间"), ("registration_type", "登记类型"),
    ("business_code", "业务"), ("channel", "渠道"), ("institution", "机构"),
)  # fmt: skip
GRAINS = (("day", "日"), ("week", "周"), ("month", "月"), ("quarter", "季"))
CROSS_CHOICES = (("none", "不交叉"), ("channel", "渠道"), ("registration_type", "登记类型"),
                 ("business_code", "业务"), ("tenant", "区县"), ("month", "月"))  # fmt: skip
DRILL_PAGE = 20


@dataclasses.dataclass(frozen=True)
class BreakdownRow:
    """One group of the breakdown table: its code (for drilling) and its figures as text."""

    code: str
    label: str
    cells: list[str]


@dataclasses.dataclass(frozen=True)
class ViewChoice:
    """A saved view in the picker."""

    id: str
    label: str
    mine: bool


CHART_CHOICES = (("auto", "自动"), ("bar", "柱状图"), ("line", "折线图"), ("pie", "饼图"))
CHANNEL_FILTER = (
    ("all", "全部渠道"), ("window", "窗口"), ("online", "网上"), ("bank", "银行"),
    ("developer", "开发企业"), ("broker", "经纪机构"), ("agent", "代理机构"),
)  # fmt: skip
SHARE_CHOICES = (("none", "不共享"), ("province_supervisor", "省级监管"),
                 ("county_supervisor", "区县监管"), ("county_admin", "区县管理员"))  # fmt: skip


def _names(session: Session) -> dict[str, str]:
    return dict(session.exec(select(Tenant.code, Tenant.name)).all())


def _cell(value: object, measure: str) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if measure == "avg_hours" else f"{int(value):,}"


def describe(frame: pl.DataFrame, key: str, measure: str, labels: list[str]) -> list[str]:
    """Sentences stating what a breakdown shows, from the figures themselves."""
    if frame.is_empty() or frame.get_column(measure).drop_nulls().is_empty():
        return ["所选期间没有办件数据，请调整时间范围或维度。"]
    name, noun = MEASURES[measure].removesuffix("（小时）"), DIMENSION_LABELS.get(key, key)
    values = frame.get_column(measure)
    order = values.fill_null(-1).arg_sort(descending=True)
    top, bottom = order[0], order[len(order) - 1]
    if measure == "avg_hours":
        sentences = [
            f"{name}最长的{noun}是{labels[top]}（{values[top]:.1f} 小时），"
            f"最短的是{labels[bottom]}（{values[bottom]:.1f} 小时）。"
        ]
    else:
        total = int(values.sum())
        share = values[top] / total if total else 0
        sentences = [
            f"所选期间{name}共 {total:,} 件，分布在 {frame.height} 个{noun}。",
            f"最多的是{labels[top]}（{int(values[top]):,} 件，占 {share:.1%}），"
            f"最少的是{labels[bottom]}（{int(values[bottom]):,} 件）。",
        ]
    return sentences


TIME_KEYS = ("day", "week", "month", "quarter")
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


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


class StatisticsState(PeriodMixin, PagedListMixin, rx.State):
    """统计分析 (the mixins give the period, loading, errors, the session and paging)."""

    measure: str = "received"
    dimension: str = "region"
    grain: str = "month"
    cross: str = "none"
    chart_kind: str = "auto"  # auto (bars, lines over time) / bar / line / pie
    channel: str = "all"  # only cases of one channel
    views: list[ViewChoice] = []
    view_name: str = ""
    share_role: str = "none"
    saving: bool = False
    city: str = ""  # the city a province reader drilled into
    city_label: str = ""
    chart: go.Figure = go.Figure()
    heatmap: go.Figure = go.Figure()
    show_heatmap: bool = False
    headers: list[str] = []
    rows: list[BreakdownRow] = []
    sentences: list[str] = []
    drill_title: str = ""
    drill_rows: list[CaseRow] = []
    drill_total: int = 0
    _drill_where: dict[str, str] = {}
    exporting: bool = False

    def _key(self) -> str:
        """The column grouped by: region → city or county, time → the grain."""
        if self.dimension == "region":
            return "tenant" if self.city else "city"
        return self.grain if self.dimension == "time" else self.dimension

    def _query(self, *extra: str) -> StatsQuery:
        start, end = self._period()
        where = () if self.channel == "all" else (("channel", self.channel),)
        return StatsQuery(start=start, end=end, group_by=(self._key(), *extra), where=where)

    @rx.event(background=True)
    async def load(self):
        """Compute the breakdown off the event loop."""

        def prepare():
            query, key, city, measure = self._query(), self._key(), self.city, self.measure
            cross = "" if self.cross in ("none", key) else self.cross
            if cross:
                query = self._query(cross)

            def fetch(session: Session, actor: Actor):
                frame = service.case_stats(actor=actor, query=query)
                if city:
                    frame = frame.filter(pl.col("tenant").str.starts_with(city[:4]))
                hours = (
                    service.accept_heatmap(actor=actor, query=query) if key in TIME_KEYS else None
                )
                return frame, _names(session), key, cross, measure, hours

            return fetch

        def show(value):
            frame, names, key, cross, measure, hours = value
            self._show(frame, names, key, cross, measure)
            self.heatmap = _heatmap(hours) if hours is not None else go.Figure()
            self.show_heatmap = hours is not None

        async for event in self._load_page(prepare, show):
            yield event
        yield StatisticsState.load_views

    def _show(self, frame: pl.DataFrame, names: dict, key: str, cross: str, measure: str) -> None:
        if cross:
            self._show_cross(frame, names, key, cross, measure)
            return
        codes = (
            ["" if c is None else str(c) for c in frame.get_column(key).to_list()]
            if not frame.is_empty()
            else []
        )
        labels = [label_of(key, code, names) for code in codes]
        figures = [MEASURES[m] for m in MEASURES]
        self.headers = [DIMENSION_LABELS.get(key, key), *figures]
        self.rows = [
            BreakdownRow(code, label, [_cell(row[m], m) for m in MEASURES])
            for code, label, row in zip(codes, labels, frame.iter_rows(named=True), strict=True)
        ]
        self.sentences = describe(frame, key, measure, labels)
        self.chart = self._figure(labels, frame.get_column(measure).to_list() if codes else [], key)
        self.total = len(self.rows)

    def _show_cross(self, frame, names: dict, key: str, cross: str, measure: str) -> None:
        if frame.is_empty():
            self.headers, self.rows, self.chart = [], [], go.Figure()
            self.sentences = describe(frame, key, measure, [])
            return
        pivot = frame.pivot(on=cross, index=key, values=measure, aggregate_function="sum").sort(key)
        columns = [c for c in pivot.columns if c != key]
        self.headers = [
            DIMENSION_LABELS.get(key, key),
            *[label_of(cross, c, names) for c in columns],
        ]
        self.rows = [
            BreakdownRow(
                str(row[key]),
                label_of(key, row[key], names),
                [_cell(row[c], measure) for c in columns],
            )
            for row in pivot.iter_rows(named=True)
        ]
        figure = go.Figure()
        for column in columns:
            figure.add_bar(
                x=[label_of(key, v, names) for v in pivot.get_column(key).to_list()],
                y=pivot.get_column(column).to_list(),
                name=label_of(cross, column, names),
            )
        figure.update_layout(
            barmode="stack", height=380, margin={"l": 40, "r": 10, "t": 30, "b": 80}
        )
        self.chart = figure
        totals = frame.group_by(key).agg(pl.col(measure).sum()).sort(key)
        self.sentences = describe(
            totals,
            key,
            measure,
            [label_of(key, v, names) for v in totals.get_column(key).to_list()],
        )
        self.total = len(self.rows)

    def _figure(self, labels: list[str], values: list, key: str) -> go.Figure:
        figure = go.Figure()
        if self.chart_kind == "pie":
            figure.add_pie(labels=labels, values=values, sort=False, hole=0.35)
        elif self.chart_kind == "line" or (self.chart_kind == "auto" and key in TIME_KEYS):
            figure.add_scatter(
                x=labels, y=values, mode="lines+markers", name=MEASURES[self.measure]
            )
        else:
            figure.add_bar(x=labels, y=values, name=MEASURES[self.measure], marker_color="#3e63dd")
        figure.update_layout(
            title=f"{MEASURES[self.measure]} · 按{DIMENSION_LABELS.get(key, key)}（点击柱形下钻）",
            height=380,
            margin={"l": 40, "r": 10, "t": 40, "b": 80},
        )
        return figure

    # --- controls -------------------------------------------------------------------------

    @rx.event
    def set_filter(self, name: str, value: str):
        """Change one control and recompute."""
        if name in ("start", "end", "measure", "grain", "cross", "chart_kind", "channel"):
            setattr(self, name, value)
        if name == "dimension" and value in DIMENSIONS:
            self.dimension, self.city, self.city_label = value, "", ""
        self.drill_rows, self.drill_title = [], ""
        return StatisticsState.load

    @rx.event
    def back_to_province(self):
        """Leave a city for the whole province."""
        self.city, self.city_label, self.drill_rows, self.drill_title = "", "", [], ""
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
        self._drill_where = {self._key(): code}
        self.drill_title = f"{label} · {MEASURES[self.measure]}"
        self.page = 1
        return StatisticsState.load_drill

    @rx.event(background=True)
    async def load_drill(self):
        """The cases behind the opened group, a page at a time."""
        async with self:
            token, query, where = await self._token(), self._query(), dict(self._drill_where)
            step, page = _MEASURE_STEP[self.measure], PageRequest(self.page, DRILL_PAGE)
        outcome = await call(
            token,
            lambda _s, a: service.case_list(
                actor=a, query=query, step=step, where=where, page=page
            ),
        )
        async with self:
            if not outcome.ok or outcome.value is None:
                self.error = outcome.error_text
                return
            found = outcome.value
            self.drill_rows = list(found.items)
            self.drill_total = found.total

    @rx.event
    def drill_page(self, delta: int):
        """Next or previous page of the case list."""
        pages = max(1, -(-self.drill_total // DRILL_PAGE))
        self.page = min(max(1, self.page + delta), pages)
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
            headers, rows = list(self.headers), [[r.label, *r.cells] for r in self.rows]
            query = self._query()

        def build(session: Session, actor: Actor) -> bytes:
            service.record_export(
                session=session, actor=actor, query=query, rows=len(rows), fmt=fmt
            )
            return render(headers, rows, fmt="xlsx" if fmt == "xlsx" else "csv", sheet="统计分析")

        outcome = await call(token, build)
        async with self:
            self.exporting = False
        if not outcome.ok or outcome.value is None:
            yield rx.toast.error(outcome.error_text)
            return
        mime = XLSX_MIME if fmt == "xlsx" else "text/csv"
        yield rx.download(data=outcome.value, filename=f"统计分析.{fmt}", mime_type=mime)

    # --- saved views ----------------------------------------------------------------------

    def _settings(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in views_service.SETTING_KEYS}

    @rx.event(background=True)
    async def load_views(self):
        """The user's views and those shared with their roles."""
        async with self:
            token = await self._token()
        outcome = await call(token, lambda s, a: views_service.list_views(session=s, actor=a))
        async with self:
            self._saved = {str(v.id): v.settings for v in outcome.value or []}
            self.views = [
                ViewChoice(str(v.id), v.name if v.mine else f"{v.name}（{v.owner} 共享）", v.mine)
                for v in outcome.value or []
            ]

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
            yield rx.toast.error(outcome.error_text)
            return
        yield rx.toast.success(f"已保存视图「{name}」")
        yield StatisticsState.load_views

    @rx.event
    def open_view(self, view_id: str):
        """Restore a saved view's controls and recompute."""
        for key, value in self._saved.get(view_id, {}).items():
            if key in views_service.SETTING_KEYS:
                setattr(self, key, value)
        self.city, self.city_label, self.drill_rows, self.drill_title = "", "", [], ""
        return StatisticsState.load

    _saved: dict[str, dict[str, str]] = {}
