"""Ingest a pushed NDJSON batch: check every line, keep the good ones, report each bad one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
from sqlmodel import Session, select

from console.core.clock import utcnow
from console.core.settings import get_settings
from console.logs.contract import CheckedEvent, Rejected, check_line
from console.logs.seal import chain_days
from console.logs.store import StoredCount, store_for
from console.tenancy.models import Tenant

MAX_REPORTED_REJECTIONS = 1000


@dataclass(frozen=True)
class Sender:
    """Who pushes the batch, as far as the records are concerned."""

    identity: str  # stable across key rotation: duplicates are detected per sender
    tenant_code: str  # the key's tenant; the province's key may push for every county
    channel_business_codes: frozenset[str] | None = None  # set for an institution's channel


@dataclass
class IngestReport:
    """The answer to a batch: accepted, duplicates, and each rejected line with its reason."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)
    rejected_total: int = 0

    def reject(self, line: int, reason: str) -> None:
        """Note a bad line (the first MAX_REPORTED_REJECTIONS are listed, all are counted)."""
        self.rejected_total += 1
        if len(self.rejected) < MAX_REPORTED_REJECTIONS:
            self.rejected.append({"line": line, "reason": reason})

    def as_dict(self) -> dict[str, object]:
        """JSON body of the 200 answer."""
        body: dict[str, object] = {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }
        if self.rejected_total > len(self.rejected):
            body["rejected_total"] = self.rejected_total
        return body


def _tenant_problem(event: CheckedEvent, sender: Sender, known: set[str], province: str) -> str:
    if event.tenant not in known:
        return f"字段 tenant：租户 {event.tenant} 不存在"
    if sender.tenant_code not in (province, event.tenant):
        return f"字段 tenant：密钥属于租户 {sender.tenant_code}，不能提交租户 {event.tenant} 的日志"
    return ""


def _channel_problem(stream: str, event: CheckedEvent, sender: Sender) -> str:
    if sender.channel_business_codes is None or stream != "case_event":
        return ""
    if event.business_code not in sender.channel_business_codes:
        return f"字段 business_code：机构通道未开通业务 {event.business_code}"
    return ""


def ingest_batch(
    *,
    session: Session,
    stream: str,
    body: bytes,
    sender: Sender,
    now: datetime | None = None,
) -> IngestReport:
    """Check each line of ``body`` and store the good ones durably before returning."""
    settings = get_settings()
    now = now or utcnow()
    known = set(session.exec(select(Tenant.code)).all())
    report = IngestReport()
    good: list[CheckedEvent] = []
    for number, raw in enumerate(body.split(b"\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            event = check_line(stream, line, now=now)
        except Rejected as bad:
            report.reject(number, bad.reason)
            continue
        problem = _tenant_problem(event, sender, known, settings.province_code)
        problem = problem or _channel_problem(stream, event, sender)
        if problem:
            report.reject(number, problem)
            continue
        good.append(event)
    already_sealed = _sealed_duplicates(settings.lake_dir, stream, sender.identity, good)
    fresh = [event for event in good if (event.day, event.event_id) not in already_sealed]
    if fresh:
        stored: StoredCount = store_for(settings.lake_dir).append(
            stream=stream, sender=sender.identity, events=fresh
        )
        report.accepted, report.duplicates = stored.accepted, stored.duplicates
    report.duplicates += len(good) - len(fresh)
    return report


def _sealed_duplicates(
    lake: Path, stream: str, sender: str, events: list[CheckedEvent]
) -> set[tuple[str, str]]:
    """(day, event_id) of late events that a sealed day already holds for this sender."""
    sealed_days = chain_days(lake, stream)
    late: dict[str, list[str]] = {}
    for event in events:
        if event.day in sealed_days:
            late.setdefault(event.day, []).append(event.event_id)
    found: set[tuple[str, str]] = set()
    for day, ids in late.items():
        parts = sorted((lake / stream / f"date={day}").glob("part-*.parquet"))
        if not parts:
            continue  # purged after retention: nothing left to be a duplicate of
        held = (
            pl.scan_parquet(parts)
            .filter((pl.col("sender") == sender) & pl.col("event_id").is_in(ids))
            .select("event_id")
            .collect()
        )
        found |= {(day, event_id) for event_id in held.get_column("event_id")}
    return found
