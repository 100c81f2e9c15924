"""Run the simulator: the province's counties as tenants, its events through real ingestion."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import msgspec
from sqlmodel import Session

from console.core.clock import local_day, utcnow
from console.core.settings import get_settings
from console.logs.contract import STREAMS
from console.logs.ingest import Sender, ingest_batch
from console.logs.store import store_for
from console.simulate.generator import Event, province_events
from console.simulate.province import ensure_business_codes, ensure_tenants

SENDER_IDENTITY = "simulator"
BATCH_LINES = 20_000


@dataclass
class SimulationReport:
    """What a run put into the lake."""

    tenants: int = 0
    accepted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STREAMS, 0))
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)
    sealed_parts: int = 0

    @property
    def total(self) -> int:
        """Events stored by this run."""
        return sum(self.accepted.values())


def simulated_days(*, days: int, now: datetime) -> list[date]:
    """The last ``days`` calendar days up to and including today (Asia/Shanghai)."""
    today = local_day(now)
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _push(
    session: Session,
    stream: str,
    records: list[dict[str, object]],
    now: datetime,
    report: SimulationReport,
) -> None:
    encoder = msgspec.json.Encoder()
    sender = Sender(identity=SENDER_IDENTITY, tenant_code=get_settings().province_code)
    for start in range(0, len(records), BATCH_LINES):
        chunk = records[start : start + BATCH_LINES]
        body = b"\n".join(encoder.encode(record) for record in chunk)
        answer = ingest_batch(session=session, stream=stream, body=body, sender=sender, now=now)
        report.accepted[stream] += answer.accepted
        report.duplicates += answer.duplicates
        # The generator is ours: a rejected line is a bug worth seeing, not data to drop.
        report.rejected.extend(
            f"{stream} {chunk[int(r['line']) - 1]['event_id']}: {r['reason']}"
            for r in answer.rejected
        )


def _push_day(
    session: Session, events: list[Event], now: datetime, report: SimulationReport
) -> None:
    by_stream: dict[str, list[dict[str, object]]] = {stream: [] for stream in STREAMS}
    for stream, record in events:
        by_stream[stream].append(record)
    for stream, records in by_stream.items():
        if records:
            _push(session, stream, records, now, report)


def simulate(
    *,
    session: Session,
    days: int,
    scale: float,
    seed: int,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> SimulationReport:
    """Simulate ``days`` days of the province at ``scale``, ingest them, seal the closed days."""
    now = now or utcnow()
    settings = get_settings()
    report = SimulationReport()
    counties = ensure_tenants(session, province_code=settings.province_code)
    ensure_business_codes(session)
    session.commit()  # ingestion checks tenants against what is committed
    report.tenants = len(counties)
    calendar = simulated_days(days=days, now=now)
    batches = province_events(seed=seed, counties=counties, days=calendar, scale=scale, now=now)
    for number, (day, events) in enumerate(zip(calendar, batches, strict=True), start=1):
        _push_day(session, events, now, report)
        if progress and (number % 30 == 0 or number == len(calendar)):
            progress(f"已模拟 {number}/{len(calendar)} 天（至 {day}），共 {report.total:,} 条")
    report.sealed_parts = len(store_for(settings.lake_dir).seal(lake=settings.lake_dir, now=now))
    return report
