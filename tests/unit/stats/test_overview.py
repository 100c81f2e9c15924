"""概览: each card equals an independent computation; the sentences cite those same figures."""

from __future__ import annotations

import json
from datetime import date

import pytest

from console.core.db import session_scope
from console.core.settings import get_settings
from console.core.workdays import workdays_between
from console.logs.ingest import Sender, ingest_batch
from console.logs.store import store_for
from console.stats.overview_service import overview
from console.workflows.models import LEGAL_LIMIT_WORKDAYS
from tests.support.world import XIHU, World
from tests.unit.stats.conftest import NOW, duck

MONTH = ("2026-11-01", "2026-11-26")  # sealed days of the month (today is still pending)


def _overview(world: World, role: str):
    with session_scope() as session:
        return overview(session=session, actor=world.actor(role), now=NOW)


def _cards(result) -> dict:
    return {kpi.key: kpi for kpi in result.kpis}


def _month_sql(step: str, where: str = "") -> int:
    return duck(
        f"SELECT count(DISTINCT (tenant, case_no)) FROM case_event WHERE step = '{step}' "
        f"AND day BETWEEN '2026-11-01' AND '2026-11-27' {where}"
    ).item()


def _with_today(world: World) -> None:
    """Seal today too, so DuckDB sees every event the overview counts."""
    lake = get_settings().lake_dir
    store_for(lake).seal(lake=lake, now=NOW.replace(day=28))


def test_cards_equal_independent_figures(province: World) -> None:
    result = _overview(province, "province_supervisor")
    _with_today(province)
    cards = _cards(result)
    assert cards["received"].value == _month_sql("accept")
    assert cards["completed"].value == _month_sql("close")
    assert (
        cards["received_today"].value
        == duck(
            "SELECT count(DISTINCT (tenant, case_no)) FROM case_event "
            "WHERE step = 'accept' AND day = '2026-11-27'"
        ).item()
    )
    yesterday = duck(
        "SELECT count(DISTINCT (tenant, case_no)) FROM case_event "
        "WHERE step = 'accept' AND day = '2026-11-26'"
    ).item()
    # Today is under way: yesterday's figure as it is, no percentage, no colour.
    assert cards["received_today"].change == f"昨日 {yesterday:,} 件"
    assert cards["received_today"].direction == 0
    online = _month_sql("accept", "AND channel = 'online'")
    assert cards["online_share"].value == pytest.approx(online / _month_sql("accept"))
    calls = duck(
        "SELECT count(*) FILTER (WHERE success) / count(*) FROM interface_call "
        "WHERE day BETWEEN '2026-11-01' AND '2026-11-27'"
    ).item()
    assert cards["success_rate"].value == pytest.approx(calls)
    closes = duck(
        "WITH a AS (SELECT tenant, case_no, min(ts) AS at FROM case_event WHERE step = 'accept' "
        "GROUP BY ALL) SELECT e.business_code, CAST(timezone('Asia/Shanghai', a.at) AS DATE) "
        "AS accepted, e.day AS closed, (epoch_us(e.ts) - epoch_us(a.at)) / 3.6e9 AS hours "
        "FROM case_event e JOIN a USING (tenant, case_no) WHERE e.step = 'close' "
        "AND e.day BETWEEN '2026-11-01' AND '2026-11-27'"
    )
    assert cards["avg_hours"].value == pytest.approx(closes.get_column("hours").mean())
    limits = {"9000101": 3, "2000402": 5, "4000101": 1, "7000101": 3, "1000402": 10,
              "3000402": 5, "1000301": 10, "8000101": 1, "5000402": 15}  # fmt: skip
    on_time = [
        workdays_between(row["accepted"], row["closed"])
        <= limits.get(row["business_code"], LEGAL_LIMIT_WORKDAYS)
        for row in closes.iter_rows(named=True)
    ]
    assert cards["on_time"].value == pytest.approx(sum(on_time) / len(on_time))
    assert 0.8 < cards["on_time"].value < 1.0  # the simulator's few overdue cases show
    assert cards["received"].trend[-1] == cards["received_today"].value
    assert len(cards["received"].trend) == 30


def test_the_sentences_cite_the_cards_and_the_busiest_county(province: World) -> None:
    result = _overview(province, "province_supervisor")
    cards = _cards(result)
    first, second, ranking = result.sentences[:3]
    assert cards["received"].shown in first and cards["completed"].shown in first
    assert cards["received"].change.replace("：", "") in first
    assert cards["avg_hours"].shown in second and cards["on_time"].shown in second
    _with_today(province)
    busiest = duck(
        "SELECT t.tenant, count(DISTINCT case_no) AS n FROM case_event t WHERE step = 'accept' "
        "AND day BETWEEN '2026-11-01' AND '2026-11-27' GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1"
    ).row(0)
    assert f"（{busiest[1]:,} 件）" in ranking.split("，最少")[0]


def test_a_county_sees_its_own_figures_and_no_ranking(province: World) -> None:
    result = _overview(province, "county_supervisor")
    _with_today(province)
    assert _cards(result)["received"].value == _month_sql("accept", f"AND tenant = '{XIHU}'")
    assert not any("最多的是" in sentence for sentence in result.sentences)


def test_an_interface_failing_most_of_a_day_is_reported_as_an_outage(province: World) -> None:
    failing = [
        {"event_id": f"down-{n}", "ts": f"2026-11-20T10:{n:02d}:00+08:00", "tenant": XIHU,
         "interface_code": "mzb.hydj.cx", "department": "民政部", "trace_id": f"d{n}",
         "caller": "reg", "duration_ms": 5000, "result_code": "504", "success": False}
        for n in range(40)
    ]  # fmt: skip
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in failing).encode()
    sender = Sender(identity="330000:test", tenant_code="330000")
    with session_scope() as session:
        ingest_batch(session=session, stream="interface_call", body=body, sender=sender, now=NOW)
    lake = get_settings().lake_dir
    store_for(lake).seal(lake=lake, now=NOW)
    sentences = _overview(province, "province_supervisor").sentences
    prefix = "11月20日 民政部「mzb.hydj.cx」调用失败 40 次"  # the 40 pushed, with the day's others
    assert any(s.startswith(prefix) and s.endswith("疑似中断。") for s in sentences)


def test_no_data_says_so(world: World) -> None:
    result = _overview(world, "province_supervisor")
    assert result.sentences == ["截至11月27日，本月尚无办件数据。"]
    assert _cards(result)["received"].shown == "0 件"
    assert date.fromisoformat(result.as_of) == date(2026, 11, 27)
