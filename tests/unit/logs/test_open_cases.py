"""Open cases are kept beside the rollups and always equal a scan of every day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from console.logs import catalogue, open_cases, pending
from console.logs.catalogue import ROLLUP, ROLLUP_FOLDER, snapshot
from console.logs.open_cases import CACHE_NAME, open_from, sealed_open_cases
from console.logs.rollup import new_rollup_file
from console.logs.seal import Pieces

START = datetime(2026, 11, 1, 2, tzinfo=UTC)


def _day(lake: Path, day: int, rows: list[tuple[str, str]]) -> None:
    """A case_steps rollup file for 2026-11-<day> with (case, step) rows."""
    moment = START + timedelta(days=day - 1)
    frame = pl.DataFrame(
        {
            "tenant": ["330106"] * len(rows),
            "case_no": [case for case, _ in rows],
            "business_code": ["9000101"] * len(rows),
            "step": [step for _, step in rows],
            "ts": [moment + timedelta(minutes=n) for n in range(len(rows))],
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )
    day_text = f"2026-11-{day:02d}"
    path = new_rollup_file(lake, "case_steps", day_text)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    _in_catalogue(lake, lambda db: catalogue.replace(
        db, ROLLUP, "case_steps", day_text, str(path.relative_to(lake))))  # fmt: skip


def _in_catalogue(lake: Path, change) -> None:
    catalogue.prepare(lake)
    with pending.sealing(pending.ingest_path(lake)) as db, pending.write(db):
        change(db)


def _scan_everything(lake: Path) -> set[str]:
    with snapshot(lake) as snap:
        steps = pl.scan_parquet([path for _, path in snap.rollups("case_steps")])
    return set(open_from(steps).collect().get_column("case_no"))


def _open(lake: Path) -> set[str]:
    with snapshot(lake) as snap:
        return set(sealed_open_cases(snap).get_column("case_no"))


def test_open_cases_are_kept_brought_forward_and_recomputed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tmp_path / "lake"
    assert _open(lake) == set()
    _day(lake, 1, [("A", "accept"), ("B", "accept"), ("C", "accept")])
    _day(lake, 2, [("B", "close"), ("D", "accept")])
    assert _open(lake) == _scan_everything(lake) == {"A", "C", "D"}

    cache = lake / ROLLUP_FOLDER / CACHE_NAME
    stamp = cache.stat().st_mtime_ns
    assert _open(lake) == {"A", "C", "D"} and cache.stat().st_mtime_ns == stamp  # kept

    # A later day: brought forward from that day's file alone.
    read: list[object] = []
    real_scan = open_cases.pl.scan_parquet
    monkeypatch.setattr(
        open_cases.pl, "scan_parquet", lambda f, **k: read.append(f) or real_scan(f, **k)
    )
    _day(lake, 3, [("A", "reject"), ("E", "accept"), ("C", "withdraw")])
    assert _open(lake) == _scan_everything(lake) == {"D", "E"}
    assert [Path(p).name[:16] for p in read[0]] == ["date=2026-11-03."]

    # A late part rebuilds an earlier day (a new file): everything is read again.
    read.clear()
    _day(lake, 1, [("A", "accept"), ("B", "accept"), ("C", "accept"), ("F", "accept")])
    assert _open(lake) == _scan_everything(lake) == {"D", "E", "F"}
    assert len(read[0]) == 3

    # A purged day: recomputed without it.
    _in_catalogue(lake, lambda db: catalogue.retire(db, ROLLUP, "case_steps", "2026-11-01"))
    assert _open(lake) == _scan_everything(lake) == {"D", "E"}


def test_unsealed_events_end_or_open_cases_on_top_of_the_kept_ones(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _day(lake, 1, [("A", "accept"), ("B", "accept")])
    when = START + timedelta(days=5)
    rows = [
        ("case_event", "test", case, int(when.timestamp() * 1e6), "2026-11-06", "330106", 0,
         json.dumps({"case_no": case, "business_code": "9000101", "step": step}))
        for case, step in (("A", "close"), ("G", "accept"))
    ]  # fmt: skip
    db = pending.open_writer(pending.ingest_path(lake))
    pending.insert(db, rows)
    db.close()
    with snapshot(lake) as snap:
        found = open_cases.open_cases(snap).collect()
    assert set(found.get_column("case_no")) == {"B", "G"}
    assert found.filter(pl.col("case_no") == "B").get_column(
        "accepted_at"
    ).item() == START + timedelta(minutes=1)


def test_a_cache_stamped_by_an_older_version_is_recomputed_not_fatal(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _day(lake, 1, [("A", "accept"), ("B", "accept")])
    with snapshot(lake) as snap:
        name = snap.rollups("case_steps")[0][1].name
    old_stamp = {name: [1, 2]}  # name → [mtime, size], as before the catalogue
    pl.DataFrame(schema=open_cases._SCHEMA).write_parquet(
        lake / ROLLUP_FOLDER / CACHE_NAME, metadata={"bdc_covers": json.dumps(old_stamp)}
    )
    assert _open(lake) == {"A", "B"}
    _day(lake, 2, [("A", "close")])
    assert _open(lake) == _scan_everything(lake) == {"B"}


def test_a_recompute_holds_one_share_of_the_cases_at_a_time(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    for day in range(1, 11):  # cases accepted each day, most closed a few days later
        accepted = [(f"C{day}-{n}", "accept") for n in range(300)]
        closed = [(f"C{day - 3}-{n}", "close") for n in range(250)] if day > 3 else []
        _day(lake, day, accepted + closed)
    pieces = Pieces(limit=1000)

    with snapshot(lake) as snap:
        found = set(sealed_open_cases(snap, pieces).get_column("case_no"))

    assert found == _scan_everything(lake)
    assert len(found) == 10 * 300 - 7 * 250
    assert pieces.count >= 4  # 4,750 accept and close steps in shares of at most 1,000
    assert pieces.largest <= 1000
