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
from console.logs.ingest import Sender, ingest_batch
from console.logs.retention import check_integrity, purge_expired, retention_overview
from console.logs.rollup import rollup_file
from console.logs.seal import verify
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
    assert not (lake / "exception" / "date=2025-10-01").exists()
    assert (lake / "exception" / "date=2025-11-27").exists()
    assert not rollup_file(lake, "exception_daily", "2025-10-01").exists()  # purged with it
    assert rollup_file(lake, "exception_daily", "2025-11-27").exists()
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
    assert "2026-11-25" in exceptions.missing_days
    assert (report.checked_parts, report.breaks) == (3, [])
