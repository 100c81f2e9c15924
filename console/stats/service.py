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
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from sqlmodel import Session

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text
from console.core.errors import ValidationFailed
from console.core.paging import Page, PageRequest
from console.core.settings import get_settings
from console.dictionaries import lookup
from console.dictionaries.lookup import DIVISION_TYPE
from console.logs.rollup import LATENCY_GAMMA, rollup_view
from console.logs.search import pending_events
from console.tenancy.scope import restrict_frame

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
CHANNEL_LABELS = {
    "window": "窗口", "online": "网上", "bank": "银行", "developer": "开发企业",
    "broker": "经纪机构", "agent": "代理机构",
}  # fmt: skip
# Dimensions the daily case rollup holds (institution needs the per-case rows).
DAILY_DIMENSIONS = frozenset(CASE_GROUPS) - {"institution"}
INTERFACE_GROUPS = ("tenant", "department", "interface_code", "day")
MAX_DAYS = 800  # two years and a little: a year against the year before
_CASE = pl.struct("tenant", "case_no")


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


def _view(lake: Path, name: str, stream: str, actor: Actor, query: StatsQuery) -> pl.LazyFrame:
    """A rollup in the actor's scope, within the period (and the chosen county)."""
    frame = rollup_view(lake, name, pending_events(lake, stream))
    if frame is None:
        return pl.LazyFrame()
    frame = restrict_frame(frame, actor).filter(pl.col("day").is_between(query.start, query.end))
    if query.tenant:
        frame = frame.filter(pl.col("tenant") == query.tenant)
    for column, value in query.where:
        frame = frame.filter(pl.col(column).cast(pl.String) == value)
    return frame.with_columns(
        pl.col("day").dt.strftime("%Y-%m").alias("month"),
        (pl.col("tenant").str.slice(0, 4) + "00").alias("city"),
        pl.col("day").dt.truncate("1w").dt.strftime("%Y-%m-%d").alias("week"),
        pl.format("{}Q{}", pl.col("day").dt.year(), pl.col("day").dt.quarter()).alias("quarter"),
    )


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
    rows = _view(get_settings().lake_dir, name, "case_event", actor, query)
    if not rows.collect_schema().names():
        return _empty(keys, {"received": pl.UInt32, "completed": pl.UInt32, "rejected": pl.UInt32,
                             "avg_hours": pl.Float64})  # fmt: skip
    of = {step: rows.filter(pl.col("step") == step) for step in ("accept", "close", "reject")}
    if daily:  # the day's distinct cases, added up: a few thousand rows instead of millions
        count = pl.col("cases").sum().cast(pl.UInt32)
        hours = pl.col("hours_sum").sum() / pl.col("hours_count").sum()
    else:
        count, hours = _CASE.n_unique(), pl.col("hours").mean()
    parts = [
        _grouped(of["accept"], keys, count.alias("received")),
        _grouped(of["close"], keys, count.alias("completed"), hours.alias("avg_hours")),
        _grouped(of["reject"], keys, count.alias("rejected")),
    ]
    combined = _combine(parts, keys)
    return combined.with_columns(pl.col("received", "completed", "rejected").fill_null(0)).select(
        *keys, "received", "completed", "rejected", "avg_hours"
    )


def _empty(keys: list[str], measures: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema={**dict.fromkeys(keys, pl.String), **measures})


def _quantiles(latency: pl.LazyFrame, keys: list[str], qs: dict[str, float]) -> pl.LazyFrame:
    """Per group, the value of the bucket holding the q-th call (rank ⌈q·n⌉), for each q."""

    def per_group(expr: pl.Expr) -> pl.Expr:
        return expr.over(keys) if keys else expr

    ranked = (
        latency.group_by([*keys, "bucket"])
        .agg(pl.col("calls").sum())
        .sort([*keys, "bucket"])
        .with_columns(
            per_group(pl.col("calls").cum_sum()).alias("running"),
            per_group(pl.col("calls").sum()).alias("total"),
        )
    )
    found = _grouped(
        ranked,
        keys,
        *[
            pl.col("bucket")
            .filter(pl.col("running") >= (pl.col("total") * q).ceil())
            .min()
            .alias(name)
            for name, q in qs.items()
        ],
    )
    middle = 2 / (LATENCY_GAMMA + 1)
    return found.with_columns(
        (middle * pl.lit(LATENCY_GAMMA).pow(pl.col(name))).alias(name) for name in qs
    )


def interface_stats(*, actor: Actor, query: StatsQuery) -> pl.DataFrame:
    """calls, failures, success_rate, p50_ms and p95_ms per group of the period."""
    authz.require(actor, OBJ, "read", target="interfaces")
    _check(query, INTERFACE_GROUPS)
    lake = get_settings().lake_dir
    daily = _view(lake, "interface_daily", "interface_call", actor, query)
    keys = list(query.group_by)
    if not daily.collect_schema().names():
        return _empty(keys, {"calls": pl.Int64, "failures": pl.Int64, "success_rate": pl.Float64,
                             "p50_ms": pl.Float64, "p95_ms": pl.Float64})  # fmt: skip
    latency = _view(lake, "interface_latency", "interface_call", actor, query)
    counts = _grouped(
        daily,
        keys,
        pl.col("calls").sum().alias("calls"),
        pl.col("calls").filter(~pl.col("success")).sum().alias("failures"),
    )
    combined = _combine([counts, _quantiles(latency, keys, {"p50_ms": 0.5, "p95_ms": 0.95})], keys)
    return combined.with_columns(
        (1 - pl.col("failures") / pl.col("calls")).round(4).alias("success_rate")
    ).select(*keys, "calls", "failures", "success_rate", "p50_ms", "p95_ms")


def accept_heatmap(*, actor: Actor, query: StatsQuery) -> pl.DataFrame:
    """Cases received per weekday (1 = Monday) and hour (Beijing time) of the 受理 event."""
    authz.require(actor, OBJ, "read", target="cases")
    _check(query, CASE_GROUPS)
    steps = _view(get_settings().lake_dir, "case_steps", "case_event", actor, query)
    if not steps.collect_schema().names():
        return _empty(["weekday", "hour"], {"cases": pl.UInt32})
    local = pl.col("ts").dt.convert_time_zone("Asia/Shanghai")
    return (
        steps.filter(pl.col("step") == "accept")
        .group_by(local.dt.weekday().alias("weekday"), local.dt.hour().alias("hour"))
        .agg(_CASE.n_unique().alias("cases"))
        .sort("weekday", "hour")
        .collect()
    )


def result_codes(*, actor: Actor, query: StatsQuery) -> pl.DataFrame:
    """Calls per result code (and whether the call succeeded), most frequent first."""
    authz.require(actor, OBJ, "read", target="interfaces")
    _check(query, INTERFACE_GROUPS)
    daily = _view(get_settings().lake_dir, "interface_daily", "interface_call", actor, query)
    if not daily.collect_schema().names():
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


def label_of(dimension: str, code: object, names: dict[str, str]) -> str:
    """How a dimension's value is shown: county and city names, dictionary labels, channels."""
    text = "" if code is None else str(code)
    if dimension == "tenant":
        return names.get(text, text)
    if dimension == "city":
        return lookup.label(DIVISION_TYPE, text)
    if dimension in ("registration_type", "business_code"):
        return f"{lookup.label(dimension, text)}（{text}）"
    if dimension == "channel":
        return CHANNEL_LABELS.get(text, text)
    return text or "（未填）"


@dataclass(frozen=True)
class CaseRow:
    """One case of a drill-down list."""

    tenant: str
    case_no: str
    business_code: str
    channel: str
    time: str
    hours: str


def case_list(
    *, actor: Actor, query: StatsQuery, step: str, where: dict[str, str], page: PageRequest
) -> Page[CaseRow]:
    """The cases behind a figure: their ``step`` events in the period matching ``where``."""
    authz.require(actor, OBJ, "read", target="cases")
    _check(query, CASE_GROUPS)
    unknown = [k for k in where if k not in CASE_GROUPS]
    if unknown or step not in ("accept", "close", "reject"):
        raise ValidationFailed("下钻条件不正确", field="下钻")
    steps = _view(get_settings().lake_dir, "case_steps", "case_event", actor, query)
    if not steps.collect_schema().names():
        return Page([], 0, page.page, page.size)
    chosen = steps.filter(pl.col("step") == step)
    for column, value in where.items():
        chosen = chosen.filter(pl.col(column).cast(pl.String) == value)
    total, window = pl.collect_all(
        [
            chosen.select(pl.len()),
            chosen.sort("ts", descending=True).slice(page.offset, page.size),
        ]
    )
    rows = [
        CaseRow(
            tenant=row["tenant"],
            case_no=row["case_no"],
            business_code=row["business_code"],
            channel=CHANNEL_LABELS.get(row["channel"], row["channel"]),
            time=to_local_text(row["ts"]),
            hours="" if row["hours"] is None else f"{row['hours']:.1f}",
        )
        for row in window.iter_rows(named=True)
    ]
    return Page(rows, int(total.item()), page.page, page.size)


def record_export(
    *, session: Session, actor: Actor, query: StatsQuery, rows: int, fmt: str
) -> None:
    """Allow and log an export of a statistics table (``dashboards.statistics:export``)."""
    authz.require(actor, OBJ, "export", target="cases")
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
