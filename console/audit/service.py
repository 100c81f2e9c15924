"""Recording operations: every write and every denial, personal data masked."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from console.audit.models import OperationLog, Outcome
from console.core.actor import Actor
from console.core.db import session_scope
from console.core.logging import request_id_var
from console.logs.own import queue_operation


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

    The lake's ``operation`` stream receives it when the transaction commits.
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
    queue_operation(session, entry)


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
