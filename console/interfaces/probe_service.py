"""Health probes of interface endpoints: by hand ("测试连接") and on a schedule.

The HTTP calls happen before anything is written, so no database write lock is held while
waiting on the network (on SQLite one writer blocks all others).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import CHINA_TZ, utcnow
from console.core.errors import ValidationFailed
from console.core.outbound import OutboundRefused, fetch
from console.iam import outbound_service
from console.interfaces.models import InterfaceDef, ProbeResult
from console.interfaces.registry_service import OBJ, load_visible, load_writable

FAILURE_THRESHOLD = 3  # consecutive failures before an interface is marked "down"
PROBE_WORKERS = 8  # scheduled probes run side by side so slow endpoints don't add up
MAX_HISTORY = 500
PROBE_BYTES = 1024  # a probe needs the status; the body is read no further than this


@dataclass(frozen=True)
class ProbeOutcome:
    """What one HTTP check found."""

    ok: bool
    status_code: int | None
    latency_ms: int
    error: str


@dataclass(frozen=True)
class ProbeRow:
    """One stored probe, as the history table shows it."""

    id: int
    time: str
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str
    trigger: str
    actor: str


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _failed(started: float, error: str) -> ProbeOutcome:
    return ProbeOutcome(ok=False, status_code=None, latency_ms=_elapsed_ms(started), error=error)


def probe_endpoint(*, url: str, method: str, timeout_ms: int) -> ProbeOutcome:
    """Send one request and time it; ok when a response with a status below 500 arrives.

    A 4xx still proves the endpoint is up (a bare probe carries no credentials or body).
    The call goes through the guarded client (no internal address, one total deadline); a
    failure is reported as its category, never raised and never the remote's text.
    """
    started = time.perf_counter()
    try:
        answer = fetch(
            method,
            url,
            policy=outbound_service.policy(),
            deadline_seconds=timeout_ms / 1000,
            max_bytes=PROBE_BYTES,
        )
    except OutboundRefused as refused:
        return _failed(started, _failure_text(refused.category, timeout_ms))
    latency = _elapsed_ms(started)
    if answer.status_code >= 500:
        return ProbeOutcome(
            False, answer.status_code, latency, f"服务端错误：状态码 {answer.status_code}"
        )
    return ProbeOutcome(True, answer.status_code, latency, "")


def _failure_text(category: str, timeout_ms: int) -> str:
    if category == "超时":
        return f"超时（超过 {timeout_ms} 毫秒）"
    if category == "地址不允许":
        return "地址不允许：内网、本机或保留地址须由系统管理员列入 BDC_OUTBOUND_ALLOW"
    return f"无法连接：{category}"


def next_health(
    *, health: str, failures: int, ok: bool, failure_threshold: int = FAILURE_THRESHOLD
) -> tuple[str, int]:
    """(health, consecutive failures) after a probe.

    One success heals; ``failure_threshold`` failures in a row mark the interface down (a
    single lost packet should not page anyone). Below the threshold the health stays as it was.
    """
    if ok:
        return "ok", 0
    failures += 1
    return ("down" if failures >= failure_threshold else health), failures


def record_probe(
    session: Session,
    interface: InterfaceDef,
    outcome: ProbeOutcome,
    *,
    at: datetime,
    trigger: str,
    actor_account: str = "",
    failure_threshold: int = FAILURE_THRESHOLD,
) -> ProbeResult:
    """Store the probe and apply the health rule to the interface."""
    assert interface.id is not None
    interface.health, interface.consecutive_failures = next_health(
        health=interface.health,
        failures=interface.consecutive_failures,
        ok=outcome.ok,
        failure_threshold=failure_threshold,
    )
    interface.last_probe_at, interface.last_latency_ms = at, outcome.latency_ms
    session.add(interface)
    result = ProbeResult(
        interface_id=interface.id,
        ts=at,
        ok=outcome.ok,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        error=outcome.error[:500],
        trigger=trigger,
        actor_account=actor_account,
    )
    session.add(result)
    session.flush()
    return result


def _probe(interface: InterfaceDef) -> ProbeOutcome:
    return probe_endpoint(
        url=interface.endpoint_url, method=interface.method, timeout_ms=interface.timeout_ms
    )


def test_connection(
    *,
    session: Session,
    actor: Actor,
    interface_id: int,
    failure_threshold: int = FAILURE_THRESHOLD,
) -> ProbeRow:
    """「测试连接」: probe the endpoint now, store the result, update health, log it.

    Raises:
        Forbidden: the actor may not write the registry.
        NotFound: no such interface in the actor's scope.
        ValidationFailed: no endpoint yet, or a county actor and a province-wide interface.
    """
    interface = load_writable(session, actor, interface_id)
    if not interface.endpoint_url:
        raise ValidationFailed("尚未填写接口地址，无法测试连接", field="接口地址")
    outcome = _probe(interface)
    session.refresh(interface)  # a scheduled probe may have finished while we waited
    result = record_probe(
        session,
        interface,
        outcome,
        at=utcnow(),
        trigger="manual",
        actor_account=actor.account,
        failure_threshold=failure_threshold,
    )
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="test",
        target=interface.code,
        tenant=interface.tenant_code or None,
        detail={"endpoint": interface.endpoint_url, **asdict(outcome)},
    )
    return _probe_row(result)


def _due(session: Session, now: datetime, interval_seconds: int) -> list[InterfaceDef]:
    cutoff = now - timedelta(seconds=interval_seconds)
    return list(
        session.exec(
            select(InterfaceDef)
            .where(InterfaceDef.enabled, InterfaceDef.endpoint_url != "")
            .where(
                InterfaceDef.last_probe_at.is_(None) | (InterfaceDef.last_probe_at <= cutoff)  # type: ignore[union-attr, operator]
            )
            .order_by(InterfaceDef.id)
        ).all()
    )


def probe_due(
    *,
    session: Session,
    now: datetime,
    interval_seconds: int,
    failure_threshold: int = FAILURE_THRESHOLD,
) -> int:
    """Probe every enabled interface with an endpoint not probed in the last interval.

    The system's periodic check (no actor): results are stored with trigger "schedule" and
    the time ``now``. Returns how many interfaces were probed.
    """
    due = _due(session, now, interval_seconds)
    if not due:
        return 0
    targets = [(i.endpoint_url, i.method, i.timeout_ms) for i in due]  # plain values for threads
    # End the read transaction before waiting on the endpoints: on SQLite a transaction that
    # read before another job's write committed can no longer write (the jobs run side by side).
    session.commit()
    with ThreadPoolExecutor(max_workers=min(PROBE_WORKERS, len(due))) as pool:
        outcomes = list(
            pool.map(lambda t: probe_endpoint(url=t[0], method=t[1], timeout_ms=t[2]), targets)
        )
    for interface, outcome in zip(due, outcomes, strict=True):
        session.refresh(interface)  # a manual test may have finished while we waited
        record_probe(
            session,
            interface,
            outcome,
            at=now,
            trigger="schedule",
            failure_threshold=failure_threshold,
        )
    return len(due)


def probe_history(
    *, session: Session, actor: Actor, interface_id: int, limit: int = 50
) -> list[ProbeRow]:
    """The interface's latest probes, newest first.

    Raises:
        Forbidden: the actor may not read the registry.
        NotFound: no such interface in the actor's scope.
    """
    authz.require(actor, OBJ, "read")
    load_visible(session, actor, interface_id)
    results = session.exec(
        select(ProbeResult)
        .where(ProbeResult.interface_id == interface_id)
        .order_by(ProbeResult.ts.desc(), ProbeResult.id.desc())  # type: ignore[attr-defined, union-attr]
        .limit(max(1, min(limit, MAX_HISTORY)))
    ).all()
    return [_probe_row(r) for r in results]


def _probe_row(result: ProbeResult) -> ProbeRow:
    return ProbeRow(
        id=result.id or 0,
        # Seconds matter here: probes of one interface can be moments apart.
        time=result.ts.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
        ok=result.ok,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        error=result.error,
        trigger=result.trigger,
        actor=result.actor_account,
    )
