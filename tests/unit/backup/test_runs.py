"""Every run is restored into scratch, checked, recorded and in the operation log."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlmodel import select

from console.audit.models import OperationLog
from console.backup import runs
from console.backup.capture import STAGING
from console.backup.models import BackupRun
from console.backup.targets import DirectoryTarget
from console.core.db import session_scope
from console.core.settings import get_settings
from tests.unit.backup.conftest import PASSPHRASE, Installation


def _runs() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(r.kind, r.outcome) for r in session.exec(select(BackupRun).order_by(BackupRun.id))]


def _databases(url: str) -> set[str]:
    parsed = sa.engine.make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False)) as db:
        return {row[0] for row in db.execute("SELECT datname FROM pg_database")}


def test_a_backup_is_verified_by_restoring_it_and_both_runs_are_recorded(
    installation: Installation, tmp_path: Path
) -> None:
    outcome = runs.back_up(targets=[DirectoryTarget(tmp_path / "disk")], passphrase=PASSPHRASE)

    assert outcome.passed, outcome.checks
    assert _runs() == [("backup", "succeeded"), ("verify", "succeeded")]
    with session_scope() as session:
        verify = session.exec(select(BackupRun).where(BackupRun.kind == "verify")).one()
        logged = session.exec(select(OperationLog).where(OperationLog.object == "system.backup"))
        actions = sorted((o.action, o.outcome) for o in logged)
    checks = json.loads(verify.checks)
    assert {c["name"] for c in checks} >= {"各表行数", "日志校验链", "个人信息解密", "数据库版本"}
    assert verify.set_id == outcome.set_id and verify.files > 20
    assert actions == [("backup", "success"), ("verify", "success")]
    staging = get_settings().resolved_data_dir / STAGING
    assert {p.name for p in staging.iterdir()} == {"backup.lock"}, "scratch copies removed"
    if installation.url.startswith("postgresql"):
        assert not {d for d in _databases(installation.url) if "restorecheck" in d}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_lake_file_changed_before_the_backup_fails_the_verification(
    installation: Installation, tmp_path: Path
) -> None:
    lake = get_settings().lake_dir
    part = sorted(lake.glob("case_event/date=*/part-*.parquet"))[0]
    part.write_bytes(part.read_bytes() + b"appended by an intruder")

    outcome = runs.back_up(targets=[DirectoryTarget(tmp_path / "disk")], passphrase=PASSPHRASE)

    assert not outcome.passed
    failed = [c for c in outcome.checks if not c["passed"]]
    assert [c["name"] for c in failed] == ["日志校验链"]
    assert part.parent.name in failed[0]["detail"]
    assert _runs() == [("backup", "succeeded"), ("verify", "failed")]
