"""拒收记录: every refused pushed line, kept encrypted, shown masked, purged after retention.

A shipper that drops the lines a 200 refused (syslog-ng's http destination does) would lose
them without a trace; here each is kept with the time, the key, its line number and the
reason. The line may hold names and ID numbers as sent, so it is stored SM4-GCM encrypted
and only ever shown masked; at most ``KEPT_LINE_BYTES`` of a line and ``MAX_KEPT_REJECTIONS``
lines of a batch are kept (the answer to the sender still counts them all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.crypto import keyring
from console.core.masking import mask_name
from console.core.paging import Page, PageRequest, paginate
from console.core.settings import get_settings
from console.logs.contract import STREAM_LABELS
from console.logs.ingest import RejectedLine
from console.logs.masks import mask_texts
from console.logs.models import QuarantinedLine
from console.tenancy.scope import restrict

OBJ = "audit.logs"
# The counts per key are figures of 共享接口监测, not log content.
MONITOR_OBJ = "dashboards.statistics"
PREVIEW_CHARS = 400
# String fields of a pushed line that name a person: shown as 张*三.
NAME_FIELDS = frozenset(
    {"operator", "actor", "name", "real_name", "applicant", "owner", "obligee", "agent"}
)
_QUOTED_NAME = re.compile(r'"(' + "|".join(sorted(NAME_FIELDS)) + r')"\s*:\s*"([^"\\]{1,40})"')


def keep_rejected_lines(
    *,
    session: Session,
    stream: str,
    key_id: str,
    key_tenant: str,
    request_id: str,
    lines: Iterable[RejectedLine],
) -> int:
    """Store the refused lines of one batch; return how many."""
    ring = keyring()
    rows = [
        QuarantinedLine(
            stream=stream,
            key_id=key_id[:64],
            key_tenant=key_tenant[:6],
            request_id=request_id[:64],
            line_no=line.number,
            reason=line.reason[:255],
            size=line.size,
            content_enc=ring.encrypt(line.content.decode("utf-8", "backslashreplace")),
        )
        for line in lines
    ]
    session.add_all(rows)
    return len(rows)


def masked_line(text: str) -> str:
    """A refused line as a screen may show it: names, ID and phone numbers masked."""
    text = _QUOTED_NAME.sub(lambda m: f'"{m.group(1)}": "{mask_name(m.group(2))}"', text)
    return mask_texts([text])[0]


@dataclass(frozen=True)
class QuarantineRow:
    """One refused line for 日志保全 → 拒收记录."""

    id: int
    time: str
    stream: str
    key_id: str
    tenant: str
    line_no: int
    reason: str
    size: int
    preview: str


@dataclass(frozen=True)
class QuarantineQuery:
    """Filters of the list: stream, key, and a time range (UTC)."""

    stream: str = ""
    key_id: str = ""
    since: datetime | None = None


def list_rejected_lines(
    *, session: Session, actor: Actor, query: QuarantineQuery, page: PageRequest
) -> Page[QuarantineRow]:
    """The refused lines in the actor's tenant scope, newest first, masked."""
    authz.require(actor, OBJ, "read", target="quarantine")
    statement = select(QuarantinedLine).order_by(QuarantinedLine.id.desc())  # type: ignore[union-attr]
    if query.stream:
        statement = statement.where(QuarantinedLine.stream == query.stream)
    if query.key_id:
        statement = statement.where(QuarantinedLine.key_id == query.key_id)
    if query.since is not None:
        statement = statement.where(QuarantinedLine.received_at >= query.since)
    statement = restrict(statement, QuarantinedLine.key_tenant, actor)  # type: ignore[arg-type]
    rows, total = paginate(session, statement, page)
    ring = keyring()
    items = [
        QuarantineRow(
            id=row.id or 0,
            time=to_local_text(row.received_at),
            stream=STREAM_LABELS.get(row.stream, row.stream),
            key_id=row.key_id,
            tenant=row.key_tenant,
            line_no=row.line_no,
            reason=row.reason,
            size=row.size,
            preview=masked_line(ring.decrypt(row.content_enc)[:PREVIEW_CHARS]),
        )
        for row in rows
    ]
    return Page(items=items, total=total, page=page.page, size=page.size)


def rejected_counts_by_key(
    *, session: Session, actor: Actor, since: datetime, until: datetime
) -> dict[str, int]:
    """Refused lines per key in ``[since, until)`` in the actor's scope (共享接口监测)."""
    authz.require(actor, MONITOR_OBJ, "read", target="quarantine_counts")
    statement = (
        sa.select(QuarantinedLine.key_id, sa.func.count())
        .where(QuarantinedLine.received_at >= since, QuarantinedLine.received_at < until)
        .group_by(QuarantinedLine.key_id)
    )
    statement = restrict(statement, QuarantinedLine.key_tenant, actor)  # type: ignore[arg-type]
    return {key: int(count) for key, count in session.execute(statement).all()}


def purge_quarantine(*, session: Session, now: datetime | None = None) -> int:
    """Delete refused lines older than ``BDC_QUARANTINE_RETENTION_DAYS``; return how many."""
    cutoff = (now or utcnow()) - timedelta(days=get_settings().quarantine_retention_days)
    table = QuarantinedLine.__table__  # type: ignore[attr-defined]
    deleted = session.execute(sa.delete(table).where(table.c.received_at < cutoff))
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]
