"""Retention: never under 365 days; purges delete only whole older days, chained and logged."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import SettingsError
from console.core.settings import get_settings, load_settings
from console.jobs.registry import JobFailed
from console.logs import catalogue, pending
from console.logs.catalogue import snapshot
from console.logs.chain import verify
from console.logs.ingest import Sender, ingest_batch
from console.logs.retention import (
    check_integrity,
    last_verification,
    purge_expired,
    retention_overview,
)
from console.logs.scheduled import verify_logs
from console.logs.store import store_for
from tests.support.world import XIHU, World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
SENDER = Sender(identity="330000:test", tenant_code="330000")


def _exception(event_id: str, ts: str) -> dict:
    return {"event_id": event_id, "ts": ts, "tenant": XIHU, "source": "reg", "level": "ERROR",
            "message": "x"}  # fmt: skip


@pytest.fixture
def two_years(world: World) -> None:
    records = [
        _exception("old", "2025-10-01T10:00:00+08:00"),
        _exception("edge", "2025-11-27T10:00:00+08:00"),  # exactly 365 days old: kept
        _exception("new1", "2026-11-24T10:00:00+08:00"),
        _exception("new2", "2026-11-26T10:00:00+08:00"),
    ]
    body = b"\n".join(json.dumps(r).encode() for r in records)
    with session_scope() as session:
        ingest_batch(session=session, stream="exception", body=body, sender=SENDER, now=NOW)
    lake = get_settings().lake_dir
    store_for(lake).seal(lake=lake, now=NOW)


def test_a_retention_under_365_days_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BDC_LOG_RETENTION_DAYS", "200")
    with pytest.raises(SettingsError, match="BDC_LOG_RETENTION_DAYS"):
        load_settings()
    monkeypatch.delenv("BDC_LOG_RETENTION_DAYS")
    get_settings.cache_clear()
    with pytest.raises(ValueError), session_scope() as session:
        purge_expired(
            session=session,
            lake=get_settings().lake_dir,
            today=date(2026, 11, 27),
            retention_days=200,
        )


def test_a_purge_deletes_only_whole_older_days_and_is_chained_and_logged(
    two_years: None, world: World
) -> None:
    lake = get_settings().lake_dir
    with session_scope() as session:
        purged = purge_expired(
            session=session, lake=lake, today=date(2026, 11, 27), retention_days=365
        )
    assert [(p.stream, p.day, p.rows) for p in purged] == [("exception", "2025-10-01", 1)]
    with snapshot(lake) as snap:  # out of every reader's view at once, with its rollups
        assert "2025-10-01" not in snap.sealed_days("exception")
        assert "2025-11-27" in snap.sealed_days("exception")
        rolled_up = {day for day, _ in snap.rollups("exception_daily")}
        assert "2025-10-01" not in rolled_up and "2025-11-27" in rolled_up
    assert (lake / "exception" / "date=2025-10-01").exists()  # kept for readers a while
    assert verify(lake) == []
    with pending.sealing(pending.ingest_path(lake)) as db:
        assert catalogue.sweep(db, lake, grace_seconds=0) == 2  # the part and its rollup
    assert not (lake / "exception" / "date=2025-10-01").exists()
    assert (lake / "exception" / "date=2025-11-27").exists()
    assert verify(lake) == []
    auditor = world.actor("audit_admin")
    with session_scope() as session:
        logged = session.exec(select(OperationLog).where(OperationLog.action == "purge")).one()
        overview = retention_overview(session=session, actor=auditor, now=NOW)
        report = check_integrity(session=session, actor=auditor)
    assert logged.target == "exception/2025-10-01"
    exceptions = next(o for o in overview if o.stream == "exception")
    assert (exceptions.earliest, exceptions.rows, exceptions.next_purge) == (
        "2025-11-27",
        3,
        "2026-11-28",
    )
    assert ("2026-11", 2) in exceptions.months
    # A day nothing arrived for is 无数据, not missing: only a sealed day's lost file is.
    assert "2026-11-25" in exceptions.no_data_days and exceptions.missing_total == 0
    assert (report.checked_parts, report.breaks) == (3, [])
    lost = next(f for f in (lake / "exception").glob("date=2026-11-26/part-*.parquet"))
    lost.unlink()
    with session_scope() as session:
        overview = retention_overview(session=session, actor=auditor, now=NOW)
    exceptions = next(o for o in overview if o.stream == "exception")
    assert exceptions.missing_days == ["2026-11-26"] and "2026-11-26" not in exceptions.no_data_days


def test_the_daily_check_is_kept_for_the_page_and_a_break_fails_it(
    two_years: None, world: World
) -> None:
    auditor = world.actor("audit_admin")
    with session_scope() as session:
        assert last_verification(session=session, actor=auditor) is None
    assert verify_logs(NOW).endswith("个封存文件全部与校验链一致")
    with session_scope() as session:
        last = last_verification(session=session, actor=auditor)
    assert last is not None and last.ok and last.by == "系统（每日校验）"

    part = next((get_settings().lake_dir / "exception").glob("date=2026-11-24/part-*.parquet"))
    part.write_bytes(part.read_bytes() + b"tampered")
    with pytest.raises(JobFailed, match="文件内容与封存时的 SM3 摘要不一致"):
        verify_logs(NOW)
    with session_scope() as session:
        last = last_verification(session=session, actor=auditor)
    assert last is not None and not last.ok and "2026-11-24" in last.text
