"""Compute a report's content from its definition: the dashboards' services, one section each.

Every figure comes from the same service calls as the dashboards (so the report agrees with
them), run as the user the report is generated for: that user's permissions and tenant scope
apply, and a county's report can hold nothing of another county.
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Callable
from datetime import date

import polars as pl
from sqlmodel import Session

from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.interfaces.registry_service import interface_names
from console.reports.content import Block, Cell, Chart, ReportContent
from console.reports.definitions import ReportDefinition, SectionDef
from console.stats import service as stats
from console.stats.channels_service import channel_stats
from console.stats.service import DIMENSION_LABELS, MEASURES, TIME_KEYS, StatsQuery
from console.stats.timeliness_service import timeliness

CASE_HEADERS = ["受理件数", "办结件数", "驳回件数", "平均办理时长（小时）"]
CASE_MEASURES = ("received", "completed", "rejected", "avg_hours")


@dataclasses.dataclass(frozen=True)
class Span:
    """A report's period: inclusive days and how it is named."""

    start: date
    end: date
    label: str


def period_span(kind: str, day: date) -> Span:
    """The month or quarter holding ``day``."""
    if kind == "month":
        start = day.replace(day=1)
        label = f"{day.year}年{day.month}月"
    else:
        quarter = (day.month - 1) // 3
        start = date(day.year, quarter * 3 + 1, 1)
        label = f"{day.year}年第{quarter + 1}季度"
    months = 1 if kind == "month" else 3
    last_month = start.month + months - 1
    end = date(start.year, last_month, calendar.monthrange(start.year, last_month)[1])
    return Span(start, end, label)


def previous_span(kind: str, span: Span) -> Span:
    """The period just before ``span``."""
    return period_span(kind, date.fromordinal(span.start.toordinal() - 1))


def _number(value: object) -> float | None:
    if value is None or (isinstance(value, float) and value != value):  # NaN
        return None
    return float(value)  # type: ignore[arg-type]


def _rounded(value: object, digits: int = 1) -> float | None:
    number = _number(value)
    return None if number is None else round(number, digits)


def _change(now: float | None, before: float | None, *, points: bool) -> str:
    if now is None or before is None:
        return "—"
    if points:
        return f"{now - before:+.1f} 个百分点"
    if before == 0:
        return "—"
    return f"{(now - before) / before:+.1%}"


@dataclasses.dataclass(frozen=True)
class _Figures:
    received: float
    completed: float
    rejected: float
    avg_hours: float | None
    on_time_rate: float | None  # percent
    online_share: float | None  # percent
    calls: float
    success_rate: float | None  # percent


def _figures(session: Session, actor: Actor, query: StatsQuery) -> _Figures:
    totals = stats.case_stats(actor=actor, query=query)
    by_channel = stats.case_stats(
        actor=actor, query=dataclasses.replace(query, group_by=("channel",))
    )
    online = by_channel.filter(pl.col("channel") == "online").get_column("received").sum()
    calls = stats.interface_stats(actor=actor, query=query, latency=False)
    businesses = timeliness(session=session, actor=actor, query=query, overdue=False).businesses
    completed_judged = sum(b.completed for b in businesses)

    def first(frame: pl.DataFrame, column: str) -> float | None:
        return None if frame.is_empty() else _number(frame.get_column(column)[0])

    received = first(totals, "received") or 0.0
    call_count = first(calls, "calls") or 0.0
    failures = first(calls, "failures") or 0.0
    return _Figures(
        received=received,
        completed=first(totals, "completed") or 0.0,
        rejected=first(totals, "rejected") or 0.0,
        avg_hours=_rounded(first(totals, "avg_hours")),
        on_time_rate=_rounded(100 * sum(b.on_time for b in businesses) / completed_judged)
        if completed_judged
        else None,
        online_share=_rounded(100 * online / received) if received else None,
        calls=call_count,
        success_rate=_rounded(100 * (call_count - failures) / call_count, 2)
        if call_count
        else None,
    )


_SUMMARY_ROWS = (
    ("受理件数", "received", False),
    ("办结件数", "completed", False),
    ("驳回件数", "rejected", False),
    ("平均办理时长（小时）", "avg_hours", False),
    ("按时办结率（%）", "on_time_rate", True),
    ("网上申请占比（%）", "online_share", True),
    ("共享接口调用次数", "calls", False),
    ("共享接口调用成功率（%）", "success_rate", True),
)


def summary_block(
    session: Session, actor: Actor, section: SectionDef, query: StatsQuery, before: Span
) -> Block:
    """Key figures of the period beside the period before, and what changed."""
    now = _figures(session, actor, query)
    then = _figures(session, actor, dataclasses.replace(query, start=before.start, end=before.end))
    rows: list[list[Cell]] = []
    for label, name, points in _SUMMARY_ROWS:
        value, previous = getattr(now, name), getattr(then, name)
        rows.append([label, value, previous, _change(value, previous, points=points)])
    sentences = [
        f"本期受理 {now.received:,.0f} 件（{before.label} {then.received:,.0f} 件，"
        f"{_change(now.received, then.received, points=False)}），"
        f"办结 {now.completed:,.0f} 件，驳回 {now.rejected:,.0f} 件。"
    ]
    if now.on_time_rate is not None:
        sentences.append(
            f"按时办结率 {now.on_time_rate:.1f}%，"
            f"较上期 {_change(now.on_time_rate, then.on_time_rate, points=True)}。"
        )
    if now.success_rate is not None:
        sentences.append(f"共享接口调用 {now.calls:,.0f} 次，成功率 {now.success_rate:.2f}%。")
    return Block(section.title, sentences, ["指标", "本期", before.label, "变化"], rows, None)


def cases_block(session: Session, actor: Actor, section: SectionDef, query: StatsQuery) -> Block:
    """Cases grouped by one dimension, charted on the section's measure."""
    key = section.group_by
    frame = stats.case_stats(actor=actor, query=dataclasses.replace(query, group_by=(key,)))
    if key not in TIME_KEYS:
        frame = frame.sort([section.measure, key], descending=[True, False], nulls_last=True)
    label = stats.labeller(session=session, actor=actor, dimension=key)
    rows: list[list[Cell]] = [
        [
            label(row[key]),
            *(_rounded(row[m]) if m == "avg_hours" else row[m] for m in CASE_MEASURES),
        ]
        for row in frame.iter_rows(named=True)
    ]
    column = CASE_MEASURES.index(section.measure) + 1
    chart = Chart(
        kind=section.chart,  # type: ignore[arg-type]
        title=f"{MEASURES[section.measure]}（按{DIMENSION_LABELS[key]}）",
        categories=[str(row[0]) for row in rows],
        values=[_number(row[column]) for row in rows],
        value_label=MEASURES[section.measure],
    )
    sentences = stats.describe_breakdown(frame, key, section.measure, label)
    return Block(
        section.title,
        sentences,
        [DIMENSION_LABELS[key], *CASE_HEADERS],
        rows,
        chart if rows else None,
        chart_column=column,
    )


def timeliness_block(
    session: Session, actor: Actor, section: SectionDef, query: StatsQuery
) -> Block:
    """Per business: completions of the period and how many kept the promised limit."""
    found = timeliness(session=session, actor=actor, query=query)
    rows: list[list[Cell]] = [
        [
            b.label,
            b.limit_workdays,
            b.completed,
            b.on_time,
            b.on_time_rate,
            _rounded(b.p50_hours),
            _rounded(b.p90_hours),
        ]
        for b in found.businesses
    ]
    headers = ["业务", "承诺时限（工作日）", "办结件数", "按时办结件数", "按时办结率",
               "中位办理时长（小时）", "P90 办理时长（小时）"]  # fmt: skip
    chart = Chart("bar", "各业务按时办结率", [str(r[0]) for r in rows],
                  [_number(r[4]) for r in rows], "按时办结率")  # fmt: skip
    return Block(section.title, found.sentences, headers, rows, chart if rows else None,
                 chart_column=4, percent_columns=(4,))  # fmt: skip


def interfaces_block(
    session: Session, actor: Actor, section: SectionDef, query: StatsQuery
) -> Block:
    """Sharing calls per interface, worst first, with outage days in the text."""
    table = stats.interface_stats(
        actor=actor, query=dataclasses.replace(query, group_by=("department", "interface_code"))
    ).sort(["success_rate", "calls"], descending=[False, True])
    days = stats.interface_stats(
        actor=actor,
        query=dataclasses.replace(query, group_by=("day", "department", "interface_code")),
        latency=False,
    )
    names = interface_names(session=session, actor=actor)
    rows: list[list[Cell]] = [
        [
            f"{r['department']}「{names.get(r['interface_code'], r['interface_code'])}」",
            r["calls"],
            r["failures"],
            r["success_rate"],
            _rounded(r["p50_ms"], 0),
            _rounded(r["p95_ms"], 0),
        ]
        for r in table.iter_rows(named=True)
    ]
    headers = ["接口", "调用次数", "失败次数", "成功率", "P50 时延（毫秒）", "P95 时延（毫秒）"]
    chart = Chart("bar", "各接口调用次数", [str(r[0]) for r in rows],
                  [_number(r[1]) for r in rows], "调用次数")  # fmt: skip
    sentences = stats.describe_interfaces(table, names, stats.outage_days(days))
    return Block(section.title, sentences, headers, rows, chart if rows else None,
                 chart_column=1, percent_columns=(3,))  # fmt: skip


def channels_block(session: Session, actor: Actor, section: SectionDef, query: StatsQuery) -> Block:
    """Institutions' cases, rejections and rejection rates, flagged over the threshold."""
    found = channel_stats(session=session, actor=actor, query=query)
    rows: list[list[Cell]] = [
        [
            i.institution,
            stats.CHANNEL_LABELS.get(i.channel, i.channel),
            i.received,
            i.completed,
            i.rejected,
            i.rejection_rate,
            "是" if i.flagged else "",
        ]
        for i in found.institutions
    ]
    headers = ["机构", "渠道", "受理件数", "办结件数", "驳回件数", "驳回率", "超过预警线"]
    chart = Chart("bar", "各机构受理件数", [str(r[0]) for r in rows],
                  [_number(r[2]) for r in rows], "受理件数")  # fmt: skip
    return Block(section.title, found.sentences, headers, rows, chart if rows else None,
                 chart_column=2, percent_columns=(5,))  # fmt: skip


def build_report(
    *,
    session: Session,
    actor: Actor,
    definition: ReportDefinition,
    tenant: str,
    scope_label: str,
    span: Span,
    progress: Callable[[int], None] = lambda _done: None,
) -> ReportContent:
    """Every section of ``definition`` for ``tenant`` ('' = the actor's whole scope).

    ``progress`` hears the percentage of sections done.
    """
    query = StatsQuery(span.start, span.end, tenant=tenant)
    before = previous_span(definition.period, span)
    blocks = []
    for number, section in enumerate(definition.sections, start=1):
        if section.kind == "summary":
            blocks.append(summary_block(session, actor, section, query, before))
        else:
            blocks.append(_BUILDERS[section.kind](session, actor, section, query))
        progress(100 * number // len(definition.sections))
    return ReportContent(
        title=definition.title,
        scope_label=scope_label,
        period_label=span.label,
        generated_at=to_local_text(utcnow()),
        generated_by=actor.display_name,
        blocks=blocks,
    )


_BUILDERS: dict[str, Callable[[Session, Actor, SectionDef, StatsQuery], Block]] = {
    "cases": cases_block,
    "timeliness": timeliness_block,
    "interfaces": interfaces_block,
    "channels": channels_block,
}
