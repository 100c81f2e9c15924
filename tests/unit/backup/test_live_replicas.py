"""The live copy holds Litestream's replica as a whole even while Litestream compacts it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from console.backup import live
from console.core.errors import UserError


def _ltx(folder: Path, level: int, low: int, high: int) -> Path:
    path = folder / "ingest.db" / "ltx" / str(level) / f"{low:016x}-{high:016x}.ltx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(f"{level}:{low}-{high}".encode())
    return path


def test_a_compaction_during_the_listing_leaves_no_hole_in_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replicas = tmp_path / "replicas"
    _ltx(replicas, 1, 1, 8)
    level0 = [_ltx(replicas, 0, n, n) for n in range(9, 13)]
    real_link = os.link

    def compacting_link(source: Path, place: Path) -> None:
        # Litestream compacts 9–11 into level 1 and deletes them right after the listing.
        if Path(source).name.startswith(f"{9:016x}") and level0[0].exists():
            _ltx(replicas, 1, 9, 11)
            for path in level0[:3]:
                path.unlink()
        real_link(source, place)

    monkeypatch.setattr(live.os, "link", compacting_link)
    held = live.hold_replicas(replicas, tmp_path / "held")

    assert f"ingest.db/ltx/1/{9:016x}-{11:016x}.ltx" in held
    assert live.replica_gaps(held) == []
    assert all(path.read_bytes() for path in held.values())  # the held bytes, not the names


def test_a_replica_that_stays_incomplete_is_not_shipped(tmp_path: Path) -> None:
    replicas = tmp_path / "replicas"
    _ltx(replicas, 1, 1, 8)
    _ltx(replicas, 0, 12, 12)  # 9–11 are nowhere

    with pytest.raises(UserError, match="未取得连续的副本文件"):
        live.hold_replicas(replicas, tmp_path / "held")


def test_overlapping_levels_count_as_covered() -> None:
    spans = [("a", 9, 1, 20), ("a", 1, 15, 30), ("a", 0, 31, 31), ("b", 0, 2, 2)]
    names = [f"{db}.db/ltx/{level}/{low:016x}-{high:016x}.ltx" for db, level, low, high in spans]

    assert live.replica_gaps(names) == ["b.db"]  # b's first transaction is missing
