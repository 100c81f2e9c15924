"""State of the 日志保全 page: what each stream holds, and the integrity check."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go
import reflex as rx

from console.logs import retention
from console.logs.quarantine_state import QuarantineState
from console.ui.actions import call
from console.ui.list_state import PagedListMixin


@dataclasses.dataclass(frozen=True)
class StreamView:
    """One stream's holdings."""

    stream: str
    label: str
    earliest: str
    days_held: int
    rows: int
    pending: int
    missing: str  # days that had events and lost their sealed file
    next_purge: str
    no_data: str  # days no event ever arrived for (not missing)


@dataclasses.dataclass(frozen=True)
class BreakView:
    """One place where the sealed logs no longer match their chain."""

    stream: str
    day: str
    file: str
    reason: str


class RetentionState(PagedListMixin, rx.State):
    """日志保全 (one page of streams; the mixin gives loading, errors and the session)."""

    rows: list[StreamView] = []
    chart: go.Figure = go.Figure()
    retention_days: int = 365
    checking: bool = False
    checked: str = ""
    breaks: list[BreakView] = []
    last_check: str = ""  # the latest check's time, who and outcome ("" before the first)
    last_check_ok: bool = True

    @rx.event(background=True)
    async def load(self):
        """What each stream holds, month by month."""

        def prepare():  # inside the state lock: read what the fetch needs
            return lambda s, a: (
                retention.retention_overview(session=s, actor=a),
                retention.last_verification(session=s, actor=a),
            )

        def show(value):  # inside the state lock: what the page shows
            overview, last = value
            self._show_last(last)
            self.rows = [_view(o) for o in overview]
            self.total = len(self.rows)
            self.chart = _monthly_chart(overview)
            self.retention_days = retention.get_settings().log_retention_days
            return QuarantineState.load

        async for event in self._load_page(prepare, show):
            yield event

    def _show_last(self, last: retention.LastVerification | None) -> None:
        self.last_check_ok = last is None or last.ok
        self.last_check = "" if last is None else f"{last.when} · {last.by} · {last.text}"

    @rx.event(background=True)
    async def check(self):
        """Recompute every sealed file's SM3 digest and the chain."""
        async with self:
            token, self.checking, self.checked = await self._token(), True, ""
        outcome = await call(token, lambda s, a: retention.check_integrity(session=s, actor=a))
        async with self:
            self.checking = False
            report = outcome.value
            if not outcome.ok or report is None:
                self.checked = outcome.error_text
                return
            self.breaks = [BreakView(*b) for b in report.breaks]
            self.last_check_ok = not report.breaks
            self.last_check = ""  # the result below is the latest check
            self.checked = (
                f"已校验 {report.checked_parts} 个封存文件：全部与 SM3 校验链一致"
                if not report.breaks
                else f"已校验 {report.checked_parts} 个封存文件：发现 {len(report.breaks)} 处异常"
            )


def _view(o: retention.StreamRetention) -> StreamView:
    missing = (
        "无"
        if not o.missing_total
        else f"{o.missing_total} 天（最近：{'、'.join(o.missing_days[:5])}）"
    )
    no_data = (
        "—"
        if not o.no_data_total
        else f"{o.no_data_total} 天（最近：{'、'.join(o.no_data_days[:5])}）"
    )
    return StreamView(
        o.stream, o.label, o.earliest, o.days_held, o.rows, o.pending, missing, o.next_purge,
        no_data,
    )  # fmt: skip


def _monthly_chart(overview: list[retention.StreamRetention]) -> go.Figure:
    figure = go.Figure(
        [
            go.Bar(name=o.label, x=[m for m, _ in o.months], y=[n for _, n in o.months])
            for o in overview
        ]
    )
    figure.update_layout(
        barmode="group",
        height=280,
        margin={"l": 40, "r": 10, "t": 10, "b": 30},
        legend={"orientation": "h"},
        yaxis_title="已封存条数",
    )
    return figure
