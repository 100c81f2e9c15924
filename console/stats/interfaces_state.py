"""State of the 共享接口监测 page: every sharing interface, worst first, and one's daily trend."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta

import plotly.graph_objects as go
import polars as pl
import reflex as rx
from sqlmodel import Session

from console.core.actor import Actor
from console.core.clock import CHINA_TZ
from console.interfaces.key_service import key_names
from console.interfaces.registry_service import interface_names, registered_departments
from console.logs.quarantine_service import rejected_counts_by_key
from console.logs.search import search_url
from console.stats import service
from console.stats.period import PeriodMixin
from console.stats.service import StatsQuery
from console.ui.charts import day_axis
from console.ui.list_state import PagedListMixin


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
    calls_url: str  # its calls on 日志审计
    failures_url: str  # its failed calls
    flag: str = ""  # 未登记接口, or 部门不符（登记为 …）: not normal traffic


@dataclasses.dataclass(frozen=True)
class CodeRow:
    """One result code of the selected interface."""

    result_code: str
    outcome: str
    calls: str


@dataclasses.dataclass(frozen=True)
class RejectedKeyRow:
    """Lines one key pushed that were refused in the period."""

    key_id: str
    name: str
    lines: str


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


@dataclasses.dataclass(frozen=True)
class Monitor:
    """Everything the page shows, built in the worker thread."""

    rows: list[InterfaceRow]
    codes: list[CodeRow]
    sentences: list[str]
    chart: go.Figure
    rejected: list[RejectedKeyRow]


def monitor(session: Session, actor: Actor, query: StatsQuery, selected: str) -> Monitor:
    """Every interface worst first; the selected one's (or all) days and result codes."""
    where = (("interface_code", selected),) if selected else ()
    per_interface = dataclasses.replace(query, group_by=("department", "interface_code"))
    per_day = dataclasses.replace(
        query, group_by=("day", "department", "interface_code"), where=where
    )
    table = service.interface_stats(actor=actor, query=per_interface).sort(
        ["success_rate", "calls"], descending=[False, True]
    )
    days = service.interface_stats(actor=actor, query=per_day, latency=False)
    codes = service.result_codes(actor=actor, query=dataclasses.replace(query, where=where))
    names = interface_names(session=session, actor=actor)
    registry = registered_departments(session=session)
    outages = service.outage_days(days)
    return Monitor(
        rejected=_rejected(session, actor, query),
        rows=[_row(r, names, query, registry) for r in table.iter_rows(named=True)],
        codes=[
            CodeRow(r["result_code"], "成功" if r["success"] else "失败", f"{r['calls']:,}")
            for r in codes.iter_rows(named=True)
        ],
        sentences=[
            *service.describe_interfaces(table, names, outages),
            *describe_registry(table, registry),
        ],
        chart=_trend(days, outages, names.get(selected, selected) if selected else "全部接口"),
    )


def _rejected(session: Session, actor: Actor, query: StatsQuery) -> list[RejectedKeyRow]:
    """Refused pushed lines per key over the period's days (Asia/Shanghai), most first."""
    since = datetime.combine(query.start, time.min, CHINA_TZ)
    until = datetime.combine(query.end + timedelta(days=1), time.min, CHINA_TZ)
    counts = rejected_counts_by_key(session=session, actor=actor, since=since, until=until)
    names = key_names(session, set(counts))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [RejectedKeyRow(key, names.get(key, "（已删除的密钥）"), f"{n:,}") for key, n in ranked]


class InterfaceMonitorState(PeriodMixin, PagedListMixin, rx.State):
    """共享接口监测."""

    selected: str = ""  # interface code whose trend and result codes are shown
    rows: list[InterfaceRow] = []
    codes: list[CodeRow] = []
    sentences: list[str] = []
    chart: go.Figure = go.Figure()
    rejected: list[RejectedKeyRow] = []

    @rx.event(background=True)
    async def load(self):
        """Figures per interface, worst first; the selected one's days and result codes."""

        def prepare():
            query, selected = StatsQuery(*self._period()), self.selected
            return lambda s, a: monitor(s, a, query, selected)

        def show(result: Monitor):
            self.rows, self.codes = result.rows, result.codes
            self.sentences, self.chart = result.sentences, result.chart
            self.rejected = result.rejected

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event
    def select(self, code: str):
        """Show one interface's days and result codes (the same code again: all interfaces)."""
        self.selected = "" if code == self.selected else code
        return InterfaceMonitorState.load


def registry_flag(code: str, department: str, registry: dict[str, str]) -> str:
    """Why calls of ``code`` under ``department`` are not normal traffic ("" when they are)."""
    if code not in registry:
        return "未登记接口"
    registered = registry[code]
    if registered and department != registered:
        return f"部门不符（登记为{registered}）"
    return ""


def describe_registry(table: pl.DataFrame, registry: dict[str, str]) -> list[str]:
    """A sentence on the calls the registry does not account for (none when all are)."""
    unknown = mismatched = 0
    unknown_codes: set[str] = set()
    for row in table.iter_rows(named=True):
        flag = registry_flag(row["interface_code"], row["department"], registry)
        if flag == "未登记接口":
            unknown += row["calls"]
            unknown_codes.add(row["interface_code"])
        elif flag:
            mismatched += row["calls"]
    parts = []
    if unknown:
        parts.append(f"{unknown:,} 次调用使用了未登记的接口（{len(unknown_codes)} 个）")
    if mismatched:
        parts.append(f"{mismatched:,} 次调用的部门与接口登记的部门不符")
    return ["，".join(parts) + "，请核实调用方或补登接口。"] if parts else []


def _row(
    row: dict, names: dict[str, str], query: StatsQuery, registry: dict[str, str]
) -> InterfaceRow:
    code = row["interface_code"]
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
        calls_url=search_url("interface_call", query.start, query.end, interface_code=code),
        failures_url=search_url(
            "interface_call", query.start, query.end, interface_code=code, result="failure"
        ),
        flag=registry_flag(code, row["department"], registry),
    )


def _trend(days: pl.DataFrame, outages: pl.DataFrame, title: str) -> go.Figure:
    """Daily calls and failure rate; a day with an outage is a red point."""
    figure = go.Figure()
    if days.is_empty():
        return figure
    daily = (
        days.group_by("day")
        .agg(pl.col("calls").sum(), pl.col("failures").sum())
        .sort("day")
        .with_columns((pl.col("failures") / pl.col("calls")).alias("rate"))
    )
    down = set() if outages.is_empty() else set(outages.get_column("day").to_list())
    days_shown = daily.get_column("day").to_list()
    x = [d.isoformat() for d in days_shown]
    figure.add_bar(
        x=x, y=daily.get_column("calls").to_list(), name="调用次数", marker_color="#8da4ef"
    )
    figure.add_scatter(
        x=x,
        y=daily.get_column("rate").to_list(),
        name="失败率",
        yaxis="y2",
        mode="lines+markers",
        marker={"color": ["#e5484d" if d in down else "#30a46c" for d in days_shown], "size": 8},
        line={"color": "#e5484d"},
    )
    figure.update_layout(
        title=f"{title} · 每日调用与失败率（红点：疑似中断）",
        yaxis2={"overlaying": "y", "side": "right", "tickformat": ".1%", "rangemode": "tozero"},
        xaxis=day_axis(len(x)),
        height=360,
        margin={"l": 50, "r": 50, "t": 40, "b": 50},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure
