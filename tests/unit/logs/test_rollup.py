"""Daily rollups written at sealing: exact counts, accept→close hours, latency within 1 %."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime

import polars as pl
import pytest
from sqlmodel import Session

from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs.catalogue import snapshot
from console.logs.ingest import Sender, ingest_batch
from console.logs.rollup import bucket_quantiles, rebuild_all, scan_rollup
from console.logs.store import store_for
from tests.support.world import BINJIANG, XIHU, World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
PROVINCE = Sender(identity="330000:test", tenant_code="330000")


def _step(event_id: str, ts: str, case_no: str, step: str, tenant: str = XIHU) -> dict:
    return {
        "event_id": event_id, "ts": ts, "tenant": tenant, "case_no": case_no,
        "business_code": "9000101", "registration_type": "900", "channel": "bank",
        "step": step, "institution": "中国银行杭州分行",
    }  # fmt: skip


def _call(event_id: str, ts: str, ms: int, ok: bool, retry: int = 0) -> dict:
    return {
        "event_id": event_id, "ts": ts, "tenant": XIHU, "interface_code": "gab.sfhc",
        "department": "公安部", "trace_id": event_id, "caller": "reg", "duration_ms": ms,
        "result_code": "000" if ok else "504", "success": ok, "retry": retry,
    }  # fmt: skip


def _push(session: Session, stream: str, records: list[dict], now: datetime = NOW) -> None:
    body = b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in records)
    report = ingest_batch(session=session, stream=stream, body=body, sender=PROVINCE, now=now)
    assert report.rejected == []


def _seal(now: datetime = NOW) -> None:
    lake = get_settings().lake_dir
    store_for(lake).seal(lake=lake, now=now)


def _rollup(name: str) -> pl.DataFrame:
    with snapshot(get_settings().lake_dir) as snap:
        frame = scan_rollup(snap, name)
    assert frame is not None
    return frame.collect()


@pytest.fixture
def three_cases(world: World) -> None:
    with session_scope() as session:
        _push(
            session,
            "case_event",
            [
                _step("a1", "2026-11-24T09:00:00+08:00", "C1", "accept"),
                _step("a2", "2026-11-26T09:00:00+08:00", "C2", "accept"),
                _step("a3", "2026-11-25T09:00:00+08:00", "C3", "accept", BINJIANG),
                _step("c1", "2026-11-26T10:00:00+08:00", "C1", "close"),
                _step("c2", "2026-11-26T15:00:00+08:00", "C2", "close"),
                _step("c2-again", "2026-11-26T15:05:00+08:00", "C2", "close"),  # resent step
                _step("r3", "2026-11-26T11:00:00+08:00", "C3", "reject", BINJIANG),
                _step("v1", "2026-11-25T10:00:00+08:00", "C1", "review"),  # not a key step
            ],
        )
    _seal()


def test_closed_cases_carry_the_hours_since_acceptance_even_across_days(
    three_cases: None,
) -> None:
    closes = _rollup("case_steps").filter(pl.col("step") == "close").sort("case_no")
    assert closes.get_column("case_no").to_list() == ["C1", "C2"]
    assert closes.get_column("hours").to_list() == [49.0, 6.0]
    assert set(closes.get_column("institution")) == {"中国银行杭州分行"}
    assert "review" not in _rollup("case_steps").get_column("step").to_list()


def test_cases_daily_counts_each_case_once_per_step_and_sums_the_hours(three_cases: None) -> None:
    day = _rollup("cases_daily").filter(pl.col("day").cast(pl.String) == "2026-11-26")
    by_step = {(row["tenant"], row["step"]): row for row in day.iter_rows(named=True)}
    assert by_step[(XIHU, "close")]["cases"] == 2
    assert by_step[(XIHU, "close")]["hours_sum"] == 55.0
    assert by_step[(XIHU, "accept")]["cases"] == 1
    assert by_step[(BINJIANG, "reject")]["cases"] == 1


def test_a_late_event_updates_its_days_rollup(three_cases: None) -> None:
    with session_scope() as session:
        _push(
            session,
            "case_event",
            [_step("a4", "2026-11-26T16:00:00+08:00", "C4", "accept")],
            now=LATER,
        )
    _seal(LATER)
    accepts = _rollup("cases_daily").filter(
        (pl.col("day").cast(pl.String) == "2026-11-26")
        & (pl.col("step") == "accept")
        & (pl.col("tenant") == XIHU)
    )
    assert accepts.get_column("cases").to_list() == [2]


def test_rebuilding_gives_the_rollups_sealing_wrote(three_cases: None) -> None:
    before = _rollup("case_steps").sort("case_no", "step")
    assert rebuild_all(get_settings().lake_dir) >= 3
    assert _rollup("case_steps").sort("case_no", "step").equals(before)


def test_interface_latency_quantiles_are_within_one_percent(world: World) -> None:
    rng = random.Random(5)
    durations = [max(1, int(rng.lognormvariate(math.log(300), 0.6))) for _ in range(3000)]
    calls = [
        _call(
            f"k{i}",
            f"2026-11-2{5 + i % 2}T10:00:00+08:00",
            ms,
            ok=i % 50 != 0,
            retry=int(i % 7 == 0),
        )
        for i, ms in enumerate(durations)
    ]
    with session_scope() as session:
        _push(session, "interface_call", calls)
    _seal()
    daily = _rollup("interface_daily")
    assert daily.get_column("calls").sum() == 3000
    assert daily.filter(~pl.col("success")).get_column("calls").sum() == 60
    assert daily.get_column("duration_sum").sum() == sum(durations)
    assert daily.get_column("retried").sum() == sum(i % 7 == 0 for i in range(3000))
    ordered = sorted(durations)
    for q in (0.5, 0.95, 0.99):
        exact = ordered[math.ceil(q * len(ordered)) - 1]
        estimate = bucket_quantiles(_rollup("interface_latency").lazy(), [], {"q": q}).collect()
        estimate = estimate.item()
        assert estimate == pytest.approx(exact, rel=0.01)


def test_closes_daily_counts_completed_cases_by_working_days_taken(three_cases: None) -> None:
    closes = _rollup("closes_daily").sort("workdays_used")
    assert closes.select("tenant", "business_code", "workdays_used", "cases").rows() == [
        (XIHU, "9000101", 0, 1),  # C2: accepted and completed the same day
        (XIHU, "9000101", 2, 1),  # C1: accepted Tuesday, completed Thursday
    ]
