"""办理时效: on-time counts, late and overdue-open cases equal an independent computation."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import Forbidden, ValidationFailed
from console.core.settings import get_settings
from console.core.workdays import workdays_between
from console.dictionaries.seed import SEED_DIR
from console.logs.store import store_for
from console.stats.service import StatsQuery
from console.stats.timeliness_service import set_time_limit, timeliness
from console.stats.timeliness_state import _box
from console.workflows.models import LEGAL_LIMIT_WORKDAYS
from tests.support.world import World
from tests.unit.stats.conftest import NOW, duck

PERIOD = StatsQuery(start=date(2026, 11, 1), end=date(2026, 11, 26))


def _limits() -> dict[str, int]:
    with (SEED_DIR / "time_limits.csv").open(encoding="utf-8") as handle:
        handle.readline()
        return {r["business_code"]: int(r["workdays"]) for r in csv.DictReader(handle)}


def _result(world: World, role: str = "province_supervisor"):
    with session_scope() as session:
        return timeliness(session=session, actor=world.actor(role), query=PERIOD, now=NOW)


def _closes() -> list[dict]:
    return duck(
        "WITH a AS (SELECT tenant, case_no, min(ts) AS at FROM case_event WHERE step = 'accept' "
        "GROUP BY ALL) SELECT e.business_code, CAST(timezone('Asia/Shanghai', a.at) AS DATE) "
        "AS accepted, e.day AS closed, (epoch_us(e.ts) - epoch_us(a.at)) / 3.6e9 AS hours "
        "FROM case_event e JOIN a USING (tenant, case_no) WHERE e.step = 'close' "
        f"AND e.day BETWEEN '{PERIOD.start}' AND '{PERIOD.end}'"
    ).to_dicts()


def test_on_time_counts_per_business_equal_an_independent_count(province: World) -> None:
    result = _result(province)
    limits = _limits()
    expected: dict[str, list[int]] = {}
    for row in _closes():
        allowed = limits.get(row["business_code"], LEGAL_LIMIT_WORKDAYS)
        on_time = workdays_between(row["accepted"], row["closed"]) <= allowed
        expected.setdefault(row["business_code"], [0, 0])
        expected[row["business_code"]][0] += 1
        expected[row["business_code"]][1] += on_time
    ours = {b.business_code: [b.completed, b.on_time] for b in result.businesses}
    assert ours == expected
    mortgage = next(b for b in result.businesses if b.business_code == "9000101")
    hours = sorted(r["hours"] for r in _closes() if r["business_code"] == "9000101")
    assert mortgage.p50_hours == pytest.approx(hours[round(0.5 * (len(hours) - 1))])
    late = sum(c - t for c, t in expected.values())
    assert len(result.late) == min(late, 50) and late > 0
    assert all(case.workdays > case.limit_workdays for case in result.late)
    assert f"超期办结 {late:,} 件" in result.sentences[0]
    # The box plot draws one box per business, each on its own category.
    boxes = _box(result).data
    assert [list(box.x) for box in boxes] == [[b.label] for b in result.businesses]
    assert [box.median[0] for box in boxes] == [b.p50_hours for b in result.businesses]


def test_open_cases_past_their_limit_are_listed(province: World) -> None:
    lake = get_settings().lake_dir
    store_for(lake).seal(lake=lake, now=NOW.replace(day=28))  # today's closes too, for DuckDB
    result = _result(province)
    limits = _limits()
    rows = duck(
        "SELECT tenant, case_no, any_value(business_code) AS business_code, "
        "min(CAST(timezone('Asia/Shanghai', ts) AS DATE)) AS accepted FROM case_event "
        "WHERE step = 'accept' AND (tenant, case_no) NOT IN (SELECT (tenant, case_no) FROM "
        "case_event WHERE step IN ('close', 'reject', 'withdraw')) GROUP BY tenant, case_no"
    ).to_dicts()
    overdue = {
        r["case_no"]
        for r in rows
        if workdays_between(r["accepted"], date(2026, 11, 27))
        > limits.get(r["business_code"], LEGAL_LIMIT_WORKDAYS)
    }
    ours = {case.case_no for case in result.open_overdue}
    assert len(ours) == len(result.open_overdue), (len(ours), len(overdue), overdue - ours)
    assert ours == overdue, (len(ours), len(overdue), sorted(overdue - ours))


def test_limits_are_set_province_wide_checked_and_logged(province: World) -> None:
    admin = province.actor("sys_admin")
    with session_scope() as session:
        set_time_limit(
            session=session, actor=admin, business_code="9000101", workdays=1, basis="即时办结"
        )
    with session_scope() as session:
        logged = session.exec(
            select(OperationLog).where(OperationLog.target == "time_limit:9000101")
        ).one()
    assert '"workdays": 1' in logged.detail and '"workdays": 3' in logged.detail
    mortgage = next(b for b in _result(province).businesses if b.business_code == "9000101")
    assert mortgage.limit_workdays == 1
    with pytest.raises(Forbidden, match="全省统一"), session_scope() as session:
        set_time_limit(
            session=session, actor=province.actor("county_admin"), business_code="9000101",
            workdays=2, basis="",
        )  # fmt: skip
    with pytest.raises(ValidationFailed, match="0 到 30"), session_scope() as session:
        set_time_limit(session=session, actor=admin, business_code="9000101", workdays=31, basis="")
    with pytest.raises(ValidationFailed, match="不在数据字典"), session_scope() as session:
        set_time_limit(session=session, actor=admin, business_code="9999999", workdays=3, basis="")
