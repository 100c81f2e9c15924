"""共享任务的队列: records handed over by county systems, and the queue as the page shows it.

A county system hands over what a sharing task must push with ``POST
/api/v1/sharing-tasks/{task}/records``: NDJSON, one ``{"record_id": …, "data": {…}}`` per
line, under the per-line rules of log ingestion — each bad line refused with its number and a
Chinese reason while the good ones are queued, a record id already queued for the task counted
as a duplicate and not queued twice. The page lists a task's queue (waiting, delivered, failed
with the reason) and puts records back in the queue.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record, record_denial
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.core.paging import Page, PageRequest, contains, paginate
from console.core.settings import get_settings
from console.interfaces.models import SharingOutbox, SharingTask
from console.interfaces.outbox import insert_ignoring_duplicates, seal_payload
from console.interfaces.task_service import OBJ, PROVINCE_WIDE, task_for
from console.tenancy.scope import scope_of

RECORDS_SCOPE = "sharing.records"
MAX_RECORD_BYTES = 64 * 1024
MAX_RECORD_ID = 128
MAX_REQUEUE = 1000
QueueStatus = Literal["", "waiting", "delivered", "failed"]
STATUS_LABELS = {"waiting": "等待推送", "delivered": "已送达", "failed": "推送失败"}


@dataclass(frozen=True)
class LineRefusal:
    """One refused line: its number in the batch and why, in Chinese."""

    line: int
    reason: str


@dataclass
class HandOverReport:
    """What became of a batch: queued, already queued before, refused line by line."""

    task: str
    accepted: int = 0
    duplicates: int = 0
    rejected: list[LineRefusal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The API's answer."""
        return {
            "task": self.task,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [asdict(r) for r in self.rejected],
        }


@dataclass(frozen=True)
class QueueRow:
    """One queued record as the page shows it (never its content: it may name people)."""

    id: int
    record_id: str
    status: str
    status_label: str
    source: str
    queued: str
    delivered: str
    failed: str
    attempts: int
    last_error: str


class _NotJson(ValueError):
    """NaN or Infinity: Python reads them, JSON has no such number, receivers refuse them."""


class _RepeatedKey(ValueError):
    """A key twice in one object: which value counts differs between readers."""


def _no_constant(name: str) -> None:
    raise _NotJson(name)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise _NotJson(text)
    return value


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen[key] = value
    return seen


# Control, format (zero-width …) and surrogate characters: invisible or unstorable in an id.
_ODD_CHARACTERS = {"Cc", "Cf", "Cs"}


def _id_problem(record_id: str) -> str:
    if any(unicodedata.category(c) in _ODD_CHARACTERS for c in record_id):
        return "record_id 含控制字符或不可见字符"
    return ""


def _line_problem(raw: bytes) -> tuple[str, dict[str, Any] | None, str]:
    """(record id, data, "") for a good line, or ("", None, why it is refused)."""
    if len(raw) > MAX_RECORD_BYTES:
        return "", None, f"记录超过 {MAX_RECORD_BYTES // 1024} KB"
    try:
        item = json.loads(
            raw.decode("utf-8"),
            parse_constant=_no_constant,
            parse_float=_finite,
            object_pairs_hook=_no_repeated_keys,
        )
    except UnicodeDecodeError:
        return "", None, "不是 UTF-8 文本"
    except _RepeatedKey as repeated:
        return "", None, f"字段 {str(repeated)[:40]} 重复出现"
    except RecursionError:
        return "", None, "JSON 嵌套层数过深"
    except ValueError:  # not JSON, NaN/Infinity, or a number too long to read
        return "", None, "不是有效的 JSON"
    if not isinstance(item, dict):
        return "", None, "应为 JSON 对象"
    record_id, data = item.get("record_id"), item.get("data")
    if record_id is None:
        return "", None, "缺少 record_id"
    if not isinstance(record_id, str) or not 1 <= len(record_id.strip()) <= MAX_RECORD_ID:
        return "", None, f"record_id 应为 1 到 {MAX_RECORD_ID} 个字符的字符串"
    if data is None:
        return "", None, "缺少 data"
    if not isinstance(data, dict):
        return "", None, "data 应为 JSON 对象（推送给部门的一条记录）"
    if problem := _id_problem(record_id):
        return "", None, problem
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "", None, "data 含无法编码的字符（孤立的代理项）"
    unknown = sorted(set(item) - {"record_id", "data"})
    if unknown:
        return "", None, f"不认识的字段 {unknown[0]}（只允许 record_id 和 data）"
    return record_id.strip(), data, ""


def _handing_task(session: Session, caller: Actor, task_code: str, key_tenant: str) -> SharingTask:
    """The task a key may hand records to; a refusal is logged.

    A key's own tenant's tasks and province-wide ones; a province key's: any task.
    """
    task = session.exec(select(SharingTask).where(SharingTask.code == task_code)).first()
    if task is None:
        raise NotFound(f"共享任务 {task_code} 不存在")
    province = get_settings().province_code
    if task.tenant_code not in {PROVINCE_WIDE, key_tenant} and key_tenant != province:
        reason = f"密钥属于租户 {key_tenant}，不能向其他租户的共享任务移交记录"
        record_denial(
            actor=caller,
            obj=OBJ,
            action="hand_over",
            tenant=key_tenant,
            target=task.code,
            reason=reason,
        )
        raise Forbidden(reason)
    return task


def hand_over(
    *, session: Session, caller: Actor, key_id: str, key_tenant: str, task_code: str, body: bytes
) -> HandOverReport:
    """Queue the good lines of an NDJSON batch for a task; refuse the bad ones by line.

    Raises:
        NotFound: no task has this code.
        Forbidden: the task belongs to another tenant than the key's.
    """
    task = _handing_task(session, caller, task_code, key_tenant)
    report = HandOverReport(task=task.code)
    good: dict[str, dict[str, Any]] = {}
    for number, raw in enumerate(body.split(b"\n"), start=1):
        if not raw.strip():
            continue
        record_id, data, problem = _line_problem(raw.strip())
        if problem:
            report.rejected.append(LineRefusal(number, problem))
        elif record_id in good:
            report.duplicates += 1  # twice in one batch: the first one counts
        else:
            good[record_id] = data or {}
    if good:
        now = utcnow()
        rows = [
            {
                "task_id": task.id,
                "record_key": record_id,
                "payload": seal_payload(data),
                "queued_at": now,
                "source": key_id,
                "source_tenant": key_tenant,
            }
            for record_id, data in good.items()
        ]
        report.accepted = len(session.execute(insert_ignoring_duplicates(session), rows).all())
        report.duplicates += len(good) - report.accepted
    record(
        session,
        actor=caller,
        obj=OBJ,
        action="hand_over",
        target=task.code,
        tenant=key_tenant,  # the sender's log: a county sees what its systems handed over
        detail={
            "task_tenant": task.tenant_code or "全省",
            "key": key_id,
            "accepted": report.accepted,
            "duplicates": report.duplicates,
            "rejected": len(report.rejected),
        },
    )
    return report


def _status_filter(status: QueueStatus) -> sa.ColumnElement[bool]:
    delivered = SharingOutbox.delivered_at.is_not(None)  # type: ignore[union-attr]
    failed = SharingOutbox.failed_at.is_not(None)  # type: ignore[union-attr]
    if status == "delivered":
        return delivered
    if status == "failed":
        return sa.and_(sa.not_(delivered), failed)
    if status == "waiting":
        return sa.and_(sa.not_(delivered), sa.not_(failed))
    return sa.true()


def _status(row: SharingOutbox) -> str:
    if row.delivered_at is not None:
        return "delivered"
    return "failed" if row.failed_at is not None else "waiting"


def _queue_row(row: SharingOutbox) -> QueueRow:
    status = _status(row)
    assert row.id is not None
    return QueueRow(
        id=row.id,
        record_id=row.record_key,
        status=status,
        status_label=STATUS_LABELS[status],
        source=f"接入密钥 {row.source}" if row.source else "控制台",
        queued=to_local_text(row.queued_at),
        delivered=to_local_text(row.delivered_at) if row.delivered_at else "",
        failed=to_local_text(row.failed_at) if row.failed_at else "",
        attempts=row.attempts,
        last_error=row.last_error,
    )


def _visible_records(actor: Actor, task: SharingTask) -> sa.ColumnElement[bool]:
    """A province-wide task's records a county may see: those its own keys handed over."""
    scope = scope_of(actor)
    if task.tenant_code or scope.all_tenants:
        return sa.true()
    return SharingOutbox.source_tenant.in_(sorted(scope.codes))  # type: ignore[attr-defined]


def list_queue(
    *,
    session: Session,
    actor: Actor,
    task_id: int,
    status: QueueStatus = "",
    search: str = "",
    page: PageRequest | None = None,
) -> Page[QueueRow]:
    """A task's queued records, newest first: by state and record id, a page at a time."""
    task = task_for(session, actor, task_id, "read")
    statement = (
        select(SharingOutbox)
        .where(
            SharingOutbox.task_id == task.id,
            _status_filter(status),
            _visible_records(actor, task),
        )
        .order_by(SharingOutbox.id.desc())  # type: ignore[union-attr]
    )
    if search.strip():
        statement = statement.where(contains(SharingOutbox.record_key, search.strip()))
    page = page or PageRequest()
    rows, total = paginate(session, statement, page)
    return Page([_queue_row(r) for r in rows], total, page.page, page.size)


def status_counts(*, session: Session, actor: Actor, task_id: int) -> dict[str, int]:
    """How many of the task's records wait, were delivered, failed (one query)."""
    task = task_for(session, actor, task_id, "read")
    row = session.execute(
        sa.select(
            *[
                sa.func.count().filter(_status_filter(status)).label(status)  # type: ignore[arg-type]
                for status in STATUS_LABELS
            ]
        ).where(SharingOutbox.task_id == task.id, _visible_records(actor, task))
    ).one()
    return {status: int(row._mapping[status]) for status in STATUS_LABELS}


def requeue(*, session: Session, actor: Actor, task_id: int, record_ids: list[int]) -> int:
    """Put failed or delivered records back in the queue; the next run pushes them (again).

    Raises:
        ValidationFailed: nothing chosen, or more than ``MAX_REQUEUE`` at once.
    """
    task = task_for(session, actor, task_id, "write")
    if not record_ids:
        raise ValidationFailed("请先选择要重新排队的记录", field="记录")
    if len(record_ids) > MAX_REQUEUE:
        raise ValidationFailed(f"一次最多重新排队 {MAX_REQUEUE} 条", field="记录")
    changed = session.execute(
        sa.update(SharingOutbox)
        .where(
            SharingOutbox.task_id == task.id,
            _visible_records(actor, task),
            SharingOutbox.id.in_(record_ids),  # type: ignore[union-attr]
            sa.or_(SharingOutbox.delivered_at.is_not(None), SharingOutbox.failed_at.is_not(None)),  # type: ignore[union-attr]
        )
        .values(delivered_at=None, run_id=None, failed_at=None, last_error="", attempts=0)
    )
    count = int(changed.rowcount or 0)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="requeue",
        target=task.code,
        tenant=task.tenant_code or None,
        detail={"records": count, "ids": sorted(record_ids)[:50]},
    )
    return count
