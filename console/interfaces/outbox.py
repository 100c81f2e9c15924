"""The sharing outbox at row level: sealed payloads, duplicate-free inserts, failed pushes.

Shared by the task runner (``task_service``) and the queue's hand-over and inspection
(``queue_service``). Payloads are SM4-encrypted at rest: a record pushed to a department
may name people, and the outbox can hold days of them while a department is down.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from console.core.clock import utcnow
from console.core.crypto import keyring
from console.core.db import upsert_insert
from console.interfaces.models import SharingOutbox

SEALED_PREFIX = "sm4gcm1:"
MAX_ERROR = 500


def seal_payload(payload: dict[str, Any]) -> str:
    """The payload as stored: its JSON, SM4-encrypted."""
    return keyring().encrypt(json.dumps(payload, ensure_ascii=False, default=str))


def open_payload(stored: str) -> Any:
    """The payload a stored row holds (plain JSON of rows queued before encryption, too)."""
    text = keyring().decrypt(stored) if stored.startswith(SEALED_PREFIX) else stored
    return json.loads(text)


def insert_ignoring_duplicates(session: Session) -> sa.Insert:
    """INSERT … ON CONFLICT DO NOTHING: two producers queuing one record race harmlessly."""
    return (
        upsert_insert(session, SharingOutbox.__table__)  # type: ignore[arg-type]
        .on_conflict_do_nothing(index_elements=["task_id", "record_key"])
        .returning(SharingOutbox.__table__.c.id)  # type: ignore[attr-defined]
    )


def mark_failed(session: Session, ids: list[int], reason: str) -> None:
    """The records of a batch the department did not take: why, when, and one more attempt."""
    if not ids:
        return
    session.execute(
        sa.update(SharingOutbox)
        .where(SharingOutbox.id.in_(ids), SharingOutbox.delivered_at.is_(None))  # type: ignore[union-attr]
        .values(
            failed_at=utcnow(),
            last_error=reason[:MAX_ERROR],
            attempts=SharingOutbox.attempts + 1,
        )
    )
