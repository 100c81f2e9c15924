"""Case and sharing-interface statistics from the log lake's daily rollups (and today's events).

Definitions (the stats API and every dashboard use these):

- ``received``: distinct cases (tenant, case number) with a 受理 (``accept``) event in the
  period, grouped by that event's dimensions; ``completed``: with an 办结 (``close``) event;
  ``rejected``: with a 驳回 (``reject``) event; ``avg_hours``: mean time from a completed
  case's first 受理 to its 办结, in hours. They are read from the daily rollup — each day's
  distinct cases, added up — which equals the distinct count over the period unless a case
  sends the same step on two different days (it then counts on each); a breakdown by
  institution counts the per-case rows exactly.
- ``calls``, ``failures`` (``success`` false), ``success_rate``; ``p50_ms``/``p95_ms`` from the
  latency buckets, within 1 % of the exact values.
- Days are Asia/Shanghai calendar days, both ends inclusive. Every query is limited to the
  actor's tenants by the data-scope helper.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlmodel import Session

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import CHINA_TZ, to_local_text
from console.core.errors import ValidationFailed
from console.core.exporting import FORMATS
from console.core.paging import Page, PageRequest
from console.core.settings import get_settings
from console.dictionaries import lookup
from console.dictionaries.lookup import DIVISION_TYPE
from console.logs.catalogue import snapshot
from console.logs.labels import CHANNEL_LABELS, named
from console.logs.rollup import bucket_quantiles, rollup_views
from console.logs.search import trace_url
from console.tenancy.scope import restrict_frame
from console.tenancy.service import tenant_names

OBJ = "dashboards.statistics"
CASE_GROUPS = (
    "tenant", "registration_type", "business_code", "channel", "day", "month",
    "city", "week", "quarter", "institution",
)  # fmt: skip
DIMENSION_LABELS = {
    "city": "市", "tenant": "区县", "registration_type": "登记类型", "business_code": "业务",
    "channel": "渠道", "institution": "机构", "day": "日", "week": "周", "month": "月",
    "quarter": "季度", "department": "部门", "interface_code": "接口",
}  # fmt: skip
MEASURES = {"received": "受理件数", "completed": "办结件数", "rejected": "驳回件数",
            "avg_hours": "平均办理时长（小时）"}  # fmt: skip
MEASURE_STEP = {"received": "accept", "completed": "close", "rejected": "reject",
                "avg_hours": "close"}  # fmt: skip
TIME_KEYS = ("day", "week", "month", "quarter")
# The controls of 统计分析, as (value, label): what a saved view may hold.
DIMENSION_CHOICES = (
    ("region", "地区"), ("time", "时间"), ("registration_type", "登记类型"),
    ("business_code", "业务"), ("channel", "渠道"), ("institution", "机构"),
)  # fmt: skip
GRAINS = (("day", "日"), ("week", "周"), ("month", "月"), ("quarter", "季"))
CROSS_CHOICES = (("none", "不交叉"), ("channel", "渠道"), ("registration_type", "登记类型"),
                 ("business_code", "业务"), ("tenant", "区县"), ("month", "月"))  # fmt: skip
CHART_CHOICES = (("auto", "自动"), ("bar", "柱状图"), ("line", "折线图"), ("pie", "饼图"))
CHANNEL_FILTER = (("all", "全部渠道"), *CHANNEL_LABELS.items())
# A day on which an interface failed at least this share of at least this many calls.
OUTAGE_FAILURE_RATE = 0.5
OUTAGE_MIN_CALLS = 10
# Dimensions the daily case rollup holds (institution needs the per-case rows).
DAILY_DIMENSIONS = frozenset(CASE_GROUPS) - {"institution"}
INTERFACE_GROUPS = ("tenant", "department", "interface_code", "day")
MAX_DAYS = 800  # two years and a little: a year against the year before
CASE_KEY = pl.struct("tenant", "case_no")  # a case is known by its tenant and number


@dataclass(frozen=True)
class StatsQuery:
    """A period (inclusive days), the dimensions to group by, and an optional county."""

    start: date
    end: date
    group_by: tuple[str, ...] = ()
    tenant: str = ""
    where: tuple[tuple[str, str], ...] = ()  # (column, value) pairs every row must match


def _check(query: StatsQuery, allowed: tuple[str, ...]) -> None:
    if query.end < query.start:
        raise ValidationFailed("结束日期不能早于开始日期", field="时间范围")
    if (query.end - query.start).days >= MAX_DAYS:
        raise ValidationFailed(f"一次最多统计 {MAX_DAYS} 天", field="时间范围")
    unknown = [g for g in query.group_by if g not in allowed]
    if unknown:
        raise ValidationFailed(
            f"不支持 {'、'.join(unknown)}；可用：{'、'.join(allowed)}", field="group_by"
        )
    if len(set(query.group_by)) != len(query.group_by):
        raise ValidationFailed("分组维度不能重复", field="group_by")
    if any(column not in allowed for column, _ in query.where):
        raise ValidationFailed("筛选条件只能用分组维度", field="筛选")


def lake_views(actor: Actor, query: StatsQuery, *names: str) -> dict[str, pl.LazyFrame]:
    """The named rollups in the actor's scope, the period, the chosen county and filters.

    Each stream's unsealed events are read once, and only the named rollups built from them.
    The derived dimensions (month, city, week, quarter) exist before ``query.where`` applies.
    """
    with snapshot(get_settings().lake_dir) as snap:
        views = rollup_views(snap, names)
    return {name: _scoped(views[name], actor, query) for name in names}


def with_dictionary_types(frame: pl.LazyFrame) -> pl.LazyFrame:
    """登记类型 from the business dictionary (所属类别), the sender's value kept beside it.

    Sealed files and rollups keep ``registration_type`` as sent; every figure groups by the
    type the business dictionary gives the business code, so an edited dictionary applies
    to every day at once. A code the dictionary does not classify keeps the sent type.
    """
    columns = frame.collect_schema().names()
    if "registration_type" not in columns or "business_code" not in columns:
        return frame
    types = lookup.categories("business_code")
    sent = pl.col("registration_type")
    derived = (
        pl.col("business_code").replace_strict(types, default=sent, return_dtype=pl.String)
        if types
        else sent
    )
    return frame.with_columns(
        sent.alias("sent_registration_type"), derived.alias("registration_type")
    )


def _scoped(frame: pl.LazyFrame | None, actor: Actor, query: StatsQuery) -> pl.LazyFrame:
    if frame is None:
        return pl.LazyFrame()
    frame = restrict_frame(frame, actor).filter(pl.col("day").is_between(query.start, query.end))
    frame = with_dictionary_types(frame).with_columns(
        pl.col("day").dt.strftime("%Y-%m").alias("month"),
        (pl.col("tenant").str.slice(0, 4) + "00").alias("city"),
        pl.col("day").dt.truncate("1w").dt.strftime("%Y-%m-%d").alias("week"),
        pl.format("{}Q{}", pl.col("day").dt.year(), pl.col("day").dt.quarter()).alias("quarter"),
    )
    if query.tenant:
        frame = frame.filter(pl.col("tenant") == query.tenant)
    for column, value in query.where:
        frame = frame.filter(pl.col(column).cast(pl.String) == value)
    return frame


def _empty_frame(frame: pl.LazyFrame) -> bool:
    return not frame.collect_schema().names()


def _grouped(frame: pl.LazyFrame, keys: list[str], *measures: pl.Expr) -> pl.LazyFrame:
    if keys:
        return frame.group_by(keys).agg(*measures)
    return frame.select(*measures)


def _combine(parts: list[pl.LazyFrame], keys: list[str]) -> pl.DataFrame:
    """Outer-join per-measure results on the group keys (a group missing from one is zero)."""
    result = parts[0]
    for part in parts[1:]:
        if keys:
            result = result.join(part, on=keys, how="full", coalesce=True, nulls_equal=True)
        else:
            result = pl.concat([result, part], how="horizontal")
    return result.sort(keys).collect() if keys else result.collect()


def case_stats(*, actor: Actor, query: StatsQuery) -> pl.DataFrame:
    """received, completed, rejected and avg_hours per group of the period."""
    authz.require(actor, OBJ, "read", target="cases")
    _check(query, CASE_GROUPS)
    keys = list(query.group_by)
    daily = set(keys) | {column for column, _ in query.where} <= DAILY_DIMENSIONS
    name = "cases_daily" if daily else "case_steps"
    rows = lake_views(actor, query, name)[name]
    if _empty_frame(rows):
        return _empty(keys, {"received": pl.UInt32, "completed": pl.UInt32, "rejected": pl.UInt32,
                             "avg_hours": pl.Float64})  # fmt: skip
    of = {step: rows.filter(pl.col("step") == step) for step in ("accept", "close", "reject")}
    if daily:  # the day's distinct cases, added up: a few thousand rows instead of millions
        count = pl.col("cases").sum().cast(pl.UInt32)
        counted = pl.col("hours_count").sum()
        hours = pl.when(counted > 0).then(pl.col("hours_sum").sum() / counted)
    else:
        count, hours = CASE_KEY.n_unique(), pl.col("hours").mean()
    parts = [
        _grouped(of["accept"], keys, count.alias("received")),
        _grouped(of["close"], keys, count.alias("completed"), hours.alias("avg_hours")),
        _grouped(of["reject"], keys, count.alias("rejected")),
    ]
    combined = _combine(parts, keys)
    return combined.with_columns(pl.col("received", "completed", "rejected").fill_null(0)).select(
        *keys, "received", "completed", "rejected", "avg_hours"
    )


@dataclass(frozen=True)
class TypeMismatch:
    """Cases a county sent with a 登记类型 other than the business dictionary's."""

    tenant: str
    business_code: str
    sent: str
    expected: str
    cases: int


def registration_type_mismatches(*, actor: Actor, query: StatsQuery) -> list[TypeMismatch]:
    """数据质量: per county and business, accepted cases whose sent 登记类型 disagrees."""
    authz.require(actor, OBJ, "read", target="cases")
    _check(query, CASE_GROUPS)
    rows = lake_views(actor, query, "cases_daily")["cases_daily"]
    if _empty_frame(rows):
        return []
    found = (
        rows.filter(
            (pl.col("step") == "accept")
            & (pl.col("sent_registration_type") != pl.col("registration_type"))
        )
        .group_by("tenant", "business_code", "sent_registration_type", "registration_type")
        .agg(pl.col("cases").sum())
        .sort(["cases", "tenant", "business_code"], descending=[True, False, False])
        .collect()
    )
    return [TypeMismatch(*row) for row in found.iter_rows()]


def describe_mismatches(
    mismatches: list[TypeMismatch], tenant: Callable[[object], str], types: Callable[[object], str]
) -> list[str]:
    """The 数据质量 sentences: which county sent which business under which other type."""
    if not mismatches:
        return ["所选期间各区县报送的登记类型均与业务字典一致。"]
    total = sum(m.cases for m in mismatches)
    lines = [f"共 {total:,} 件办件报送的登记类型与业务字典不一致，统计已按业务字典归类："]
    lines += [
        f"{tenant(m.tenant)}：业务 {m.business_code} 报送为{types(m.sent)}，"
        f"业务字典为{types(m.expected)}，{m.cases:,} 件"
        for m in mismatches[:MISMATCH_LINES]
    ]
    if len(mismatches) > MISMATCH_LINES:
        lines.append(f"另有 {len(mismatches) - MISMATCH_LINES} 组，请按区县缩小范围查看。")
    return lines


MISMATCH_LINES = 10


def _empty(keys: list[str], measures: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema={**dict.fromkeys(keys, pl.String), **measures})


def interface_stats(*, actor: Actor, query: StatsQuery, latency: bool = True) -> pl.DataFrame:
    """calls, failures, success_rate (and, with ``latency``, p50_ms and p95_ms) per group."""
    authz.require(actor, OBJ, "read", target="interfaces")
    _check(query, INTERFACE_GROUPS)
    names = ("interface_daily", "interface_latency") if latency else ("interface_daily",)
    views = lake_views(actor, query, *names)
    keys = list(query.group_by)
    measures = ["calls", "failures", "success_rate", *(["p50_ms", "p95_ms"] if latency else [])]
    if _empty_frame(views["interface_daily"]):
        return _empty(keys, {m: pl.Int64 if m in ("calls", "failures") else pl.Float64
                             for m in measures})  # fmt: skip
    parts = [
        _grouped(
            views["interface_daily"],
            keys,
            pl.col("calls").sum().alias("calls"),
            pl.col("calls").filter(~pl.col("success")).sum().alias("failures"),
        )
    ]
    if latency:
        quantiles = {"p50_ms": 0.5, "p95_ms": 0.95}
        parts.append(bucket_quantiles(views["interface_latency"], keys, quantiles))
    return (
        _combine(parts, keys)
        .with_columns((1 - pl.col("failures") / pl.col("calls")).round(4).alias("success_rate"))
        .select(*keys, *measures)
    )


def outage_days(daily_calls: pl.DataFrame) -> pl.DataFrame:
    """Days an interface failed at least ``OUTAGE_FAILURE_RATE`` of ``OUTAGE_MIN_CALLS`` or more.

    ``daily_calls`` has day, department, interface_code, calls and failures; the worst first.
    """
    if daily_calls.is_empty():
        return daily_calls
    return (
        daily_calls.with_columns((pl.col("failures") / pl.col("calls")).alias("rate"))
        .filter((pl.col("calls") >= OUTAGE_MIN_CALLS) & (pl.col("rate") >= OUTAGE_FAILURE_RATE))
        .sort(["rate", "calls", "day"], descending=[True, True, False])
    )


def describe_interfaces(
    table: pl.DataFrame, names: dict[str, str], outages: pl.DataFrame
) -> list[str]:
    """What 共享接口监测 says: overall rate, worst interface (``table`` is worst first), outages."""
    if table.is_empty():
        return ["所选期间没有共享接口调用记录。"]
    calls, failures = int(table.get_column("calls").sum()), int(table.get_column("failures").sum())
    worst = table.row(0, named=True)
    code = worst["interface_code"]
    p95 = "—" if worst["p95_ms"] is None else f"{worst['p95_ms']:,.0f} ms"
    return [
        f"所选期间共调用共享接口 {calls:,} 次，失败 {failures:,} 次，"
        f"成功率 {(calls - failures) / calls:.2%}。",
        f"成功率最低的是{worst['department']}「{names.get(code, code)}」"
        f"（{worst['success_rate']:.2%}，p95 时延 {p95}）。",
        *[outage_sentence(row, names) for row in outages.head(3).iter_rows(named=True)],
    ]


def outage_sentence(row: dict[str, object], names: dict[str, str]) -> str:
    """One outage day as the dashboards say it."""
    day, code = row["day"], str(row["interface_code"])
    assert isinstance(day, date)
    return (
        f"{day.month}月{day.day}日 {row['department']}「{names.get(code, code)}」调用失败 "
        f"{row['failures']:,} 次（共 {row['calls']:,} 次，失败率 {row['rate']:.0%}），疑似中断。"
    )


def accept_heatmap(*, actor: Actor, query: StatsQuery) -> pl.DataFrame:
    """Cases received per weekday (1 = Monday) and hour (Beijing time) of the 受理 event."""
    authz.require(actor, OBJ, "read", target="cases")
    _check(query, CASE_GROUPS)
    steps = lake_views(actor, query, "case_steps")["case_steps"]
    if _empty_frame(steps):
        return _empty(["weekday", "hour"], {"cases": pl.UInt32})
    local = pl.col("ts").dt.convert_time_zone(CHINA_TZ.key)
    return (
        steps.filter(pl.col("step") == "accept")
        .group_by(local.dt.weekday().alias("weekday"), local.dt.hour().alias("hour"))
        .agg(CASE_KEY.n_unique().alias("cases"))
        .sort("weekday", "hour")
        .collect()
    )


def result_codes(*, actor: Actor, query: StatsQuery) -> pl.DataFrame:
    """Calls per result code (and whether the call succeeded), most frequent first."""
    authz.require(actor, OBJ, "read", target="interfaces")
    _check(query, INTERFACE_GROUPS)
    daily = lake_views(actor, query, "interface_daily")["interface_daily"]
    if _empty_frame(daily):
        return _empty(["result_code"], {"success": pl.Boolean, "calls": pl.Int64})
    return (
        daily.group_by("result_code", "success")
        .agg(pl.col("calls").sum())
        .sort(["calls", "result_code"], descending=[True, False])
        .collect()
    )


def rows_of(frame: pl.DataFrame) -> list[dict[str, object]]:
    """JSON-ready rows: dates as ISO text, floats rounded, NaN as null."""
    rows = []
    for row in frame.iter_rows(named=True):
        for key, value in row.items():
            if isinstance(value, date):
                row[key] = value.isoformat()
            elif isinstance(value, float):
                row[key] = None if math.isnan(value) else round(value, 2)
        rows.append(row)
    return rows


_QUARTER = re.compile(r"(\d{4})Q([1-4])")


def labeller(*, session: Session, actor: Actor, dimension: str) -> Callable[[object], str]:
    """How a dimension's values are shown: county and city names, dictionary labels, channels.

    Every label is looked up once, for a whole table.
    """
    known: dict[str, str] = {}
    if dimension == "tenant":
        known = tenant_names(session=session, actor=actor)
    elif dimension == "city":
        known = lookup.labels(DIVISION_TYPE)
    elif dimension in ("registration_type", "business_code"):
        known = {code: f"{name}（{code}）" for code, name in lookup.labels(dimension).items()}
    elif dimension == "channel":
        known = CHANNEL_LABELS

    def label(code: object) -> str:
        text = "" if code is None else str(code)
        if dimension == "quarter" and (found := _QUARTER.fullmatch(text)):
            return f"{found[1]}年第{found[2]}季度"
        return known.get(text, text) or "（未填）"

    return label


def describe_breakdown(
    frame: pl.DataFrame, key: str, measure: str, label: Callable[[object], str]
) -> list[str]:
    """Sentences stating what a breakdown shows: total, largest and smallest group."""
    values = frame.select(key, measure).drop_nulls(measure) if not frame.is_empty() else frame
    if values.is_empty():
        return ["所选期间没有办件数据，请调整时间范围或维度。"]
    name, noun = MEASURES[measure].removesuffix("（小时）"), DIMENSION_LABELS.get(key, key)
    ordered = values.sort([measure, key], descending=[True, False], nulls_last=True)
    (top, high), (bottom, low) = ordered.row(0), ordered.row(-1)
    if measure == "avg_hours":
        return [
            f"{name}最长的{noun}是{label(top)}（{high:.1f} 小时），"
            f"最短的是{label(bottom)}（{low:.1f} 小时）。"
        ]
    total = int(values.get_column(measure).sum())
    share = high / total if total else 0
    return [
        f"所选期间{name}共 {total:,} 件，分布在 {values.height} 个{noun}。",
        f"最多的是{label(top)}（{int(high):,} 件，占 {share:.1%}），"
        f"最少的是{label(bottom)}（{int(low):,} 件）。",
    ]


@dataclass(frozen=True)
class CaseRow:
    """One case of a drill-down list."""

    tenant: str
    case_no: str
    business_code: str
    channel: str
    time: str
    hours: str
    trace_url: str
    business: str = ""  # what the page shows: 抵押权登记…（9000101）
    tenant_name: str = ""


def case_list(*, actor: Actor, query: StatsQuery, step: str, page: PageRequest) -> Page[CaseRow]:
    """The cases behind a figure: their ``step`` events in the period matching ``query.where``."""
    authz.require(actor, OBJ, "read", target="cases")
    _check(query, CASE_GROUPS)
    if step not in ("accept", "close", "reject"):
        raise ValidationFailed("下钻条件不正确", field="下钻")
    steps = lake_views(actor, query, "case_steps")["case_steps"]
    if _empty_frame(steps):
        return Page([], 0, page.page, page.size)
    chosen = steps.filter(pl.col("step") == step)
    total, window = pl.collect_all(
        [
            chosen.select(pl.len()),
            chosen.sort("ts", descending=True).slice(page.offset, page.size),
        ]
    )
    businesses, places = lookup.labels("business_code"), lookup.labels(DIVISION_TYPE)
    rows = [
        CaseRow(
            tenant=row["tenant"],
            case_no=row["case_no"],
            business_code=row["business_code"],
            channel=CHANNEL_LABELS.get(row["channel"], row["channel"]),
            time=to_local_text(row["ts"]),
            hours="" if row["hours"] is None else f"{row['hours']:.1f}",
            trace_url=trace_url(row["case_no"]),
            business=named(businesses.get(row["business_code"]), row["business_code"]),
            tenant_name=places.get(row["tenant"], row["tenant"]),
        )
        for row in window.iter_rows(named=True)
    ]
    return Page(rows, int(total.item()), page.page, page.size)


def record_export(
    *, session: Session, actor: Actor, query: StatsQuery, rows: int, fmt: str
) -> None:
    """Allow and log an export of a statistics table (``dashboards.statistics:export``)."""
    authz.require(actor, OBJ, "export", target="cases")
    if fmt not in FORMATS:
        raise ValidationFailed(f"应为 {'、'.join(FORMATS)} 之一", field="导出格式")
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="export",
        target="cases",
        detail={
            "rows": rows,
            "format": fmt,
            "from": query.start.isoformat(),
            "to": query.end.isoformat(),
            "group_by": list(query.group_by),
        },
    )
