"""State of the 共享接口监测 page: every sharing interface, worst first, and one's daily trend."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go
import polars as pl
import reflex as rx
from sqlmodel import Session, select

from console.core.actor import Actor
from console.interfaces.models import InterfaceDef
from console.stats import service
from console.stats.period import PeriodMixin
from console.stats.service import StatsQuery
from console.ui.list_state import PagedListMixin

OUTAGE_RATE = 0.5  # a day failing at least this share of its calls is marked as an outage


@dataclasses.dataclass(frozen=True)
class InterfaceRow:
    """One interface's figures as text; ``worrying`` tints the row."""

    code: str
    department: str
    name: str
    calls: str
    failures: str
    success_rate: str
    p50: str
    p95: str
    worrying: bool


@dataclasses.dataclass(frozen=True)
class CodeRow:
    """One result code of the selected interface."""

    result_code: str
    outcome: str
    calls: str


def _names(session: Session) -> dict[str, str]:
    return dict(session.exec(select(InterfaceDef.code, InterfaceDef.name)).all())


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def describe(frame: pl.DataFrame, names: dict[str, str], outages: pl.DataFrame) -> list[str]:
    """What the table says: the worst interface, the overall rate, the outage days."""
    if frame.is_empty():
        return ["所选期间没有共享接口调用记录。"]
    calls, failures = int(frame.get_column("calls").sum()), int(frame.get_column("failures").sum())
    worst = frame.row(0, named=True)
    worst_name = names.get(worst["interface_code"], worst["interface_code"])
    sentences = [
        f"所选期间共调用共享接口 {calls:,} 次，失败 {failures:,} 次，"
        f"成功率 {(calls - failures) / calls:.2%}。",
        f"成功率最低的是{worst['department']}「{worst_name}」"
        f"（{worst['success_rate']:.2%}，p95 时延 {_ms(worst['p95_ms'])}）。",
    ]
    for row in outages.head(3).iter_rows(named=True):
        sentences.append(
            f"{row['day'].month}月{row['day'].day}日 {row['department']}「"
            f"{names.get(row['interface_code'], row['interface_code'])}」失败率 {row['rate']:.0%}"
            f"（{row['calls']:,} 次调用），疑似中断。"
        )
    return sentences


class InterfaceMonitorState(PeriodMixin, PagedListMixin, rx.State):
    """共享接口监测."""

    selected: str = ""  # interface code whose trend and result codes are shown
    rows: list[InterfaceRow] = []
    codes: list[CodeRow] = []
    sentences: list[str] = []
    chart: go.Figure = go.Figure()

    def _query(self, **extra) -> StatsQuery:
        return StatsQuery(*self._period(), **extra)

    @rx.event(background=True)
    async def load(self):
        """Figures per interface, worst first; the selected one's days and result codes."""

        def prepare():
            per_interface = self._query(group_by=("department", "interface_code"))
            selected = self.selected
            where = (("interface_code", selected),) if selected else ()
            per_day = self._query(group_by=("day", "department", "interface_code"), where=where)
            codes = self._query(where=where)

            def fetch(session: Session, actor: Actor):
                table = service.interface_stats(actor=actor, query=per_interface)
                days = service.interface_stats(actor=actor, query=per_day)
                return (
                    table.sort(["success_rate", "calls"], descending=[False, True]),
                    days,
                    service.result_codes(actor=actor, query=codes),
                    _names(session),
                )

            return fetch

        def show(value):
            table, days, codes, names = value
            outages = (
                days.with_columns((pl.col("failures") / pl.col("calls")).alias("rate"))
                .filter(pl.col("rate") >= OUTAGE_RATE)
                .sort(["rate", "calls"], descending=True)
                if not days.is_empty()
                else days
            )
            self.rows = [_row(r, names) for r in table.iter_rows(named=True)]
            self.codes = [
                CodeRow(r["result_code"], "成功" if r["success"] else "失败", f"{r['calls']:,}")
                for r in codes.iter_rows(named=True)
            ]
            self.sentences = describe(table, names, outages)
            self.chart = _trend(days, self.selected, names)
            self.total = len(self.rows)

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event
    def select(self, code: str):
        """Show one interface's days and result codes (the same code again: all interfaces)."""
        self.selected = "" if code == self.selected else code
        return InterfaceMonitorState.load


def _row(row: dict, names: dict[str, str]) -> InterfaceRow:
    return InterfaceRow(
        code=row["interface_code"],
        department=row["department"],
        name=names.get(row["interface_code"], row["interface_code"]),
        calls=f"{row['calls']:,}",
        failures=f"{row['failures']:,}",
        success_rate=f"{row['success_rate']:.2%}",
        p50=_ms(row["p50_ms"]),
        p95=_ms(row["p95_ms"]),
        worrying=row["success_rate"] < 0.98,
    )


def _trend(days: pl.DataFrame, selected: str, names: dict[str, str]) -> go.Figure:
    figure = go.Figure()
    if days.is_empty():
        return figure
    daily = (
        days.group_by("day")
        .agg(pl.col("calls").sum(), pl.col("failures").sum())
        .sort("day")
        .with_columns((pl.col("failures") / pl.col("calls")).alias("rate"))
    )
    x = [d.isoformat() for d in daily.get_column("day")]
    rates = daily.get_column("rate").to_list()
    figure.add_bar(
        x=x, y=daily.get_column("calls").to_list(), name="调用次数", marker_color="#8da4ef"
    )
    figure.add_scatter(
        x=x,
        y=rates,
        name="失败率",
        yaxis="y2",
        mode="lines+markers",
        marker={"color": ["#e5484d" if r >= OUTAGE_RATE else "#30a46c" for r in rates], "size": 8},
        line={"color": "#e5484d"},
    )
    title = names.get(selected, selected) if selected else "全部接口"
    figure.update_layout(
        title=f"{title} · 每日调用与失败率（红点：失败率 ≥ {OUTAGE_RATE:.0%}，疑似中断）",
        yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "rangemode": "tozero"},
        height=360,
        margin={"l": 50, "r": 50, "t": 40, "b": 50},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure
