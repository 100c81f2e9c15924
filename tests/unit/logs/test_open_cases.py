"""Open cases are kept beside the rollups and always equal a scan of every day."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from console.logs import open_cases
from console.logs.open_cases import CACHE_NAME, open_from, sealed_open_cases
from console.logs.rollup import ROLLUP_FOLDER, rollup_file

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
    path = rollup_file(lake, "case_steps", f"2026-11-{day:02d}")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)


def _scan_everything(lake: Path) -> set[str]:
    steps = pl.scan_parquet(lake / ROLLUP_FOLDER / "case_steps" / "*.parquet")
    return set(open_from(steps).collect().get_column("case_no"))


def _open(lake: Path) -> set[str]:
    return set(sealed_open_cases(lake).get_column("case_no"))


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
    assert [Path(p).name for p in read[0]] == ["date=2026-11-03.parquet"]

    # A late part rewrites an earlier day: everything is read again.
    read.clear()
    _day(lake, 1, [("A", "accept"), ("B", "accept"), ("C", "accept"), ("F", "accept")])
    os.utime(rollup_file(lake, "case_steps", "2026-11-01"), ns=(1, 1))
    assert _open(lake) == _scan_everything(lake) == {"D", "E", "F"}
    assert len(read[0]) == 3

    # A purged day: recomputed without it.
    rollup_file(lake, "case_steps", "2026-11-01").unlink()
    assert _open(lake) == _scan_everything(lake) == {"D", "E"}


def test_unsealed_events_end_or_open_cases_on_top_of_the_kept_ones(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _day(lake, 1, [("A", "accept"), ("B", "accept")])
    pending = pl.LazyFrame(
        {
            "tenant": ["330106", "330106"],
            "case_no": ["A", "G"],
            "business_code": ["9000101", "9000101"],
            "step": ["close", "accept"],
            "ts": [START + timedelta(days=5)] * 2,
            "raw": ["{}", "{}"],
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )
    found = open_cases.open_cases(lake, pending).collect()
    assert set(found.get_column("case_no")) == {"B", "G"}
    assert found.filter(pl.col("case_no") == "B").get_column(
        "accepted_at"
    ).item() == START + timedelta(minutes=1)
