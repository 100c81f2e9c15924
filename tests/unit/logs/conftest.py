"""The log tests' shared lake: two counties' cases, calls and an exception, sealed and pending."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs.ingest import Sender, ingest_batch
from console.logs.store import store_for
from tests.support.world import BINJIANG, XIHU, World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
PROVINCE = Sender(identity="330000:test", tenant_code="330000")


def push(stream: str, *records: dict) -> None:
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
    fill_lake()


def fill_lake() -> None:
    """Push the shared lake's events and seal every day before 11-27."""
    push(
        "case_event",
        _step("s1", "2026-11-20T09:00:00+08:00", XIHU, "XH-1", "apply"),
        _step("s2", "2026-11-20T10:00:00+08:00", XIHU, "XH-1", "accept"),
        _step("s3", "2026-11-26T15:00:00+08:00", XIHU, "XH-1", "register"),
        _step("s4", "2026-11-27T09:00:00+08:00", XIHU, "XH-1", "close"),
        _step("b1", "2026-11-26T09:00:00+08:00", BINJIANG, "BJ-1", "accept"),
    )
    push(
        "interface_call",
        _call("c1", "2026-11-20T10:01:00+08:00", XIHU, "XH-1", ok=False),
        _call("c2", "2026-11-20T10:02:00+08:00", XIHU, "XH-1", ok=True, retry=1),
    )
    push(
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
