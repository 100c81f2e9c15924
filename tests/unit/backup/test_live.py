"""异地实时副本: changes shipped as they happen, restored from the copy alone, settled openly."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from console.audit.service import record
from console.backup import live, runs, sets
from console.backup.targets import DirectoryTarget
from console.core.db import session_scope
from console.core.errors import UserError
from console.core.settings import get_settings
from console.logs.chain import SYSTEM, read_chain, restore_points
from tests.unit.backup.conftest import (
    PASSPHRASE,
    Installation,
    lake_fingerprints,
    let_go,
    pending_rows,
)

# On PostgreSQL the configuration database ships by WAL archiving (test_wal.py).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def sqlite_installation(installation: Installation) -> Installation:
    return installation


def _ship(target: DirectoryTarget, scratch: Path) -> live.Shipped:
    settings = get_settings()
    live.sync_databases(settings)
    key = sets.open_or_create(target, PASSPHRASE, scratch)
    return live.ship(target=target, key=key, settings=settings, scratch=scratch)


def _until(done: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "Litestream did not catch up"
        time.sleep(0.5)


def test_only_what_changed_is_shipped_and_the_copy_restores_alone(
    sqlite_installation: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    target = DirectoryTarget(tmp_path / "other-city")
    assert _ship(target, tmp_path).uploaded > 20
    _until(lambda: _ship(target, tmp_path).uploaded == 0)  # Litestream's first passes settle
    key = sets.open_existing(target, PASSPHRASE, tmp_path)
    before = live.read_index(target, key, tmp_path)["files"]
    with session_scope() as session:  # a little more work arrives
        for number in range(5):
            record(session, actor=SYSTEM, obj="system.settings", action=f"later-{number}")

    def changed_paths() -> set[str]:
        after = live.read_index(target, key, tmp_path)["files"]
        return {
            path
            for path, item in after.items()
            if (before.get(path) or {}).get("object") != item["object"]
        }

    def both_databases_shipped() -> bool:
        _ship(target, tmp_path)
        return {path.split("/")[1] for path in changed_paths()} >= {"console.db", "ingest.db"}

    # The operations land in console.db, their lake copies in ingest.db; then the copy settles.
    _until(both_databases_shipped)
    time.sleep(1.5)  # Litestream's next pass (every second) holds any later commit
    _until(lambda: _ship(target, tmp_path).uploaded == 0)
    sent = changed_paths()
    assert sent and all(path.startswith("db/") for path in sent)  # only the new LTX files
    after = live.read_index(target, key, tmp_path)["files"]
    assert {path for path in before if path.startswith("lake/")} <= set(after)
    lake = lake_fingerprints(settings.lake_dir)
    waiting = pending_rows(settings.lake_dir)

    let_go(sqlite_installation)
    shutil.rmtree(settings.resolved_data_dir)
    Path(sqlite_installation.url.removeprefix("sqlite:///")).unlink()
    outcome = runs.restore_live_copy(target=target, passphrase=PASSPHRASE, force=False)

    assert outcome.passed, outcome.checks
    now_waiting = pending_rows(settings.lake_dir)
    assert set(waiting) <= set(now_waiting)  # every event the copy held, plus the restore's own
    extra = [row[-1] for row in now_waiting if row not in waiting]
    assert extra and all('"action": "restore' in line for line in extra)
    restored = lake_fingerprints(settings.lake_dir)
    assert {k: v for k, v in restored.items() if not k.endswith("_chain.jsonl")} == {
        k: v for k, v in lake.items() if not k.endswith("_chain.jsonl")
    }
    points = restore_points(settings.lake_dir)
    assert points and all(p.lost_parts == 0 for p in points)
    chain_check = next(c for c in outcome.checks if c["name"] == "日志校验链")
    assert "实时副本的恢复" in chain_check["detail"]


def test_a_part_sealed_after_the_copy_is_recorded_as_lost_not_as_tampering(
    sqlite_installation: Installation, tmp_path: Path
) -> None:
    settings = get_settings()
    target = DirectoryTarget(tmp_path / "other-city")
    _ship(target, tmp_path)
    # The primary dies right after the chain reached the copy but before the part did.
    stream = "case_event"
    chain = read_chain(settings.lake_dir, stream)
    newest = chain[-1]
    key = sets.open_existing(target, PASSPHRASE, tmp_path)
    index = live.read_index(target, key, tmp_path)
    part = f"lake/{stream}/{newest.file}"
    target.delete(sets.object_key(index["files"].pop(part)["object"], live.OBJECTS))
    live._write_index(target, key, index, tmp_path)

    let_go(sqlite_installation)
    shutil.rmtree(settings.resolved_data_dir)
    Path(sqlite_installation.url.removeprefix("sqlite:///")).unlink()
    outcome = runs.restore_live_copy(target=target, passphrase=PASSPHRASE, force=False)

    assert outcome.passed, outcome.checks
    lost = [p for p in restore_points(settings.lake_dir) if p.stream == stream]
    assert lost and lost[-1].lost_parts == 1 and lost[-1].lost_rows == newest.rows


def test_no_copy_is_published_before_every_database_has_its_replica(
    sqlite_installation: Installation, tmp_path: Path
) -> None:
    settings = get_settings()
    target = DirectoryTarget(tmp_path / "other-city")
    key = sets.open_or_create(target, PASSPHRASE, tmp_path)
    # Litestream has not written console.db's first snapshot yet (here: never started).
    with pytest.raises(UserError, match=r"console\.db"):
        live.ship(target=target, key=key, settings=settings, scratch=tmp_path)
    assert not target.exists(live.INDEX_KEY)  # nothing a restore could take for a whole copy
