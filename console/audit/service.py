"""Recording operations: every write and every denial, personal data masked.

Entries are written in the caller's transaction. Once it commits, they are handed to the
subscribers registered with ``on_committed`` (the app subscribes the log lake's
``operation`` stream); a rolled-back transaction hands over nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from console.audit.models import OperationLog, Outcome
from console.core.actor import Actor
from console.core.db import session_scope
from console.core.errors import UserError
from console.core.logging import request_id_var

CommittedOperations = Callable[[list[OperationLog]], None]

_QUEUE_KEY = "audit_committed_operations"
_subscribers: list[CommittedOperations] = []


def on_committed(subscriber: CommittedOperations) -> None:
    """Hand every committed batch of operations to ``subscriber`` too (idempotent)."""
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


@event.listens_for(OrmSession, "after_commit")
def _publish_committed(session: OrmSession) -> None:
    entries = session.info.pop(_QUEUE_KEY, None)
    if not entries:
        return
    for subscriber in _subscribers:
        subscriber(entries)


@event.listens_for(OrmSession, "after_rollback")
def _drop_rolled_back(session: OrmSession) -> None:
    session.info.pop(_QUEUE_KEY, None)


def record(
    session: Session,
    *,
    actor: Actor,
    obj: str,
    action: str,
    outcome: Outcome = Outcome.SUCCESS,
    target: str = "",
    tenant: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one operation to the log inside the caller's transaction (atomic with the write).

    Subscribers (the lake's ``operation`` stream) receive it when the transaction commits.
    """
    entry = OperationLog(
        request_id=request_id_var.get(),
        actor_id=actor.user_id,
        actor_account=actor.account,
        tenant_code=tenant or actor.context_tenant or actor.tenant_code,
        object=obj,
        action=action,
        target=target[:128],
        outcome=outcome.value,
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
        client_ip=actor.client_ip[:64],
    )
    session.add(entry)
    session.info.setdefault(_QUEUE_KEY, []).append(entry)


def record_denial(
    *, actor: Actor, obj: str, action: str, tenant: str, target: str = "", reason: str = ""
) -> None:
    """Log a refusal in its own transaction: the caller's is about to roll back."""
    with session_scope() as session:
        record(
            session,
            actor=actor,
            obj=obj,
            action=action,
            outcome=Outcome.DENIED,
            target=target,
            tenant=tenant,
            detail={"reason": reason} if reason else None,
        )


@contextmanager
def separation_refusals_logged(
    *, actor: Actor, obj: str, action: str, tenant: str, target: str = ""
) -> Iterator[None]:
    """Log a refusal of the enclosed checks (a ``ValidationFailed`` of 三员分立) as a denial.

    A broken rule of separation is a denial for the auditors, even though the person reads it
    as a form error; other validation errors are just typing mistakes and are not logged.
    """
    try:
        yield
    except UserError as refused:
        if refused.message.startswith("三员分立"):
            record_denial(
                actor=actor,
                obj=obj,
                action=action,
                tenant=tenant,
                target=target,
                reason=refused.message,
            )
        raise


def record_anonymous_denial(*, reason: str, client_ip: str, target: str) -> None:
    """Log a refused API call whose caller could not be identified."""
    anonymous = Actor(
        user_id=0,
        account="apikey:unknown",
        display_name="未识别调用方",
        tenant_code="",
        session_id=0,
        client_ip=client_ip,
    )
    record_denial(
        actor=anonymous, obj="api", action="call", tenant="", target=target, reason=reason
    )
