"""机构通道统计: institutions' figures equal DuckDB's; rates over the thresholds are flagged."""

from __future__ import annotations

from datetime import date

import pytest

from console.core.db import session_scope
from console.core.settings import get_settings
from console.iam.models import Organization
from console.interfaces.models import Channel, ChannelCounter
from console.stats import channels_service
from console.stats.channels_service import channel_stats
from console.stats.service import StatsQuery
from tests.support.world import BINJIANG, XIHU, World
from tests.unit.stats.conftest import duck

PERIOD = StatsQuery(start=date(2026, 11, 1), end=date(2026, 11, 26))


def _channel(session, tenant: str, name: str, calls: int, refusals: int) -> None:
    org = Organization(tenant_code=tenant, name=name, kind="bank")
    session.add(org)
    session.flush()
    channel = Channel(tenant_code=tenant, org_id=org.id, name=name, kind="bank",
                      business_codes="9000101", reason="开通", decided_by="test")  # fmt: skip
    session.add(channel)
    session.flush()
    session.add(ChannelCounter(channel_id=channel.id, day=date(2026, 11, 20), calls=calls,
                               refusals=refusals))  # fmt: skip
    session.add(
        ChannelCounter(channel_id=channel.id, day=date(2026, 10, 20), calls=999, refusals=999)
    )  # fmt: skip  (outside the period)


def _stats(world: World, role: str):
    with session_scope() as session:
        return channel_stats(session=session, actor=world.actor(role), query=PERIOD)


def test_institution_figures_equal_duckdb_and_high_rejection_rates_are_flagged(
    province: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_CHANNEL_ALERT_REJECTION_RATE", "0")
    monkeypatch.setattr(channels_service, "MIN_CASES_TO_FLAG", 2)  # a small simulated month
    get_settings.cache_clear()
    stats = _stats(province, "province_supervisor")
    theirs = duck(
        "SELECT json_extract_string(raw, '$.institution') AS institution, "
        "count(DISTINCT (tenant, case_no)) FILTER (WHERE step = 'accept') AS received, "
        "count(DISTINCT (tenant, case_no)) FILTER (WHERE step = 'reject') AS rejected "
        f"FROM case_event WHERE day BETWEEN '{PERIOD.start}' AND '{PERIOD.end}' "
        "AND step IN ('accept', 'close', 'reject') "
        "AND json_extract_string(raw, '$.institution') IS NOT NULL GROUP BY 1"
    )
    expected = {r["institution"]: (r["received"], r["rejected"]) for r in theirs.to_dicts()}
    ours = {i.institution: (i.received, i.rejected) for i in stats.institutions}
    assert ours == expected
    flagged = {i.institution for i in stats.institutions if i.flagged}
    assert flagged == {
        name for name, (received, rejected) in expected.items() if rejected and received >= 2
    }
    assert flagged and "受理 2 件以上的机构中，驳回率超过 0% 的" in stats.sentences[1]


def test_channel_refusals_count_in_the_period_and_stay_in_scope(province: World) -> None:
    with session_scope() as session:
        _channel(session, XIHU, "西湖农商银行", calls=100, refusals=20)
        _channel(session, BINJIANG, "滨江城商银行", calls=100, refusals=1)
    stats = _stats(province, "province_supervisor")
    by_name = {c.name: c for c in stats.channels}
    assert (by_name["西湖农商银行"].refusals, by_name["西湖农商银行"].flagged) == (20, True)
    assert by_name["滨江城商银行"].flagged is False
    assert any("西湖农商银行（20.0%）" in s for s in stats.sentences)
    county = _stats(province, "county_supervisor")
    assert [c.name for c in county.channels] == ["西湖农商银行"]
    assert all(i.received for i in county.institutions)
