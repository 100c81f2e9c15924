"""A backlog is sealed and merged in pieces of at most the configured rows, however big."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import compaction, pending
from console.logs.chain import held_parts, read_chain, verify
from console.logs.ingest import Sender, ingest_batch
from console.logs.scheduled import seal_logs
from console.logs.search import LogQuery, search_logs
from tests.support.world import World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
PROVINCE = Sender(identity="330000:test", tenant_code="330000")
DAYS = ("2026-11-24", "2026-11-25")
LIMIT = 20_000
SUMMARY = re.compile(r"分 (\d+) 批处理，每批最多 (\d+) 条（上限 (\d+)）")


def _push(first: int, count: int, day: str) -> None:
    """``count`` case events of ``day`` in batches of 20,000 lines."""
    for start in range(first, first + count, 20_000):
        lines = [
            f'{{"event_id":"e{n}","ts":"{day}T{n % 24:02d}:{n % 60:02d}:00+08:00",'
            f'"tenant":"330106","case_no":"C{n // 7}","business_code":"2000402",'
            f'"registration_type":"200","channel":"window","step":"accept"}}'
            for n in range(start, min(first + count, start + 20_000))
        ]
        with session_scope() as session:
            body = "\n".join(lines).encode()
            report = ingest_batch(
                session=session, stream="case_event", body=body, sender=PROVINCE, now=NOW
            )
        assert report.rejected == []


def _accounting(summary: str) -> tuple[int, int, int]:
    found = SUMMARY.search(summary)
    assert found is not None, summary
    count, largest, limit = map(int, found.groups())
    return count, largest, limit


def test_a_backlog_is_sealed_and_merged_in_pieces_no_bigger_than_configured(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_SEAL_PIECE_ROWS", str(LIMIT))
    get_settings.cache_clear()
    _push(0, 150_000, DAYS[0])
    _push(150_000, 90_000, DAYS[1])

    count, largest, limit = _accounting(seal_logs(NOW))

    assert limit == LIMIT
    assert largest <= LIMIT
    assert count >= 240_000 // LIMIT  # 8 pieces for the first day, 5 for the second
    lake = get_settings().lake_dir
    chain = read_chain(lake, "case_event")
    assert sum(entry.rows for entry in held_parts(chain)) == 240_000
    assert max(entry.rows for entry in held_parts(chain)) <= LIMIT
    with pending.sealing(pending.ingest_path(lake)) as db:
        assert pending.count(db) == 0

    # Late batches leave small parts; once quiet they are merged, in groups within the limit.
    for n in range(3):
        _push(300_000 + n * 7_000, 7_000, DAYS[0])
        seal_logs(NOW)
    count, largest, limit = _accounting(seal_logs(utcnow() + compaction.QUIET))

    assert count >= 1 and largest <= LIMIT
    chain = read_chain(lake, "case_event")
    assert max(entry.rows for entry in held_parts(chain)) <= LIMIT
    assert any(entry.file.startswith("compact:") for entry in chain)
    assert verify(lake) == []
    with session_scope() as session:
        page = search_logs(session=session, actor=world.actor("audit_admin"),
                           query=LogQuery(stream="case_event", case_no="C21428"))  # fmt: skip
    assert page.total == 7  # e149996 … e150002: one case across two days' pieces


def test_a_seal_cut_short_after_its_pieces_were_chained_stores_every_event_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.logs import seal

    monkeypatch.setenv("BDC_SEAL_PIECE_ROWS", "1000")
    get_settings.cache_clear()
    _push(0, 3_500, DAYS[0])
    real = seal._make_current

    def power_cut(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(seal, "_make_current", power_cut)
    with pytest.raises(RuntimeError):
        seal_logs(NOW)  # four parts written and chained, none current, every event pending
    monkeypatch.setattr(seal, "_make_current", real)

    seal_logs(NOW)

    lake = get_settings().lake_dir
    held = held_parts(read_chain(lake, "case_event"))
    assert [entry.rows for entry in held] == [1000, 1000, 1000, 500]
    with pending.sealing(pending.ingest_path(lake)) as db:
        assert pending.count(db) == 0
    assert verify(lake) == []
    with session_scope() as session:
        page = search_logs(session=session, actor=world.actor("audit_admin"),
                           query=LogQuery(stream="case_event", start=date(2026, 11, 24),
                                          end=date(2026, 11, 24)))  # fmt: skip
    assert page.total == 3_500  # each event once: sealed, not also pending
