"""Sealing closed days into Parquet on an SM3 chain; late events; tampering is reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest
from sqlmodel import Session

from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import catalogue, pending
from console.logs.catalogue import snapshot
from console.logs.chain import read_chain, verify
from console.logs.ingest import Sender, ingest_batch
from console.logs.store import store_for
from tests.support.world import World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
PROVINCE = Sender(identity="330000:test", tenant_code="330000")


def _case(event_id: str, ts: str, case_no: str = "C1", step: str = "accept") -> dict:
    return {
        "event_id": event_id, "ts": ts, "tenant": "330106", "case_no": case_no,
        "business_code": "2000402", "registration_type": "200", "channel": "bank",
        "step": step, "note": "kept",
    }  # fmt: skip


def _push(session: Session, *records: dict) -> dict:
    body = b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in records)
    report = ingest_batch(session=session, stream="case_event", body=body, sender=PROVINCE, now=NOW)
    return report.as_dict()


def _seal():
    lake = get_settings().lake_dir
    return store_for(lake).seal(lake=lake, now=NOW)


@pytest.fixture
def sealed_yesterday(world: World) -> None:
    with session_scope() as session:
        report = _push(
            session,
            _case("e1", "2026-11-26T09:00:00+08:00", "C1", "apply"),
            _case("e2", "2026-11-26T10:00:00+08:00", "C1", "accept"),
            _case("e3", "2026-11-26T23:59:59+08:00", "C2", "apply"),
            _case("e4", "2026-11-27T08:00:00+08:00", "C2", "accept"),  # today: stays pending
        )
    assert report["accepted"] == 4
    entries = _seal()
    assert [(e.day, e.file, e.rows) for e in entries] == [
        ("2026-11-26", "date=2026-11-26/part-0000.parquet", 3)
    ]


def test_a_closed_day_is_sealed_typed_and_sorted_with_unknown_fields_kept(
    sealed_yesterday: None,
) -> None:
    lake = get_settings().lake_dir
    frame = pl.read_parquet(lake / "case_event" / "date=2026-11-26" / "part-0000.parquet")
    assert frame.get_column("event_id").to_list() == ["e1", "e2", "e3"]
    assert frame.schema["ts"] == pl.Datetime("us", "UTC") and frame.schema["channel"] == pl.String
    assert json.loads(frame.get_column("raw")[0])["note"] == "kept"
    assert store_for(lake).count("case_event") == 1  # today's event is still pending
    assert verify(lake) == []


def test_late_events_go_into_a_new_part_and_resends_of_sealed_events_are_duplicates(
    sealed_yesterday: None,
) -> None:
    with session_scope() as session:
        report = _push(
            session,
            _case("e2", "2026-11-26T10:00:00+08:00"),  # already sealed
            _case("late", "2026-11-26T11:00:00+08:00"),
        )
    assert (report["accepted"], report["duplicates"]) == (1, 1)
    entries = _seal()
    assert [(e.file, e.rows) for e in entries] == [("date=2026-11-26/part-0001.parquet", 1)]
    chain = read_chain(get_settings().lake_dir, "case_event")
    assert chain[1].prev == chain[0].link
    assert verify(get_settings().lake_dir) == []


def test_one_altered_byte_of_a_sealed_file_is_reported_with_its_day_and_file(
    sealed_yesterday: None,
) -> None:
    lake = get_settings().lake_dir
    path = lake / "case_event" / "date=2026-11-26" / "part-0000.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    breaks = verify(lake)
    assert [(b.stream, b.day, b.file) for b in breaks] == [
        ("case_event", "2026-11-26", "date=2026-11-26/part-0000.parquet")
    ]
    assert "SM3" in breaks[0].reason


def test_a_removed_chain_line_or_an_extra_file_breaks_the_chain(sealed_yesterday: None) -> None:
    lake = get_settings().lake_dir
    with session_scope() as session:
        _push(session, _case("late", "2026-11-26T11:00:00+08:00"))
    _seal()
    chain_file = lake / "case_event" / "_chain.jsonl"
    _first, second = chain_file.read_text(encoding="utf-8").splitlines()
    chain_file.write_text(second + "\n", encoding="utf-8")
    reasons = {(b.file, b.reason) for b in verify(lake)}
    assert (
        "date=2026-11-26/part-0001.parquet",
        "校验链断开（记录被改动、删除、重排或伪造）",
    ) in reasons
    assert ("date=2026-11-26/part-0000.parquet", "文件不在校验链中") in reasons


def test_the_consoles_own_committed_operations_and_errors_reach_the_lake(world: World) -> None:
    from loguru import logger

    from console.audit.models import Outcome
    from console.audit.service import record
    from console.core.logging import configure_logging
    from console.logs.own import exception_sink

    store = store_for(get_settings().lake_dir)
    before = store.count("operation")
    actor = world.actor("county_admin")
    with session_scope() as session:
        record(session, actor=actor, obj="iam.users", action="write", target="kept")
    with pytest.raises(RuntimeError), session_scope() as session:
        record(session, actor=actor, obj="iam.users", action="write", outcome=Outcome.FAILURE)
        raise RuntimeError("rolled back")
    assert store.count("operation") == before + 1  # the rolled-back one never appears
    configure_logging(get_settings(), error_sinks=(exception_sink,))
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("a failing sharing call")
    logger.complete()
    assert store.count("exception") == 1


def test_an_event_stored_while_its_day_is_being_sealed_waits_for_the_next_seal(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.logs import seal

    with session_scope() as session:
        _push(session, _case("e1", "2026-11-26T09:00:00+08:00"))
    original = seal.decode_chunks

    def decode_while_a_sender_pushes(stream, chunks):
        with session_scope() as session:
            _push(session, _case("during", "2026-11-26T10:00:00+08:00"))
        return original(stream, chunks)

    monkeypatch.setattr(seal, "decode_chunks", decode_while_a_sender_pushes)
    assert [e.rows for e in _seal()] == [1]
    monkeypatch.setattr(seal, "decode_chunks", original)
    assert [e.rows for e in _seal()] == [1]  # the event stored meanwhile, not lost
    lake = get_settings().lake_dir
    frame = pl.read_parquet(lake / "case_event" / "date=2026-11-26" / "*.parquet")
    assert sorted(frame.get_column("event_id").to_list()) == ["during", "e1"]


def test_a_seal_that_crashed_before_its_delete_does_not_store_a_day_twice(
    sealed_yesterday: None,
) -> None:
    import sqlite3

    from console.logs.pending import ingest_path

    lake = get_settings().lake_dir
    frame = pl.read_parquet(lake / "case_event" / "date=2026-11-26" / "part-0000.parquet")
    db = sqlite3.connect(ingest_path(lake))
    db.executemany(  # the rows the crashed seal did not get to delete
        "INSERT INTO pending (stream, sender, event_id, ts_us, day, tenant, received_us, line)"
        " VALUES ('case_event', ?, ?, 0, '2026-11-26', ?, 0, ?)",
        frame.select("sender", "event_id", "tenant", "raw").rows(),
    )
    # ... and the catalogue transaction that would have made its part current never ran.
    db.execute("DELETE FROM lake_file WHERE file = 'case_event/date=2026-11-26/part-0000.parquet'")
    db.commit()
    db.close()
    with snapshot(lake) as snap:  # readers meanwhile see each event once: the pending copy
        assert snap.parts("case_event", days=["2026-11-26"]) == []
        assert snap.db is not None
        waiting = pending.chunks_between(snap.db, "case_event", "2026-11-26", "2026-11-26")
        assert sum(len(chunk) for chunk in waiting) == frame.height
    assert _seal() == []
    assert store_for(lake).count("case_event") == 1  # only today's event is still pending
    with snapshot(lake) as snap:
        assert len(snap.parts("case_event", days=["2026-11-26"])) == 1
    assert verify(lake) == []


def test_an_event_for_a_purged_day_is_accepted_not_an_error(sealed_yesterday: None) -> None:
    import shutil

    from console.logs.chain import record_purge

    lake = get_settings().lake_dir
    record_purge(lake, "case_event", "2026-11-26", 3)  # as the purge does: the line first,
    with pending.sealing(pending.ingest_path(lake)) as db, pending.write(db):  # then retired
        catalogue.retire(db, catalogue.PART, "case_event", "2026-11-26")
    shutil.rmtree(lake / "case_event" / "date=2026-11-26")  # and the grace period over
    with session_scope() as session:
        report = _push(session, _case("after-purge", "2026-11-26T12:00:00+08:00"))
    assert report["accepted"] == 1
