"""PostgreSQL's continuous archiving through the console's encrypted targets: a cluster is lost
after its last base backup, and a new one replays the archive to its last segment."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from console.backup import sets, wal
from console.backup.targets import DirectoryTarget
from console.core import db as core_db
from console.core.errors import UserError
from tests.support.postgres import _as_postgres_user, _find_bin_dir, _free_port

PASSPHRASE = "PostgreSQL归档口令-2026"


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", str(path)], check=True)


def _pg(bin_dir: Path, *args: str) -> None:
    subprocess.run(_as_postgres_user([str(bin_dir / args[0]), *args[1:]]), check=True,
                   capture_output=True)  # fmt: skip


@pytest.fixture
def workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bdc-walpg-"))  # /tmp: open to the postgres user
    (folder / "archive").mkdir()
    (folder / "spool").mkdir()
    _own(folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _start(bin_dir: Path, pgdata: Path, port: int, workdir: Path, *settings: str) -> None:
    options = " ".join(f"-c {s}" for s in settings)
    server = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 {options}"
    log = str(workdir / f"pg-{port}.log")
    _pg(bin_dir, "pg_ctl", "-D", str(pgdata), "-l", log, "-w", "-t", "120", "-o", server, "start")


def _url(port: int) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/bdc"


def _dsn(port: int, database: str = "bdc") -> str:
    return f"host=127.0.0.1 port={port} user=postgres dbname={database}"


def test_a_lost_cluster_comes_back_from_the_base_backup_and_the_archive(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = _find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not found")
    target = DirectoryTarget(workdir / "archive")
    key = sets.open_or_create(target, PASSPHRASE, workdir)
    _own(workdir)
    pgdata, port = workdir / "primary", _free_port()
    _pg(bin_dir, "initdb", "-D", str(pgdata), "-A", "trust", "-U", "postgres", "-E", "UTF8",
        "--locale=C.UTF-8")  # fmt: skip
    spool = workdir / "spool"  # what the documented archive_command does, as PostgreSQL's user
    archive = f"test ! -f {spool}/%f && cp %p {spool}/%f.tmp && mv {spool}/%f.tmp {spool}/%f"
    _start(bin_dir, pgdata, port, workdir, "wal_level=replica", "archive_mode=on",
           f"archive_command='{archive}'", "archive_timeout=60")  # fmt: skip
    try:
        with psycopg.connect(_dsn(port, "postgres"), autocommit=True) as db:
            db.execute("CREATE DATABASE bdc")
        core_db.migrate(_url(port))
        core_db.engine_for(_url(port)).dispose()
        monkeypatch.setenv("PGPASSWORD", "")
        wal.base_backup(target, key, _url(port))
        with psycopg.connect(_dsn(port), autocommit=True) as db:
            db.execute(
                "INSERT INTO tenant (code, name, parent_code, level, status, created_at,"
                " updated_at) VALUES ('330199', '归档之后建的县', '330000', 'county', 'active',"
                " now(), now())"
            )
            segment = db.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()[0]
            db.execute("SELECT pg_switch_wal()")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                done = db.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()[0]
                if done and done >= segment:
                    break
                time.sleep(0.5)
            assert done and done >= segment, "the segment was archived"
        shipped = wal.ship_spool([(target, key)], spool)  # the live job's step
        assert shipped >= 2 and not list(spool.iterdir())
    finally:
        _pg(bin_dir, "pg_ctl", "-D", str(pgdata), "-m", "immediate", "stop")
    shutil.rmtree(pgdata)  # the primary's disk is lost

    replica, port = workdir / "restored", _free_port()
    wal.restore_base(target, key, wal.newest_base(target), replica)  # as wal-restore does
    assert wal.fetch_all(target, key, workdir / "replay") >= 2
    (replica / "recovery.signal").write_text("")
    _own(workdir)
    _start(bin_dir, replica, port, workdir, f"restore_command='cp {workdir}/replay/%f %p'")
    try:
        with psycopg.connect(_dsn(port), autocommit=True) as db:
            deadline = time.monotonic() + 60
            while db.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                assert time.monotonic() < deadline, "recovery ended"
                time.sleep(0.5)
            name = db.execute("SELECT name FROM tenant WHERE code = '330199'").fetchone()
        assert name == ("归档之后建的县",)
    finally:
        _pg(bin_dir, "pg_ctl", "-D", str(replica), "-m", "immediate", "stop")


def test_an_archive_object_named_like_a_path_writes_nothing(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path / "archive")
    key = sets.open_or_create(target, PASSPHRASE, tmp_path)
    segment = tmp_path / "000000010000000000000001"
    segment.write_bytes(b"\0" * 1024)
    wal.archive(target, key, segment, segment.name)
    hostile = target.root / "wal" / ".." / ".." / "escaped"
    (target.root / "wal" / "..%2F..%2Fescaped").write_bytes(b"anything")  # a writer without keys
    with pytest.raises(UserError, match="不是 WAL 段"):
        wal.fetch_all(target, key, tmp_path / "replay")
    assert not (tmp_path / "replay" / "000000010000000000000001").exists()
    assert not hostile.exists()
