"""Schedule and retention: daily / weekly / monthly sets kept, the only verified one never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.audit.service import record
from console.backup import retention, runs, scheduled, service, sets
from console.backup.models import BackupPolicy
from console.backup.settings_service import (
    TargetDraft,
    request_now,
    save_policy,
    save_target,
)
from console.backup.targets import DirectoryTarget
from console.core.db import session_scope
from console.core.errors import Forbidden
from console.core.settings import get_settings
from console.jobs.registry import JobFailed
from console.logs.chain import SYSTEM
from tests.unit.backup.conftest import PASSPHRASE, Installation


def _id(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%SZ}-0000"


def test_retention_keeps_the_newest_of_each_day_week_and_month() -> None:
    start = datetime(2026, 1, 1, 18, 30, tzinfo=UTC)  # 02:30 the next day in Shanghai
    ids = [_id(start + timedelta(days=d, hours=h)) for d in range(120) for h in (0, 5)]
    kept = retention.choose(ids, daily=7, weekly=4, monthly=3, verified=set())
    days = {retention.set_day(s) for s in kept}
    assert len(kept) == len(days)  # one set per kept day: the newest of it
    assert max(ids) in kept
    last_week = sorted(ids)[-14:]
    assert set(last_week[1::2]) <= kept  # the newest set of each of the last 7 days
    assert len(kept) <= 7 + 4 + 3


def test_pruning_never_removes_the_only_verified_set() -> None:
    start = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
    ids = [_id(start + timedelta(days=d)) for d in range(10)]
    kept = retention.choose(ids, daily=2, weekly=0, monthly=0, verified={ids[3]})
    assert kept == {ids[-1], ids[-2], ids[3]}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pruned_sets_go_with_their_objects_and_kept_sets_stay_whole(
    installation: Installation, tmp_path: Path
) -> None:
    target = DirectoryTarget(tmp_path / "disk")
    made = []
    for number in range(3):
        with session_scope() as session:  # the configuration changes between the runs
            record(session, actor=SYSTEM, obj="system.settings", action=f"change-{number}")
        made.append(service.backup(targets=[target], passphrase=PASSPHRASE))
    key = made[-1].key
    assert key is not None
    before = len(list(target.keys("objects/")))

    pruned = retention.prune(target, key, {made[-1].set_id}, tmp_path)

    assert pruned.sets == [made[0].set_id, made[1].set_id]
    assert sets.set_ids(target) == [made[-1].set_id]
    assert 0 < pruned.objects < before
    for entry in sets.entries(made[-1].manifest):
        assert target.exists(sets.object_key(entry.object)), entry.path


def _configure(installation: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = installation.world.actor("sys_admin")
    with session_scope() as session:
        save_target(
            session=session,
            actor=admin,
            draft=TargetDraft(name="第二块磁盘", kind="directory", location=str(tmp_path / "d")),
        )
        save_policy(session=session, actor=admin, cron="30 2 * * *", daily=7, weekly=4, monthly=12)
    secret = tmp_path / "keys-elsewhere" / "backup.pass"
    secret.parent.mkdir()
    secret.write_text(PASSPHRASE)
    secret.chmod(0o600)
    monkeypatch.setenv("BDC_BACKUP_PASSPHRASE_FILE", str(secret))
    get_settings.cache_clear()


def _saved_two_days_ago() -> None:
    """The schedule was saved two days ago: a 02:30 has passed since."""
    with session_scope() as session:
        policy = session.get(BackupPolicy, 1)
        assert policy is not None
        policy.updated_at = datetime.now(UTC) - timedelta(days=2)
        session.add(policy)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_job_backs_up_once_per_slot_and_again_when_asked(
    installation: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(installation, tmp_path, monkeypatch)
    now = datetime.now(UTC)
    # Just saved: the schedule waits for its time instead of backing up in the working day.
    assert scheduled.backup_when_due(now).startswith("未到备份时间")
    _saved_two_days_ago()

    first = scheduled.backup_when_due(now)
    assert "恢复校验通过" in first
    assert scheduled.backup_when_due(now).startswith("未到备份时间")

    with session_scope() as session:
        request_now(session=session, actor=installation.world.actor("sys_admin"), kind="verify")
    assert "恢复校验通过" in scheduled.backup_when_due(now)
    assert scheduled.backup_when_due(now).startswith("未到备份时间")
    assert len(sets.set_ids(DirectoryTarget(tmp_path / "d"))) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_a_passphrase_the_job_fails_and_says_what_to_configure(
    installation: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(installation, tmp_path, monkeypatch)
    monkeypatch.delenv("BDC_BACKUP_PASSPHRASE_FILE")
    get_settings.cache_clear()
    _saved_two_days_ago()
    with pytest.raises(JobFailed, match="BDC_BACKUP_PASSPHRASE_FILE"):
        scheduled.backup_when_due(datetime.now(UTC))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_passphrase_file_inside_the_data_folder_is_refused(
    installation: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = installation.data_dir / "backup.pass"
    inside.write_text(PASSPHRASE)
    inside.chmod(0o600)
    monkeypatch.setenv("BDC_BACKUP_PASSPHRASE_FILE", str(inside))
    get_settings.cache_clear()
    with pytest.raises(Exception, match="不能放在数据目录内"):
        runs.configured_passphrase()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_only_the_system_administrator_may_start_a_backup(installation: Installation) -> None:
    for role in ("audit_admin", "sec_admin", "province_supervisor", "county_admin"):
        with session_scope() as session, pytest.raises(Forbidden):
            request_now(session=session, actor=installation.world.actor(role), kind="backup")
