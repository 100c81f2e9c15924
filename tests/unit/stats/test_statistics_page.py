"""统计分析's pieces: the cases behind a figure, the sentences, labels, and logged exports."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import polars as pl
import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import Forbidden
from console.core.paging import PageRequest
from console.stats.service import (
    CHANNEL_LABELS,
    StatsQuery,
    case_list,
    case_stats,
    describe_breakdown,
    labeller,
    record_export,
)
from tests.support.world import World

MONTH = StatsQuery(start=date(2026, 11, 1), end=date(2026, 11, 27))


def _by(group: str) -> StatsQuery:
    return StatsQuery(start=MONTH.start, end=MONTH.end, group_by=(group,))


def test_the_cases_behind_a_figure_are_exactly_that_many(province: World) -> None:
    supervisor = province.actor("province_supervisor")
    cities = case_stats(actor=supervisor, query=_by("city")).sort("received", descending=True)
    city, received = cities.row(0, named=True)["city"], cities.row(0, named=True)["received"]
    in_city = StatsQuery(MONTH.start, MONTH.end, where=(("city", city),))
    found = case_list(actor=supervisor, query=in_city, step="accept", page=PageRequest(1, 10))
    assert found.total == received and len(found.items) == 10
    assert all(row.tenant.startswith(city[:4]) for row in found.items)
    county = province.actor("county_supervisor")
    mine = case_list(actor=county, query=in_city, step="accept", page=PageRequest(1, 10))
    assert city == "330100" and {row.tenant for row in mine.items} == {"330106"}
    assert all(row.trace_url == f"/audit?trace={row.case_no}" for row in mine.items)


def test_the_sentences_state_the_largest_and_smallest_group() -> None:
    frame = pl.DataFrame({"channel": ["bank", "window", "online"], "received": [50, 30, 20]})
    first, second = describe_breakdown(frame, "channel", "received", CHANNEL_LABELS.get)
    assert first == "所选期间受理件数共 100 件，分布在 3 个渠道。"
    assert second == "最多的是银行（50 件，占 50.0%），最少的是网上（20 件）。"
    assert describe_breakdown(frame.clear(), "channel", "received", str) == [
        "所选期间没有办件数据，请调整时间范围或维度。"
    ]
    hours = pl.DataFrame({"channel": ["bank", "agent", "online"], "avg_hours": [5.0, None, 2.5]})
    assert describe_breakdown(hours, "channel", "avg_hours", CHANNEL_LABELS.get) == [
        "平均办理时长最长的渠道是银行（5.0 小时），最短的是网上（2.5 小时）。"
    ]  # a channel with no completed case has no average and is left out


def test_labels_name_counties_cities_and_dictionary_codes(province: World) -> None:
    county = province.actor("county_supervisor")
    with session_scope() as session:
        tenant = labeller(session=session, actor=county, dimension="tenant")
        city = labeller(session=session, actor=county, dimension="city")
        business = labeller(session=session, actor=county, dimension="business_code")
        channel = labeller(session=session, actor=county, dimension="channel")
        month = labeller(session=session, actor=county, dimension="month")
    assert tenant("330106") == "西湖区"
    assert tenant("330108") == "330108"  # another county's name is not the reader's to see
    assert city("330100") == "杭州市"
    assert business("9000101") == "抵押权登记（含首次、转移、变更、更正、注销登记）（9000101）"
    assert channel("developer") == "开发企业"
    assert month("2026-11") == "2026-11"


def test_exporting_a_table_needs_the_export_permission_and_is_logged(province: World) -> None:
    with session_scope() as session:
        record_export(
            session=session, actor=province.actor("county_supervisor"), query=MONTH, rows=3,
            fmt="xlsx",
        )  # fmt: skip
    with session_scope() as session:
        logged = session.exec(
            select(OperationLog).where(
                OperationLog.object == "dashboards.statistics", OperationLog.action == "export"
            )
        ).one()
    assert '"rows": 3' in logged.detail
    with pytest.raises(Forbidden), session_scope() as session:
        record_export(
            session=session, actor=province.actor("county_admin"), query=MONTH, rows=3, fmt="csv"
        )


def test_figures_group_by_the_dictionarys_registration_type_and_disagreements_are_counted(
    province: World,
) -> None:
    from console.logs.ingest import Sender, ingest_batch
    from console.stats.service import (
        describe_mismatches,
        registration_type_mismatches,
    )

    supervisor = province.actor("province_supervisor")
    before = case_stats(actor=supervisor, query=_by("registration_type"))
    mortgages = before.filter(pl.col("registration_type") == "900").get_column("received").sum()
    # A county's system sends its mortgages as 首次登记 (100): the dictionary says 900.
    lines = [
        json.dumps({
            "event_id": f"dq-{n}", "ts": "2026-11-20T10:00:00+08:00", "tenant": "330106",
            "case_no": f"DQ-{n}", "business_code": "9000101", "registration_type": "100",
            "channel": "bank", "step": "accept",
        })
        for n in range(3)
    ]  # fmt: skip
    with session_scope() as session:
        report = ingest_batch(
            session=session,
            stream="case_event",
            body="\n".join(lines).encode(),
            sender=Sender(identity="330106:reg", tenant_code="330106"),
            now=datetime(2026, 11, 27, 4, 0, tzinfo=UTC),
        )
    assert report.rejected == []
    after = case_stats(actor=supervisor, query=_by("registration_type"))
    assert after.filter(pl.col("registration_type") == "900").get_column("received").sum() == (
        mortgages + 3
    )
    assert "100" not in set(after.get_column("registration_type")) or (
        after.filter(pl.col("registration_type") == "100").get_column("received").sum()
        == before.filter(pl.col("registration_type") == "100").get_column("received").sum()
    )
    found = registration_type_mismatches(actor=supervisor, query=MONTH)
    assert [(m.tenant, m.business_code, m.sent, m.expected, m.cases) for m in found] == [
        ("330106", "9000101", "100", "900", 3)
    ]
    lines_shown = describe_mismatches(found, str, str)
    assert "共 3 件" in lines_shown[0] and "9000101" in lines_shown[1]
    county = province.actor("county_supervisor")  # 330106's own supervisor sees it too
    assert registration_type_mismatches(actor=county, query=MONTH)[0].cases == 3
