"""Search, case trace and export over sealed and pending events, always inside the tenant scope."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest

from console.core.db import session_scope
from console.core.errors import Forbidden
from console.core.exporting import to_csv
from console.core.settings import get_settings
from console.logs.ingest import Sender, ingest_batch
from console.logs.search import LogQuery, export_rows, search_logs, trace_case
from console.logs.store import store_for
from tests.support.world import BINJIANG, XIHU, World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
PROVINCE = Sender(identity="330000:test", tenant_code="330000")


def _push(stream: str, *records: dict) -> None:
    body = b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in records)
    with session_scope() as session:
        report = ingest_batch(session=session, stream=stream, body=body, sender=PROVINCE, now=NOW)
    assert report.rejected == [], report.rejected


def _step(event_id: str, ts: str, tenant: str, case_no: str, step: str) -> dict:
    return {
        "event_id": event_id, "ts": ts, "tenant": tenant, "case_no": case_no,
        "business_code": "2000402", "registration_type": "200", "channel": "window",
        "step": step, "operator": "张三丰",
    }  # fmt: skip


def _call(event_id: str, ts: str, tenant: str, case_no: str, ok: bool, retry: int = 0) -> dict:
    return {
        "event_id": event_id, "ts": ts, "tenant": tenant, "case_no": case_no,
        "interface_code": "gab.sfhc", "department": "公安部", "trace_id": f"t-{case_no}",
        "caller": "reg", "duration_ms": 180, "result_code": "000" if ok else "500",
        "success": ok, "retry": retry, "error": "" if ok else "超时",
    }  # fmt: skip


@pytest.fixture
def lake(world: World) -> None:
    """Two counties' cases: one sealed day and one still pending."""
    _push(
        "case_event",
        _step("s1", "2026-11-20T09:00:00+08:00", XIHU, "XH-1", "apply"),
        _step("s2", "2026-11-20T10:00:00+08:00", XIHU, "XH-1", "accept"),
        _step("s3", "2026-11-26T15:00:00+08:00", XIHU, "XH-1", "register"),
        _step("s4", "2026-11-27T09:00:00+08:00", XIHU, "XH-1", "close"),
        _step("b1", "2026-11-26T09:00:00+08:00", BINJIANG, "BJ-1", "accept"),
    )
    _push(
        "interface_call",
        _call("c1", "2026-11-20T10:01:00+08:00", XIHU, "XH-1", ok=False),
        _call("c2", "2026-11-20T10:02:00+08:00", XIHU, "XH-1", ok=True, retry=1),
    )
    _push(
        "exception",
        {
            "event_id": "x1",
            "ts": "2026-11-20T10:01:00+08:00",
            "tenant": XIHU,
            "source": "reg",
            "level": "ERROR",
            "message": "公安接口超时，证件号 330106199001011234",
            "trace_id": "t-XH-1",
        },
    )
    lake_dir = get_settings().lake_dir
    assert store_for(lake_dir).seal(lake=lake_dir, now=NOW)  # everything before 11-27 sealed


def test_search_spans_sealed_and_pending_days_newest_first(lake: None, world: World) -> None:
    with session_scope() as session:
        page = search_logs(
            session=session,
            actor=world.actor("audit_admin"),
            query=LogQuery(stream="case_event", case_no="XH-1"),
        )
    assert page.total == 4
    assert [r.event_id for r in page.items] == ["s4", "s3", "s2", "s1"]
    assert page.items[0].fields["operator"] == "张三丰"


def test_filters_by_time_result_and_text(lake: None, world: World) -> None:
    auditor = world.actor("audit_admin")
    with session_scope() as session:
        failed = search_logs(
            session=session,
            actor=auditor,
            query=LogQuery(stream="interface_call", result="failure"),
        )
        day = search_logs(
            session=session,
            actor=auditor,
            query=LogQuery(stream="case_event", start=date(2026, 11, 26), end=date(2026, 11, 26)),
        )
        text = search_logs(
            session=session, actor=auditor, query=LogQuery(stream="exception", text="公安接口")
        )
    assert [r.event_id for r in failed.items] == ["c1"]
    assert sorted(r.event_id for r in day.items) == ["b1", "s3"]
    assert text.items[0].fields["message"] == "公安接口超时，证件号 330106********1234"


def test_a_county_user_sees_only_its_county_in_search_trace_and_export(
    lake: None, world: World
) -> None:
    county = world.actor("county_supervisor")
    with session_scope() as session:
        page = search_logs(session=session, actor=county, query=LogQuery(stream="case_event"))
        assert {r.tenant for r in page.items} == {XIHU}
        assert trace_case(session=session, actor=county, case_no="BJ-1") == []
    with pytest.raises(Forbidden), session_scope() as session:
        export_rows(session=session, actor=county, query=LogQuery(stream="case_event"), limit=10)


def test_a_trace_shows_steps_calls_and_exceptions_with_failures_and_gaps(
    lake: None, world: World
) -> None:
    with session_scope() as session:
        trace = trace_case(session=session, actor=world.actor("audit_admin"), case_no="XH-1")
    assert [e.stream for e in trace] == [
        "case_event", "case_event", "interface_call", "exception", "interface_call",
        "case_event", "case_event",
    ]  # fmt: skip
    failed = [e.title for e in trace if e.failed]
    assert failed == ["共享调用：公安部 gab.sfhc", "异常：reg ERROR"]
    assert trace[5].gap_before == "距上一步 6 天"
    assert "第 1 次重试" in trace[4].detail


def test_export_rows_equal_search_rows_and_formulas_are_not_run(lake: None, world: World) -> None:
    _push(
        "operation",
        {"event_id": "f1", "ts": "2026-11-27T10:00:00+08:00", "tenant": XIHU, "actor": "clerk",
         "action": "导出", "object": "case", "outcome": "success", "detail": "=HYPERLINK(\"x\")"},
    )  # fmt: skip
    auditor = world.actor("audit_admin")
    query = LogQuery(stream="operation", actor="clerk")
    with session_scope() as session:
        page = search_logs(session=session, actor=auditor, query=query)
        header, rows = export_rows(session=session, actor=auditor, query=query, limit=1000)
        text = to_csv(header, list(rows))
    exported = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [row[2] for row in exported[1:]] == [r.event_id for r in page.items]
    assert exported[1][header.index("detail")] == '\'=HYPERLINK("x")'
