"""The case index: a trace reads only the days that hold the case, and never misses one."""

from __future__ import annotations

import sqlite3
from datetime import date

from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import case_index
from console.logs.retention import purge_expired
from console.logs.search import trace_case
from console.logs.store import store_for
from tests.support.world import World
from tests.unit.logs.conftest import NOW


def _trace_streams(world: World) -> list[str]:
    with session_scope() as session:
        trace = trace_case(session=session, actor=world.actor("audit_admin"), case_no="XH-1")
    return [entry.stream for entry in trace]


def test_sealing_indexes_each_cases_days_and_the_trace_reads_only_those(
    lake: None, world: World
) -> None:
    lake_dir = get_settings().lake_dir
    assert case_index.days_of(lake_dir, "XH-1") == ["2026-11-20", "2026-11-26"]
    assert case_index.days_of(lake_dir, "BJ-1") == ["2026-11-26"]
    complete = _trace_streams(world)
    assert len(complete) == 7
    with sqlite3.connect(case_index.index_path(lake_dir)) as db:
        db.execute("DELETE FROM case_day WHERE day = '2026-11-20'")
    assert len(_trace_streams(world)) == 7 - 5  # the 11-20 steps, calls and exception not read
    assert case_index.rebuild(lake_dir) == 3
    assert _trace_streams(world) == complete


def test_a_lake_sealed_before_the_index_is_traced_in_full_and_indexed_at_the_next_seal(
    lake: None, world: World
) -> None:
    lake_dir = get_settings().lake_dir
    complete = _trace_streams(world)
    case_index.index_path(lake_dir).unlink()
    assert case_index.days_of(lake_dir, "XH-1") is None
    assert _trace_streams(world) == complete  # no index: every day is read
    store_for(lake_dir).seal(lake=lake_dir, now=NOW.replace(day=28))  # seals 11-27
    assert case_index.days_of(lake_dir, "XH-1") == ["2026-11-20", "2026-11-26", "2026-11-27"]
    assert _trace_streams(world) == complete


def test_a_purged_day_leaves_the_index(lake: None, world: World) -> None:
    lake_dir = get_settings().lake_dir
    with session_scope() as session:
        purge_expired(session=session, lake=lake_dir, today=date(2027, 11, 25), retention_days=365)
    assert case_index.days_of(lake_dir, "XH-1") == ["2026-11-26"]
