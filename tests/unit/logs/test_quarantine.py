"""拒收记录: refused lines kept encrypted, listed masked within the reader's scope, purged."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.errors import Forbidden
from console.core.paging import PageRequest
from console.logs import quarantine_service as quarantine
from console.logs.ingest import RejectedLine
from console.logs.models import QuarantinedLine
from tests.support.world import BINJIANG, XIHU, World

SECRET_ID = "330106199001011234"
PHONE = "13812345678"


def _line(tenant: str) -> bytes:
    record = {
        "event_id": "q-1",
        "tenant": tenant,
        "operator": "张三丰",
        "id": SECRET_ID,
        "tel": PHONE,
    }
    return json.dumps(record, ensure_ascii=False).encode()


def _keep(key_tenant: str, *, key_id: str = "k1", count: int = 1, when=None) -> None:
    with session_scope() as session:
        quarantine.keep_rejected_lines(
            session=session,
            stream="case_event",
            key_id=key_id,
            key_tenant=key_tenant,
            request_id="rid-1",
            lines=[RejectedLine(n, "字段 step 应为…", _line(key_tenant), 99) for n in range(count)],
        )
        if when is not None:
            for row in session.exec(select(QuarantinedLine)).all():
                row.received_at = when
                session.add(row)


def _list(world: World, role: str) -> list[quarantine.QuarantineRow]:
    with session_scope() as session:
        return quarantine.list_rejected_lines(
            session=session,
            actor=world.actor(role),
            query=quarantine.QuarantineQuery(),
            page=PageRequest(1, 50),
        ).items


def test_a_refused_line_is_stored_encrypted_and_listed_masked(world: World) -> None:
    _keep(XIHU)
    with session_scope() as session:
        stored = session.exec(select(QuarantinedLine)).one()
    assert SECRET_ID not in stored.content_enc and "张三丰" not in stored.content_enc
    (row,) = _list(world, "audit_admin")
    assert (row.line_no, row.reason, row.size, row.stream) == (0, "字段 step 应为…", 99, "办件进度")
    assert SECRET_ID not in row.preview and PHONE not in row.preview
    assert "张三丰" not in row.preview and "张*丰" in row.preview
    assert "330106********1234" in row.preview and "138****5678" in row.preview


def test_a_county_reader_sees_only_its_own_keys_lines(world: World) -> None:
    _keep(XIHU, key_id="xihu")
    _keep(BINJIANG, key_id="binjiang")
    county = _list(world, "county_supervisor")  # a 西湖区 account in the world
    assert {row.key_id for row in county} == {"xihu"}
    assert {row.key_id for row in _list(world, "audit_admin")} == {"xihu", "binjiang"}


def test_reading_the_quarantine_needs_the_log_reading_permission(world: World) -> None:
    _keep(XIHU)
    with pytest.raises(Forbidden):
        _list(world, "window_clerk")


def test_counts_per_key_cover_the_period_and_the_scope(world: World) -> None:
    now = utcnow()
    _keep(XIHU, key_id="xihu", count=3)
    _keep(BINJIANG, key_id="binjiang", count=2)
    with session_scope() as session:
        everything = quarantine.rejected_counts_by_key(
            session=session,
            actor=world.actor("province_supervisor"),
            since=now - timedelta(hours=1),
            until=now + timedelta(hours=1),
        )
        before = quarantine.rejected_counts_by_key(
            session=session,
            actor=world.actor("province_supervisor"),
            since=now - timedelta(days=2),
            until=now - timedelta(days=1),
        )
        county = quarantine.rejected_counts_by_key(
            session=session,
            actor=world.actor("county_supervisor"),
            since=now - timedelta(hours=1),
            until=now + timedelta(hours=1),
        )
    assert everything == {"xihu": 3, "binjiang": 2}
    assert before == {} and county == {"xihu": 3}


def test_lines_past_their_retention_are_purged(world: World) -> None:
    _keep(XIHU, count=2, when=utcnow() - timedelta(days=181))
    _keep(XIHU, key_id="recent")
    with session_scope() as session:
        assert quarantine.purge_quarantine(session=session) == 2
    assert [row.key_id for row in _list(world, "audit_admin")] == ["recent"]
