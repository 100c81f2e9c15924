"""A report's figures equal DuckDB over the same Parquet files; a county's report holds only it."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from console.core.db import session_scope
from console.reports.builder import Span, build_report, period_span, previous_span
from console.reports.content import Block, ReportContent
from console.reports.definitions import definitions
from console.stats.service import CHANNEL_LABELS, StatsQuery
from console.tenancy.models import Tenant
from tests.support.world import XIHU, World
from tests.unit.stats.conftest import database_url, duck  # noqa: F401  (SQLite only)
from tests.unit.stats.test_service import _duck_cases

SPAN = Span(date(2026, 11, 1), date(2026, 11, 26), "2026年11月（1–26日）")


def _build(world: World, role: str, tenant: str, scope: str) -> ReportContent:
    with session_scope() as session:
        return build_report(
            session=session,
            actor=world.actor(role),
            definition=definitions()["monthly"],
            tenant=tenant,
            scope_label=scope,
            span=SPAN,
        )


def _block(content: ReportContent, title_part: str) -> Block:
    return next(b for b in content.blocks if title_part in b.title)


def _column(block: Block, header: str) -> dict[object, object]:
    index = block.headers.index(header)
    return {row[0]: row[index] for row in block.rows}


def _tenant_names() -> dict[str, str]:
    with session_scope() as session:
        return {t.code: t.name for t in session.exec(select(Tenant)).all()}


def test_periods_are_calendar_months_and_quarters() -> None:
    assert period_span("month", date(2026, 2, 14)) == Span(
        date(2026, 2, 1), date(2026, 2, 28), "2026年2月"
    )
    quarter = period_span("quarter", date(2026, 11, 27))
    assert quarter == Span(date(2026, 10, 1), date(2026, 12, 31), "2026年第4季度")
    assert previous_span("quarter", quarter).label == "2026年第3季度"
    assert previous_span("month", period_span("month", date(2026, 1, 5))).label == "2025年12月"


def test_province_report_figures_equal_duckdb(province: World) -> None:
    content = _build(province, "province_supervisor", "", "全省")
    period = StatsQuery(SPAN.start, SPAN.end)
    before = StatsQuery(date(2026, 10, 1), date(2026, 10, 31))
    totals, earlier = _duck_cases("", period).row(0, named=True), _duck_cases("", before)
    summary = _block(content, "总体情况")
    now, previous = _column(summary, "本期"), _column(summary, "2026年10月")
    for label, measure in (("受理件数", "received"), ("办结件数", "completed"),
                           ("驳回件数", "rejected")):  # fmt: skip
        assert now[label] == totals[measure]
        assert previous[label] == earlier.row(0, named=True)[measure]
    calls = duck(
        "SELECT count(*) AS calls, count(*) FILTER (WHERE success) AS ok FROM interface_call "
        f"WHERE day BETWEEN '{SPAN.start}' AND '{SPAN.end}'"
    ).row(0, named=True)
    assert now["共享接口调用次数"] == calls["calls"]
    assert now["共享接口调用成功率（%）"] == round(100 * calls["ok"] / calls["calls"], 2)
    assert f"本期受理 {totals['received']:,} 件" in summary.sentences[0]

    names = _tenant_names()
    by_tenant = _duck_cases("tenant", period)
    expected = {names[r["tenant"]]: r["received"] for r in by_tenant.to_dicts()}
    counties = _block(content, "各区县")
    assert _column(counties, "受理件数") == expected
    assert counties.chart is not None and counties.chart.kind == "bar"
    assert dict(zip(counties.chart.categories, counties.chart.values, strict=True)) == expected
    received = [row[1] for row in counties.rows]
    assert received == sorted(received, reverse=True)  # ranked, largest first

    by_channel = _duck_cases("channel", period)
    channels = _block(content, "申请渠道")
    assert _column(channels, "受理件数") == {
        CHANNEL_LABELS[r["channel"]]: r["received"] for r in by_channel.to_dicts()
    }
    daily = _block(content, "每日")
    expected_days = {str(r["day"]): r["received"] for r in _duck_cases("day", period).to_dicts()}
    assert _column(daily, "受理件数") == expected_days
    assert list(_column(daily, "受理件数")) == sorted(expected_days)  # in day order

    closes = duck(
        "SELECT business_code, count(DISTINCT (tenant, case_no)) AS completed FROM case_event "
        f"WHERE step = 'close' AND day BETWEEN '{SPAN.start}' AND '{SPAN.end}' GROUP BY 1"
    )
    timeliness = _block(content, "办理时效")
    assert sorted(_column(timeliness, "办结件数").values()) == sorted(
        closes.get_column("completed").to_list()
    )
    interfaces = _block(content, "共享接口")
    assert sum(row[1] for row in interfaces.rows) == calls["calls"]
    rates = [row[3] for row in interfaces.rows]
    assert rates == sorted(rates)  # worst first


def test_a_county_report_holds_only_that_county(province: World) -> None:
    content = _build(province, "county_supervisor", XIHU, "西湖区")
    counties = _block(content, "各区县")
    assert [row[0] for row in counties.rows] == ["西湖区"]
    expected = _duck_cases("", StatsQuery(SPAN.start, SPAN.end)).row(0, named=True)
    mine = duck(
        "SELECT count(DISTINCT case_no) AS received FROM case_event WHERE step = 'accept' "
        f"AND tenant = '{XIHU}' AND day BETWEEN '{SPAN.start}' AND '{SPAN.end}'"
    ).item()
    assert _column(_block(content, "总体情况"), "本期")["受理件数"] == mine < expected["received"]
    others = set(_tenant_names().values()) - {"西湖区"}
    text = repr(content)
    assert not [name for name in others if name in text]


def test_a_county_user_cannot_widen_the_scope_by_asking_for_another_tenant(
    province: World,
) -> None:
    content = _build(
        province, "county_supervisor", "330108", "滨江区"
    )  # 滨江区: outside the user's scope
    assert all(not block.rows for block in content.blocks[1:5])
