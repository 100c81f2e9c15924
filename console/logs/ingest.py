"""Ingest a pushed NDJSON batch: check every line, keep the good ones, report each bad one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
from loguru import logger
from sqlmodel import Session, select

from console.core.clock import utcnow
from console.core.settings import get_settings
from console.core.syslog import forward
from console.logs import lake_table
from console.logs.catalogue import snapshot
from console.logs.chain import chain_days
from console.logs.contract import CheckedEvent, Rejected, check_line
from console.logs.parts import scan_parts
from console.logs.store import StoredCount, store_for
from console.tenancy.models import Tenant

MAX_REPORTED_REJECTIONS = 1000
# Rejected lines kept for the quarantine per batch, and the bytes kept of each.
MAX_KEPT_REJECTIONS = 1000
KEPT_LINE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Sender:
    """Who pushes the batch, as far as the records are concerned."""

    identity: str  # stable across key rotation: duplicates are detected per sender
    tenant_code: str  # the key's tenant; the province's key may push for every county
    channel_business_codes: frozenset[str] | None = None  # set for an institution's channel


@dataclass(frozen=True)
class RejectedLine:
    """A refused line as the quarantine keeps it (at most ``KEPT_LINE_BYTES`` of it)."""

    number: int
    reason: str
    content: bytes
    size: int


@dataclass
class IngestReport:
    """The answer to a batch: accepted, duplicates, and each rejected line with its reason.

    ``own_lines`` counts the well-formed lines for a tenant the key may push for, and
    ``foreign_lines`` those refused only because the key may not push for their tenant: a
    batch with none of the first and some of the second is refused as a whole (403).
    """

    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)
    rejected_total: int = 0
    own_lines: int = 0
    foreign_lines: int = 0
    kept: list[RejectedLine] = field(default_factory=list)

    def reject(self, line: int, reason: str, content: bytes = b"") -> None:
        """Note a bad line (the first MAX_REPORTED_REJECTIONS are listed, all are counted)."""
        self.rejected_total += 1
        if len(self.rejected) < MAX_REPORTED_REJECTIONS:
            self.rejected.append({"line": line, "reason": reason})
        if len(self.kept) < MAX_KEPT_REJECTIONS:
            self.kept.append(RejectedLine(line, reason, content[:KEPT_LINE_BYTES], len(content)))

    @property
    def only_foreign(self) -> bool:
        """No line for the key's own tenants, and some refused for another tenant's."""
        return self.own_lines == 0 and self.foreign_lines > 0

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


def _foreign(event: CheckedEvent, sender: Sender, province: str) -> str:
    if sender.tenant_code not in (province, event.tenant):
        return f"字段 tenant：密钥属于租户 {sender.tenant_code}，不能提交租户 {event.tenant} 的日志"
    return ""


def _unknown_tenant(event: CheckedEvent, known: set[str]) -> str:
    return "" if event.tenant in known else f"字段 tenant：租户 {event.tenant} 不存在"


def _channel_problem(stream: str, event: CheckedEvent, sender: Sender) -> str:
    if sender.channel_business_codes is None or stream != "case_event":
        return ""
    if event.business_code not in sender.channel_business_codes:
        return f"字段 business_code：机构通道未开通业务 {event.business_code}"
    return ""


def _checked(
    stream: str, number: int, line: bytes, *, now: datetime, max_line: int, report: IngestReport
) -> CheckedEvent | None:
    """The line checked against the contract, or None once its rejection is noted."""
    if len(line) > max_line:
        report.reject(number, f"单行超过上限 {max_line // 1024} KB", line)
        return None
    try:
        return check_line(stream, line, now=now)
    except Rejected as bad:
        report.reject(number, bad.reason, line)
    except Exception:  # whatever else a line does, it costs only that line
        logger.opt(exception=True).error("ingest: line {} of a {} batch failed", number, stream)
        report.reject(number, "无法处理该行（已记入运行日志）", line)
    return None


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
    max_line = settings.ingest_max_line_kb * 1024
    for number, raw in enumerate(body.split(b"\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        event = _checked(stream, number, line, now=now, max_line=max_line, report=report)
        if event is None:
            continue
        foreign = _foreign(event, sender, settings.province_code)
        if foreign:
            report.foreign_lines += 1
            report.reject(number, foreign, line)
            continue
        problem = _unknown_tenant(event, known) or _channel_problem(stream, event, sender)
        if problem:
            report.reject(number, problem, line)
            continue
        report.own_lines += 1
        good.append(event)
    already_sealed = _sealed_duplicates(settings.lake_dir, stream, sender.identity, good)
    fresh = [event for event in good if (event.day, event.event_id) not in already_sealed]
    if fresh:
        stored: StoredCount = store_for(settings.lake_dir).append(
            stream=stream, sender=sender.identity, events=fresh
        )
        report.accepted, report.duplicates = stored.accepted, stored.duplicates
        forward(stream, list(stored.stored))  # only what was newly stored, never a repeat
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
    on_store = lake_table.configured() is not None
    for day, ids in late.items():
        with snapshot(lake) as snap:  # a file gone missing is for verify, not a lost batch
            if on_store:  # the table holds the day (its local copies may be evicted)
                sealed = snap.sealed(stream, days=[day])
            else:
                parts = [part for part in snap.parts(stream, days=[day]) if part.exists()]
                sealed = scan_parts(stream, parts) if parts else None
            if sealed is None:
                continue  # purged after retention: nothing left to be a duplicate of
            held = (
                sealed.filter((pl.col("sender") == sender) & pl.col("event_id").is_in(ids))
                .select("event_id")
                .collect()
            )
        found |= {(day, event_id) for event_id in held.get_column("event_id")}
    return found
