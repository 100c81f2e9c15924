"""Alert tests: a seeded province, events pushed into the real pending store, rules saved."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from console.alerts.models import Alert, AlertRule
from console.core.clock import CHINA_TZ
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs.contract import check_line
from console.logs.store import store_for
from tests.support.world import World

_ids = itertools.count(1)


def push(
    stream: str, rows: list[dict], *, sender: str = "test", now: datetime | None = None
) -> int:
    """Store records as ingestion does (contract checked, minute counters kept); how many new.

    ``now`` is the clock the contract checks against (a test that moves time forward).
    """
    now = now or datetime.now(UTC)
    events = []
    for row in rows:
        record = {"event_id": f"e{next(_ids)}", **row}
        if isinstance(record.get("ts"), datetime):
            record["ts"] = record["ts"].astimezone(CHINA_TZ).isoformat()
        events.append(check_line(stream, json.dumps(record, ensure_ascii=False).encode(), now=now))
    return (
        store_for(get_settings().lake_dir)
        .append(stream=stream, sender=sender, events=events)
        .accepted
    )


def call(
    interface: str, *, tenant: str, ok: bool, ms: int = 80, ts: datetime | None = None
) -> dict:
    """One interface_call record."""
    return {
        "ts": ts or datetime.now(UTC), "tenant": tenant, "interface_code": interface,
        "department": "公安", "trace_id": f"t{next(_ids)}", "caller": "登记系统",
        "duration_ms": ms, "result_code": "0" if ok else "E500", "success": ok,
    }  # fmt: skip


def failure(source: str, *, tenant: str, level: str = "ERROR") -> dict:
    """One exception record."""
    return {"ts": datetime.now(UTC), "tenant": tenant, "source": source, "level": level,
            "message": "数据库连接超时"}  # fmt: skip


def add_rule(
    kind: str,
    *,
    tenant: str = "",
    severity: str = "major",
    age: timedelta = timedelta(0),
    **params: object,
) -> int:
    """Save a rule directly (the service and its checks have their own tests)."""
    with session_scope() as session:
        rule = AlertRule(name=f"{kind}-{next(_ids)}", kind=kind, tenant_code=tenant,
                         params=json.dumps(params), severity=severity,
                         updated_at=datetime.now(UTC) - age)  # fmt: skip
        session.add(rule)
        session.flush()
        return rule.id or 0


def alerts_of(rule_id: int) -> list[Alert]:
    """The rule's alerts, oldest first."""
    with session_scope() as session:
        found = session.exec(select(Alert).where(Alert.rule_id == rule_id).order_by(Alert.id)).all()
        session.expunge_all()
        return list(found)


@pytest.fixture
def province(world: World) -> World:
    """The world (two counties, one account per role) with only the test's rules enabled."""
    with session_scope() as session:
        for rule in session.exec(select(AlertRule)).all():
            rule.enabled = False  # the built-in rules have their own tests
            session.add(rule)
    return world
