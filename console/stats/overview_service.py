"""概览: the key figures of the actor's scope, their change, their 30-day trend, and the text.

Counts, times and shares come from the small daily rollups (``cases_daily``,
``interface_daily``; a case counts on the day of its 受理 or 办结 event, so a case accepted
twice on different days would count twice); the on-time rate joins ``closes_daily`` (cases
by working days taken) with the limits. All of it plus the events not sealed yet, through
the data-scope helper; the sentences are written from the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import polars as pl
from sqlmodel import Session

from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import local_day
from console.interfaces.registry_service import interface_names
from console.stats.limits import time_limits, with_limits
from console.stats.service import StatsQuery, lake_views, outage_days, outage_sentence
from console.tenancy.scope import scope_of
from console.tenancy.service import tenant_names

OBJ = "dashboards.overview"
TREND_DAYS = 30


@dataclass(frozen=True)
class Period:
    """Inclusive days, and the same span one period earlier to compare with."""

    start: date
    end: date
    previous_start: date
    previous_end: date


@dataclass(frozen=True)
class Kpi:
    """One card: the figure, how it changed, and its daily values over the last 30 days."""

    key: str
    label: str
    value: float | None
    shown: str
    change: str
    direction: int  # +1 up, -1 down, 0 unchanged or nothing to compare with
    trend: list[float | None] = field(default_factory=list)


@dataclass(frozen=True)
class Overview:
    """The page: cards and the sentences that say what they mean."""

    as_of: str
    kpis: list[Kpi]
    sentences: list[str]
    trend_days: list[str]


def periods(today: date) -> dict[str, Period]:
    """Today, this month and this year so far, each against the same span before."""
    month_start = today.replace(day=1)
    previous_month_start = (month_start - timedelta(days=1)).replace(day=1)
    span = today - month_start
    previous_month_end = min(previous_month_start + span, month_start - timedelta(days=1))
    year_start = today.replace(month=1, day=1)
    last_year = year_start.replace(year=year_start.year - 1)
    same_day_last_year = _same_day(today, year_start.year - 1)
    yesterday = today - timedelta(days=1)
    return {
        "today": Period(today, today, yesterday, yesterday),
        "month": Period(month_start, today, previous_month_start, previous_month_end),
        "year": Period(year_start, today, last_year, same_day_last_year),
    }


def _same_day(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


@dataclass(frozen=True)
class _Data:
    """What the overview reads: daily case counts, on-time counts, daily interface calls."""

    daily: pl.DataFrame  # day, tenant, channel, step, cases, hours_sum, hours_count
    closes: pl.DataFrame  # day, cases, on_time_cases — only the days the on-time figures need
    calls: pl.DataFrame  # day, department, interface_code, calls, failures


def _data(session: Session, actor: Actor, first: date, on_time_from: date, today: date) -> _Data:
    """Daily counts for two years and on-time counts for two months: small frames."""
    views = lake_views(
        actor, StatsQuery(first, today), "cases_daily", "closes_daily", "interface_daily"
    )
    empty = pl.DataFrame()
    daily, judged, calls = (views[n] for n in ("cases_daily", "closes_daily", "interface_daily"))
    return _Data(
        daily=empty
        if not daily.collect_schema().names()
        else daily.group_by("day", "tenant", "channel", "step")
        .agg(pl.col("cases", "hours_sum", "hours_count").sum())
        .collect(),
        closes=empty
        if not judged.collect_schema().names()
        else with_limits(judged.filter(pl.col("day") >= on_time_from), time_limits(session))
        .group_by("day")
        .agg(
            pl.col("cases").sum().alias("cases"),
            pl.col("cases").filter(pl.col("on_time")).sum().alias("on_time_cases"),
        )
        .collect(),
        calls=empty
        if not calls.collect_schema().names()
        else calls.group_by("day", "department", "interface_code")
        .agg(
            pl.col("calls").sum().alias("calls"),
            pl.col("calls").filter(~pl.col("success")).sum().alias("failures"),
        )
        .collect(),
    )


def _in(frame: pl.DataFrame, start: date, end: date, step: str | None = None) -> pl.DataFrame:
    if frame.is_empty():
        return frame
    rows = frame.filter(pl.col("day").is_between(start, end))
    return rows.filter(pl.col("step") == step) if step else rows


def _sum(frame: pl.DataFrame, column: str) -> float:
    return 0 if frame.is_empty() else float(frame.get_column(column).sum())


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _success(calls: pl.DataFrame) -> float | None:
    total = _sum(calls, "calls")
    return _share(total - _sum(calls, "failures"), total)


def _measure(key: str, data: _Data, start: date, end: date) -> float | None:
    """One figure of the period (None when there is nothing to measure)."""
    if key in ("received", "completed"):
        return _sum(
            _in(data.daily, start, end, "accept" if key == "received" else "close"), "cases"
        )
    if key == "avg_hours":
        closed = _in(data.daily, start, end, "close")
        return _share(_sum(closed, "hours_sum"), _sum(closed, "hours_count"))
    if key == "on_time":
        judged = _in(data.closes, start, end)
        return _share(_sum(judged, "on_time_cases"), _sum(judged, "cases"))
    if key == "online_share":
        accepted = _in(data.daily, start, end, "accept")
        online = (
            accepted.filter(pl.col("channel") == "online") if not accepted.is_empty() else accepted
        )
        return _share(_sum(online, "cases"), _sum(accepted, "cases"))
    return _success(_in(data.calls, start, end))


def _daily(data: _Data, days: list[date]) -> dict[str, list]:
    """Each figure per day over ``days`` (one grouping per source, not one filter per day)."""
    frame = pl.DataFrame({"day": days})
    accept, close = pl.col("step") == "accept", pl.col("step") == "close"
    if not data.daily.is_empty():
        per_day = data.daily.group_by("day").agg(
            pl.col("cases").filter(accept).sum().alias("received"),
            pl.col("cases").filter(close).sum().alias("completed"),
            (
                pl.col("hours_sum").filter(close).sum() / pl.col("hours_count").filter(close).sum()
            ).alias("avg_hours"),
            (
                pl.col("cases").filter(accept & (pl.col("channel") == "online")).sum()
                / pl.col("cases").filter(accept).sum()
            ).alias("online_share"),
        )
        frame = frame.join(per_day, on="day", how="left")
    if not data.closes.is_empty():
        on_time = (pl.col("on_time_cases") / pl.col("cases")).alias("on_time")
        frame = frame.join(data.closes.select("day", on_time), on="day", how="left")
    if not data.calls.is_empty():
        per_day = data.calls.group_by("day").agg(
            (1 - pl.col("failures").sum() / pl.col("calls").sum()).alias("success_rate")
        )
        frame = frame.join(per_day, on="day", how="left")
    keys = ("received", "completed", "avg_hours", "on_time", "online_share", "success_rate")
    counts = {"received", "completed"}
    return {
        key: (
            [None] * len(days)
            if key not in frame.columns
            else (frame.get_column(key).fill_null(0) if key in counts else frame.get_column(key))
            .fill_nan(None)
            .to_list()
        )
        for key in keys
    }


_CARDS = (
    # key, label, period, how the figure is written
    ("received_today", "今日受理", "today", "count"),
    ("received", "本月受理", "month", "count"),
    ("received_year", "本年受理", "year", "count"),
    ("completed", "本月办结", "month", "count"),
    ("avg_hours", "本月平均办理时长", "month", "hours"),
    ("on_time", "本月按时办结率", "month", "rate"),
    ("online_share", "本月网上申请占比", "month", "rate"),
    ("success_rate", "本月共享接口调用成功率", "month", "rate"),
)
_COMPARED_WITH = {"today": "较昨日", "month": "较上月同期", "year": "较上年同期"}


def _shown(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "count":
        return f"{int(value):,} 件"
    if kind == "hours":
        return f"{value:.1f} 小时"
    return f"{value:.1%}"


def _comparable(value: float | None, before: float | None, kind: str) -> bool:
    return value is not None and before is not None and (kind != "count" or bool(before))


def _change(value: float | None, before: float | None, kind: str, period: str) -> str:
    if period == "today":
        # Today is still under way: a percentage against all of yesterday would alarm
        # every morning, so yesterday's figure is given as it is.
        return f"昨日 {_shown(before, kind)}"
    if not _comparable(value, before, kind):
        return f"{_COMPARED_WITH[period]}：无可比数据"
    assert value is not None and before is not None
    if kind == "rate":
        return f"{_COMPARED_WITH[period]} {(value - before) * 100:+.1f} 个百分点"
    return f"{_COMPARED_WITH[period]} {(value - before) / before:+.1%}"


def _direction(value: float | None, before: float | None, kind: str) -> int:
    if not _comparable(value, before, kind):
        return 0
    assert value is not None and before is not None
    return (value > before) - (value < before)


def _base_key(key: str) -> str:
    return key.removesuffix("_today").removesuffix("_year")


def overview(*, session: Session, actor: Actor, now: datetime | None = None) -> Overview:
    """The overview of the actor's scope as of ``now`` (Asia/Shanghai days)."""
    authz.require(actor, OBJ, "read")
    today = local_day(now)
    spans = periods(today)
    first = min(spans["year"].previous_start, today - timedelta(days=TREND_DAYS))
    on_time_from = min(spans["month"].previous_start, today - timedelta(days=TREND_DAYS))
    data = _data(session, actor, first, on_time_from, today)
    trend_days = [today - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    trends = _daily(data, trend_days)
    kpis = []
    for key, label, period_key, kind in _CARDS:
        period, base = spans[period_key], _base_key(key)
        value = _measure(base, data, period.start, period.end)
        before = _measure(base, data, period.previous_start, period.previous_end)
        trend = trends[base]
        kpis.append(
            Kpi(
                key=key,
                label=label,
                value=None if value is None else float(value),
                shown=_shown(value, kind),
                change=_change(value, before, kind, period_key),
                direction=0 if period_key == "today" else _direction(value, before, kind),
                trend=[None if t is None else float(t) for t in trend],
            )
        )
    by_key = {kpi.key: kpi for kpi in kpis}
    sentences = _sentences(session, actor, by_key, data, spans["month"])
    days = [day.isoformat() for day in trend_days]
    return Overview(as_of=today.isoformat(), kpis=kpis, sentences=sentences, trend_days=days)


def _sentences(
    session: Session,
    actor: Actor,
    kpis: dict[str, Kpi],
    data: _Data,
    month: Period,
) -> list[str]:
    """What the figures say, written from the figures themselves."""
    day = f"{month.end.month}月{month.end.day}日"
    if not kpis["received"].value and not kpis["completed"].value:
        return [f"截至{day}，本月尚无办件数据。"]
    sentences = [
        f"截至{day}，本月受理 {kpis['received'].shown}、办结 {kpis['completed'].shown}，"
        f"受理量{kpis['received'].change.replace('：', '')}。",
        f"本月平均办理时长 {kpis['avg_hours'].shown}，按时办结率 {kpis['on_time'].shown}；"
        f"网上申请占 {kpis['online_share'].shown}；共享接口调用成功率 "
        f"{kpis['success_rate'].shown}。",
    ]
    ranking = _ranking(session, actor, _in(data.daily, month.start, month.end, "accept"))
    if ranking:
        sentences.append(ranking)
    outages = outage_days(_in(data.calls, month.start, month.end)).head(3)
    if not outages.is_empty():
        names = interface_names(session=session, actor=actor)
        sentences += [outage_sentence(row, names) for row in outages.iter_rows(named=True)]
    return sentences


def _ranking(session: Session, actor: Actor, accepted: pl.DataFrame) -> str:
    """Busiest and quietest county of the month (province-wide readers only)."""
    if not scope_of(actor).all_tenants or accepted.is_empty():
        return ""
    counts = (
        accepted.group_by("tenant")
        .agg(pl.col("cases").sum().cast(pl.Int64))
        .sort(["cases", "tenant"], descending=[True, False])
    )
    if counts.height < 2:
        return ""
    names = tenant_names(session=session, actor=actor)
    top, bottom = counts.row(0, named=True), counts.row(-1, named=True)
    return (
        f"本月受理量最多的是{names.get(top['tenant'], top['tenant'])}（{top['cases']:,} 件），"
        f"最少的是{names.get(bottom['tenant'], bottom['tenant'])}（{bottom['cases']:,} 件）。"
    )
