"""The simulator writes through real ingestion into the lake: sealed, traceable, not doubled."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlmodel import select

from console.core.db import session_scope
from console.core.settings import get_settings
from console.dictionaries.models import DictItem
from console.dictionaries.seed import load_seed
from console.logs.chain import read_chain, verify
from console.logs.search import trace_case
from console.simulate.service import simulate
from console.tenancy.models import Tenant
from tests.support.world import World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def test_a_simulated_week_is_ingested_sealed_and_traceable_and_a_rerun_adds_nothing(
    world: World,
) -> None:
    auditor = world.actor("audit_admin")
    with session_scope() as session:
        load_seed(session)
    with session_scope() as session:
        report = simulate(session=session, days=7, scale=0.002, seed=3, now=NOW)
    assert report.rejected == [] and report.tenants == 90
    assert report.accepted["case_event"] > 100 and report.accepted["interface_call"] > 50
    with session_scope() as session:
        assert len(session.exec(select(Tenant)).all()) >= 91  # province + 90 counties
        codes = set(session.exec(select(DictItem.code)).all())
    assert {"4000101", "7000101"} <= codes  # the province's own business codes
    lake = get_settings().lake_dir
    days = {entry.day for entry in read_chain(lake, "case_event")}
    assert len(days) == 6 and "2026-11-27" not in days  # today stays pending until it closes
    assert verify(lake) == []
    sealed = pl.scan_parquet(lake / "case_event" / "date=*" / "*.parquet").collect()
    case_no = sealed.filter(pl.col("step") == "close").get_column("case_no")[0]
    with session_scope() as session:
        trace = trace_case(session=session, actor=auditor, case_no=case_no)
    steps = [entry.title for entry in trace if entry.stream == "case_event"]
    assert len(steps) >= 4 and any(entry.stream == "interface_call" for entry in trace)
    with session_scope() as session:
        again = simulate(session=session, days=7, scale=0.002, seed=3, now=NOW)
    assert again.total == 0 and again.duplicates == report.total
