"""Back up, destroy, restore: every table, every lake file and the keys come back exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from console.backup import service, sets
from console.backup.envelope import Corrupted, WrongPassphrase
from console.backup.targets import DirectoryTarget
from console.core.crypto import KeyRing
from console.core.errors import UserError
from console.core.settings import get_settings
from tests.unit.backup.conftest import (
    PASSPHRASE,
    Installation,
    lake_fingerprints,
    let_go,
    pending_rows,
    table_fingerprints,
)


def _names(url: str, key_dir: Path) -> list[str]:
    ring = KeyRing(
        sm4_key=bytes.fromhex((key_dir / "sm4.key").read_text()),
        hmac_key=bytes.fromhex((key_dir / "hmac.key").read_text()),
    )
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        values = connection.execute(sa.text("SELECT real_name_enc FROM iam_user ORDER BY id"))
        names = [ring.decrypt(value) for (value,) in values]
    engine.dispose()
    return names


def _destroy(installation: Installation) -> None:
    """The disk is lost: the data folder and the configuration database are gone."""
    let_go(installation)
    shutil.rmtree(installation.data_dir)
    url = sa.engine.make_url(installation.url)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").unlink()
        return
    admin = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as db:
        db.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{url.database}"')


def test_a_restored_installation_equals_the_one_backed_up(
    installation: Installation, tmp_path: Path
) -> None:
    settings = get_settings()
    tables = table_fingerprints(installation.url)
    lake = lake_fingerprints(settings.lake_dir)
    waiting = pending_rows(settings.lake_dir)
    names = _names(installation.url, settings.key_dir)
    target = DirectoryTarget(tmp_path / "second-disk")

    made = service.backup(targets=[target], passphrase=PASSPHRASE)
    _destroy(installation)
    body = service.restore(
        target=target,
        set_id=made.set_id,
        passphrase=PASSPHRASE,
        plan=service.RestorePlan(settings.resolved_data_dir, installation.url),
    )

    assert table_fingerprints(installation.url) == tables
    assert lake_fingerprints(settings.lake_dir) == lake and len(lake) > 10
    assert pending_rows(settings.lake_dir) == waiting
    assert _names(installation.url, settings.key_dir) == names and len(names) >= 4
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(body), encoding="utf-8")
    report = service.run_checks(
        manifest=manifest, data_dir=settings.resolved_data_dir, database_url=installation.url
    )
    assert report["passed"], report["checks"]
    assert {c["name"] for c in report["checks"]} >= {"各表行数", "日志校验链", "个人信息解密"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_next_days_backup_copies_only_what_changed(
    installation: Installation, tmp_path: Path
) -> None:
    target = DirectoryTarget(tmp_path / "second-disk")
    first = service.backup(targets=[target], passphrase=PASSPHRASE)
    second = service.backup(targets=[target], passphrase=PASSPHRASE)
    assert first.new_objects > 20
    # The databases change with every run (ingest.db, the configuration); sealed files never.
    assert second.new_objects <= 4
    assert sets.set_ids(target) == sorted([first.set_id, second.set_id])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_changed_byte_in_a_lake_file_is_refused_by_name(
    installation: Installation, tmp_path: Path
) -> None:
    settings = get_settings()
    target = DirectoryTarget(tmp_path / "second-disk")
    made = service.backup(targets=[target], passphrase=PASSPHRASE)
    entry = next(
        e for e in sets.entries(made.manifest) if e.path.endswith(".parquet") and e.kind == "lake"
    )
    stored = target.root / sets.object_key(entry.object)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    _destroy(installation)

    with pytest.raises(Corrupted, match=entry.path):
        service.restore(
            target=target,
            set_id="latest",
            passphrase=PASSPHRASE,
            plan=service.RestorePlan(settings.resolved_data_dir, installation.url),
        )
    assert not settings.resolved_data_dir.exists()  # nothing half-restored left behind
    assert not list(settings.resolved_data_dir.parent.glob(".*restoring*"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_wrong_passphrase_or_a_changed_manifest_opens_nothing(
    installation: Installation, tmp_path: Path
) -> None:
    target = DirectoryTarget(tmp_path / "second-disk")
    made = service.backup(targets=[target], passphrase=PASSPHRASE)
    plan = service.RestorePlan(tmp_path / "elsewhere", f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(WrongPassphrase, match="口令错误"):
        service.restore(target=target, set_id="latest", passphrase="not-the-right-one", plan=plan)
    manifest = target.root / sets.manifest_key(made.set_id)
    document = json.loads(manifest.read_text(encoding="utf-8"))
    document["body"]["counts"]["pending_events"] += 1
    manifest.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(Corrupted, match="清单校验失败"):
        service.restore(target=target, set_id="latest", passphrase=PASSPHRASE, plan=plan)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_set_from_a_newer_schema_is_refused(
    installation: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service.capture

    def from_the_future(*args: object, **kwargs: object) -> object:
        picture = real(*args, **kwargs)
        picture.schema_head = "0999"
        return picture

    monkeypatch.setattr(service, "capture", from_the_future)
    target = DirectoryTarget(tmp_path / "second-disk")
    service.backup(targets=[target], passphrase=PASSPHRASE)
    plan = service.RestorePlan(tmp_path / "elsewhere", f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(UserError, match="0999 比本程序新"):
        service.restore(target=target, set_id="latest", passphrase=PASSPHRASE, plan=plan)


def test_a_live_installation_is_overwritten_only_when_forced(
    installation: Installation, tmp_path: Path
) -> None:
    settings = get_settings()
    target = DirectoryTarget(tmp_path / "second-disk")
    service.backup(targets=[target], passphrase=PASSPHRASE)
    plan = service.RestorePlan(settings.resolved_data_dir, installation.url)
    with pytest.raises(UserError, match="--force"):
        service.restore(target=target, set_id="latest", passphrase=PASSPHRASE, plan=plan)
    if installation.url.startswith("postgresql"):
        return  # pg_restore --clean over a live database: covered by the CLI test
    let_go(installation)
    (settings.resolved_data_dir / "marker").write_text("the replaced installation")
    plan.force = True
    service.restore(target=target, set_id="latest", passphrase=PASSPHRASE, plan=plan)
    kept = list(settings.resolved_data_dir.parent.glob("data.replaced-*"))
    assert len(kept) == 1 and (kept[0] / "marker").exists()
    assert not (settings.resolved_data_dir / "marker").exists()
