"""Every statistic equals an independent DuckDB computation over the same Parquet files."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from console.core.errors import Forbidden, ValidationFailed
from console.stats.service import (
    CASE_GROUPS,
    INTERFACE_GROUPS,
    StatsQuery,
    accept_heatmap,
    case_stats,
    interface_stats,
    result_codes,
)
from tests.support.world import XIHU, World
from tests.unit.stats.conftest import duck

SEALED = StatsQuery(start=date(2026, 11, 18), end=date(2026, 11, 26))
_KEY_SQL = {
    "day": "day",
    "month": "strftime(day, '%Y-%m')",
    "city": "substr(tenant, 1, 4) || '00'",
    "week": "strftime(date_trunc('week', day), '%Y-%m-%d')",
    "quarter": "year(day) || 'Q' || quarter(day)",
    "institution": "coalesce(json_extract_string(raw, '$.institution'), '')",
}


def _keys(group: str) -> tuple[str, str]:
    if not group:
        return "", ""
    return f"{_KEY_SQL.get(group, group)} AS {group},", f"GROUP BY {group} ORDER BY {group}"


def _duck_cases(group: str, period: StatsQuery) -> pl.DataFrame:
    select, group_by = _keys(group)
    return duck(f"""
        WITH accepted AS (
            SELECT tenant, case_no, min(ts) AS accepted_at
            FROM case_event WHERE step = 'accept' GROUP BY tenant, case_no
        )
        SELECT {select}
            count(DISTINCT (e.tenant, e.case_no)) FILTER (WHERE step = 'accept') AS received,
            count(DISTINCT (e.tenant, e.case_no)) FILTER (WHERE step = 'close') AS completed,
            count(DISTINCT (e.tenant, e.case_no)) FILTER (WHERE step = 'reject') AS rejected,
            avg((epoch_us(ts) - epoch_us(accepted_at)) / 3.6e9) FILTER (WHERE step = 'close')
                AS avg_hours
        FROM case_event e LEFT JOIN accepted a USING (tenant, case_no)
        WHERE day BETWEEN '{period.start}' AND '{period.end}'
          AND step IN ('accept', 'close', 'reject')
        {group_by}
    """)


def _duck_interfaces(group: str, period: StatsQuery) -> pl.DataFrame:
    select, group_by = _keys(group)
    rank = "list_sort(list(duration_ms))[CAST(ceil({q} * count(*)) AS BIGINT)]"
    return duck(f"""
        SELECT {select}
            count(*) AS calls,
            count(*) FILTER (WHERE NOT success) AS failures,
            {rank.format(q=0.5)} AS p50_ms,
            {rank.format(q=0.95)} AS p95_ms
        FROM interface_call
        WHERE day BETWEEN '{period.start}' AND '{period.end}'
        {group_by}
    """)


def _ours(frame: pl.DataFrame, group: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(group).cast(pl.String)) if group == "day" else frame


def test_case_figures_equal_duckdb_for_every_grouping(province: World) -> None:
    for group in ["", *CASE_GROUPS]:  # one simulated province serves every grouping
        _check_case_figures(province, group)


def _check_case_figures(province: World, group: str) -> None:
    query = StatsQuery(start=SEALED.start, end=SEALED.end, group_by=(group,) if group else ())
    ours = _ours(case_stats(actor=province.actor("province_supervisor"), query=query), group)
    theirs = _ours(_duck_cases(group, SEALED), group)
    counts = ["received", "completed", "rejected"]
    assert (
        ours.select(*([group] if group else []), *counts).to_dicts()
        == theirs.select(
            *([group] if group else []), *[pl.col(c).cast(pl.UInt32) for c in counts]
        ).to_dicts()
    )
    hours = [pl.col("avg_hours").cast(pl.Float64).fill_null(float("nan"))]
    assert ours.select(hours).to_series().to_list() == pytest.approx(
        theirs.select(hours).to_series().to_list(), rel=1e-9, nan_ok=True
    )


def test_interface_figures_equal_duckdb_with_quantiles_within_one_percent(
    province: World,
) -> None:
    for group in ["", *INTERFACE_GROUPS]:
        _check_interface_figures(province, group)


def _check_interface_figures(province: World, group: str) -> None:
    query = StatsQuery(start=SEALED.start, end=SEALED.end, group_by=(group,) if group else ())
    ours = _ours(interface_stats(actor=province.actor("province_supervisor"), query=query), group)
    theirs = _ours(_duck_interfaces(group, SEALED), group)
    assert ours.height == theirs.height > 0
    assert ours.get_column("calls").to_list() == theirs.get_column("calls").to_list()
    assert ours.get_column("failures").to_list() == theirs.get_column("failures").to_list()
    rates = (1 - theirs.get_column("failures") / theirs.get_column("calls")).round(4)
    assert ours.get_column("success_rate").to_list() == rates.to_list()
    for column in ("p50_ms", "p95_ms"):
        assert ours.get_column(column).to_list() == pytest.approx(
            theirs.get_column(column).cast(pl.Float64).to_list(), rel=0.01
        )


def test_a_county_supervisor_sees_only_its_county(province: World) -> None:
    county = province.actor("county_supervisor")
    query = StatsQuery(start=SEALED.start, end=SEALED.end, group_by=("tenant",))
    assert case_stats(actor=county, query=query).get_column("tenant").to_list() == [XIHU]
    assert interface_stats(actor=county, query=query).get_column("tenant").to_list() == [XIHU]
    elsewhere = StatsQuery(start=SEALED.start, end=SEALED.end, tenant="330108")
    assert case_stats(actor=county, query=elsewhere).get_column("received").to_list() == [0]


def test_todays_events_count_before_they_are_sealed(province: World) -> None:
    today = StatsQuery(start=date(2026, 11, 27), end=date(2026, 11, 27))
    ours = case_stats(actor=province.actor("province_supervisor"), query=today)
    assert ours.get_column("received").to_list()[0] > 0
    assert (
        interface_stats(actor=province.actor("province_supervisor"), query=today)
        .get_column("calls")
        .to_list()[0]
        > 0
    )


def test_bad_queries_name_the_field_and_clerks_are_refused(province: World) -> None:
    supervisor = province.actor("province_supervisor")
    with pytest.raises(ValidationFailed, match="不支持 county"):
        case_stats(actor=supervisor, query=StatsQuery(SEALED.start, SEALED.end, ("county",)))
    with pytest.raises(ValidationFailed, match="结束日期不能早于开始日期"):
        case_stats(actor=supervisor, query=StatsQuery(SEALED.end, SEALED.start))
    with pytest.raises(Forbidden):
        interface_stats(actor=province.actor("window_clerk"), query=SEALED)


def test_result_codes_and_one_interfaces_figures_equal_duckdb(province: World) -> None:
    supervisor = province.actor("province_supervisor")
    codes = result_codes(actor=supervisor, query=SEALED)
    theirs = duck(
        "SELECT result_code, success, count(*) AS calls FROM interface_call "
        f"WHERE day BETWEEN '{SEALED.start}' AND '{SEALED.end}' GROUP BY ALL "
        "ORDER BY calls DESC, result_code"
    )
    assert codes.rows() == theirs.rows()
    one = StatsQuery(SEALED.start, SEALED.end, ("day",), where=(("interface_code", "gab.sfhc"),))
    ours = interface_stats(actor=supervisor, query=one)
    calls = duck(
        "SELECT day, count(*) AS calls FROM interface_call WHERE interface_code = 'gab.sfhc' "
        f"AND day BETWEEN '{SEALED.start}' AND '{SEALED.end}' GROUP BY day ORDER BY day"
    )
    assert ours.get_column("calls").to_list() == calls.get_column("calls").to_list()
    with pytest.raises(ValidationFailed, match="筛选条件"):
        interface_stats(
            actor=supervisor, query=StatsQuery(SEALED.start, SEALED.end, where=(("x", "y"),))
        )


def test_the_weekday_hour_heatmap_equals_duckdb(province: World) -> None:
    ours = accept_heatmap(actor=province.actor("province_supervisor"), query=SEALED)
    theirs = duck(
        "SELECT isodow(timezone('Asia/Shanghai', ts)) AS weekday, "
        "hour(timezone('Asia/Shanghai', ts)) AS hour, count(DISTINCT (tenant, case_no)) AS cases "
        f"FROM case_event WHERE step = 'accept' AND day BETWEEN '{SEALED.start}' "
        f"AND '{SEALED.end}' GROUP BY ALL ORDER BY 1, 2"
    )
    assert ours.rows() == theirs.rows()
    assert {row[1] for row in ours.rows()} <= set(range(7, 24))  # halls and online hours
