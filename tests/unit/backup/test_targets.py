"""Targets: S3-compatible storage beside a directory, refusals named, nothing half-published."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlmodel import select

from console.backup import runs, service, sets
from console.backup.models import BackupRun
from console.backup.targets import DirectoryTarget, TargetError, open_target
from console.core.db import session_scope
from console.core.outbound import configured_policy
from console.core.settings import get_settings
from tests.support.s3 import ACCESS_KEY, SECRET_KEY, S3Server
from tests.unit.backup.conftest import PASSPHRASE, Installation


@pytest.fixture
def bucket(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    name = f"bdc-{abs(hash(request.node.nodeid)) % 10**10}"
    s3_server.client().create_bucket(Bucket=name)
    return f"s3://{name}/province?endpoint={s3_server.endpoint}"


def test_a_set_restored_from_object_storage_alone_passes_every_check(
    installation: Installation, bucket: str, tmp_path: Path
) -> None:
    s3 = open_target(bucket, policy=configured_policy())
    disk = DirectoryTarget(tmp_path / "second-disk")
    made = service.backup(targets=[disk, s3], passphrase=PASSPHRASE)
    assert sets.set_ids(s3) == [made.set_id] == sets.set_ids(disk)

    restored = tmp_path / "new-server"
    database = _fresh_database(installation.url, restored)
    body = service.restore(
        target=s3,
        set_id=made.set_id,
        passphrase=PASSPHRASE,
        plan=service.RestorePlan(restored / "data", database),
    )
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(body), encoding="utf-8")
    report = service.run_checks(
        manifest=manifest, data_dir=restored / "data", database_url=database
    )
    assert report["passed"], report["checks"]


def _fresh_database(url: str, folder: Path) -> str:
    """An empty database of the installation's backend on the "new server"."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{folder / 'console.db'}"
    name = f"{parsed.database}_s3"
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


def test_an_endpoint_off_the_allow_list_is_never_contacted(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BDC_OUTBOUND_ALLOW")
    get_settings.cache_clear()
    with pytest.raises(TargetError, match="白名单"):
        open_target(f"s3://bdc-any/x?endpoint={s3_server.endpoint}", policy=configured_policy())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unreachable_target_fails_the_run_with_its_name(
    installation: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    target = open_target(
        f"s3://bdc-gone/p?endpoint=http://127.0.0.1:{_closed_port()}", policy=configured_policy()
    )
    with pytest.raises(TargetError, match="s3://bdc-gone/p 无法连接"):
        runs.back_up(targets=[target], passphrase=PASSPHRASE)
    with session_scope() as session:
        run = session.exec(select(BackupRun)).one()
    assert run.outcome == "failed" and "无法连接" in run.message


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_directory_that_cannot_be_written_is_named(
    installation: Installation, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the share should be mounted")
    with pytest.raises(TargetError, match=str(blocker)):
        service.backup(targets=[DirectoryTarget(blocker / "sets")], passphrase=PASSPHRASE)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_run_that_stops_halfway_publishes_no_set(
    installation: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploaded = []
    real = sets.upload

    def failing_after_five(*args: object, **kwargs: object) -> str:
        if len(uploaded) == 5:
            raise TargetError("备份目标 模拟 空间已满")
        uploaded.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sets, "upload", failing_after_five)
    target = DirectoryTarget(tmp_path / "second-disk")
    with pytest.raises(TargetError, match="空间已满"):
        runs.back_up(targets=[target], passphrase=PASSPHRASE)
    assert sets.set_ids(target) == []  # the objects written are not a set
    assert not list(target.keys("sets/"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_full_disk_is_named_and_the_run_recorded_as_failed(
    installation: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import shutil as shutil_module

    def no_space(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil_module, "copyfileobj", no_space)
    target = DirectoryTarget(tmp_path / "small-disk")
    with pytest.raises(TargetError, match="small-disk 空间已满"):
        runs.back_up(targets=[target], passphrase=PASSPHRASE)
    with session_scope() as session:
        run = session.exec(select(BackupRun)).one()
    assert run.outcome == "failed" and "空间已满" in run.message
    assert sets.set_ids(target) == []
