"""Pending events decoded once per process: every read sees exactly its snapshot's rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

import polars as pl
import pytest

from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import pending, pending_frames
from console.logs.catalogue import snapshot
from console.logs.ingest import Sender, ingest_batch
from console.logs.seal import decode_chunks
from console.logs.store import store_for
from tests.support.world import World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
PROVINCE = Sender(identity="330000:test", tenant_code="330000")


def _push(*ids: str, day: str = "2026-11-27") -> None:
    lines = [
        json.dumps({"event_id": i, "ts": f"{day}T09:00:00+08:00", "tenant": "330106",
                    "interface_code": "gab.sfhc", "department": "公安部", "trace_id": f"t-{i}",
                    "caller": "reg", "duration_ms": 100 + n, "result_code": "000",
                    "success": True})
        for n, i in enumerate(ids)
    ]  # fmt: skip
    with session_scope() as session:
        report = ingest_batch(session=session, stream="interface_call", sender=PROVINCE, now=NOW,
                              body="\n".join(lines).encode())  # fmt: skip
    assert report.rejected == []


def _truth(db: sqlite3.Connection) -> pl.DataFrame:
    """Every pending row decoded at once, without the kept frames."""
    decoded = decode_chunks(
        "interface_call", pending.chunks_between(db, "interface_call", None, None)
    )
    assert decoded is not None
    return decoded.drop("_rowid").sort("event_id")


def _counted_decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows each decode of new pending rows returned, from now on."""
    decoded: list[int] = []
    real = pending_frames._decode

    def counted(stream: str, chunks: Iterable[list], narrow: bool) -> pl.DataFrame | None:
        found = real(stream, chunks, narrow)
        if found is not None:
            decoded.append(found.height)
        return found

    monkeypatch.setattr(pending_frames, "_decode", counted)
    return decoded


def _read() -> tuple[pl.DataFrame | None, pl.DataFrame]:
    lake = get_settings().lake_dir
    with snapshot(lake) as snap:
        assert snap.db is not None
        found = pending_frames.pending_frame(snap.db, lake, "interface_call")
        return (None if found is None else found.sort("event_id")), _truth(snap.db)


def test_reads_decode_only_new_rows_and_always_equal_a_full_decode(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = _counted_decodes(monkeypatch)
    _push("a1", "a2", "a3", day="2026-11-26")
    _push("b1", "b2")
    found, truth = _read()
    assert found is not None and found.equals(truth)
    _push("c1")
    found, truth = _read()
    assert found is not None and found.equals(truth)
    assert decoded == [5, 1]  # the second read decoded the new row only

    lake = get_settings().lake_dir
    store_for(lake).seal(lake=lake, now=NOW)  # 11-26 sealed: its pending rows deleted
    _push("d1")
    found, truth = _read()
    assert found is not None and found.equals(truth)
    assert sorted(found.get_column("event_id")) == ["b1", "b2", "c1", "d1"]
    assert decoded[-1] == 4  # after a deletion, decoded afresh


def test_a_reader_of_an_older_snapshot_sees_only_its_rows(world: World) -> None:
    _push("a1", "a2")
    lake = get_settings().lake_dir
    with snapshot(lake) as older:
        assert older.db is not None
        _push("b1")
        newer, _ = _read()  # the newer view is decoded and kept first
        found = pending_frames.pending_frame(older.db, lake, "interface_call")
        assert found is not None
        assert sorted(found.get_column("event_id")) == ["a1", "a2"]
    assert newer is not None and sorted(newer.get_column("event_id")) == ["a1", "a2", "b1"]
    again, truth = _read()  # and the kept newer view was not replaced by the older one
    assert again is not None and again.equals(truth)


def test_kept_frames_stay_within_the_configured_budget(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_PENDING_CACHE_MB", "1")
    get_settings.cache_clear()
    monkeypatch.setattr(pending_frames, "_kept", type(pending_frames._kept)())
    decoded = _counted_decodes(monkeypatch)
    _push(*(f"a{n}" for n in range(500)))
    found, truth = _read()
    assert found is not None and found.equals(truth)
    assert 0 < pending_frames.kept_bytes() <= 2**20  # small enough: kept

    _push(*(f"b{n}" for n in range(8000)))  # now larger than the whole budget
    for _ in range(2):
        found, truth = _read()
        assert found is not None and found.equals(truth)
    assert pending_frames.kept_bytes() == 0
    assert decoded == [500, 8000, 8500]  # too big to keep: decoded per read, never stale


def test_the_dashboards_narrow_view_holds_the_same_rows_without_the_lines(world: World) -> None:
    _push("a1", "a2", day="2026-11-26")
    _push("b1")
    lake = get_settings().lake_dir
    with snapshot(lake) as snap:
        assert snap.db is not None
        narrow = pending_frames.pending_frame(snap.db, lake, "interface_call", narrow=True)
        full = pending_frames.pending_frame(snap.db, lake, "interface_call")
    assert narrow is not None and full is not None
    assert "raw" not in narrow.columns and "raw" in full.columns
    columns = pending_frames.ROLLUP_COLUMNS["interface_call"]
    assert narrow.sort("ts", "duration_ms").equals(full.select(columns).sort("ts", "duration_ms"))
