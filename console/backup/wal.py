"""PostgreSQL's own continuous archiving, shipped to the backup targets encrypted.

On PostgreSQL the configuration database is replicated off-site by PostgreSQL itself:
``archive_command`` copies every completed WAL segment (with ``archive_timeout = 60``, at
least one a minute) into a spool folder (``BDC_WAL_SPOOL_DIR``) — a plain ``cp`` run by the
PostgreSQL user, who needs neither the console nor the passphrase — and the ``backup.live``
job encrypts each spooled segment like every other object under the target's repository key,
stores it as ``wal/<segment>`` on every 实时副本 target and only then removes it from the
spool. A base backup (``pg_basebackup``, tar format) is shipped by ``wal-basebackup``.
Recovery is PostgreSQL's own: ``wal-restore`` unpacks the newest base backup and decrypts the
archived segments into a folder; ``restore_command = 'cp <folder>/%f %p'`` replays them and
PostgreSQL stops at the end of the archive (or at ``recovery_target_time``). Nothing here
replays WAL.
"""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

import sqlalchemy as sa

from console.backup.capture import libpq, pg_tool
from console.backup.envelope import RepoKey
from console.backup.sets import file_sm3
from console.backup.targets import Target, TargetError
from console.core.clock import utcnow
from console.core.errors import UserError

WAL = "wal/"
BASE = "base/"
# Segment, partial segment, backup label and timeline history names as PostgreSQL makes them.
_WAL_NAME = re.compile(r"^[0-9A-F]{24}(\.partial|\.[0-9A-F]{8}\.backup)?$|^[0-9A-F]{8}\.history$")


def _encrypt_to(key: RepoKey, source: Path, name: str, sink: Path) -> None:
    with source.open("rb") as plain, sink.open("wb") as out:
        key.encrypt_stream(plain, out, name)


def _decrypt_to(key: RepoKey, source: Path, name: str, sink: Path) -> None:
    with source.open("rb") as encrypted, sink.open("wb") as out:
        for chunk in key.decrypt_stream(encrypted, name):
            out.write(chunk)


def archive(target: Target, key: RepoKey, segment: Path, name: str) -> str:
    """Store one WAL segment (or history file); a second call with the same bytes is fine.

    Raises:
        UserError: the archive already holds different bytes under this name (PostgreSQL
            must then stop archiving rather than overwrite: the archive would be forked).
    """
    stored = f"{WAL}{name}"
    with tempfile.TemporaryDirectory(prefix="bdc-wal-") as folder:
        scratch = Path(folder)
        if target.exists(stored):
            target.get_file(stored, scratch / "old")
            _decrypt_to(key, scratch / "old", f"wal:{name}", scratch / "old.plain")
            if file_sm3(scratch / "old.plain")[0] == file_sm3(segment)[0]:
                return "已归档（内容相同）"
            raise UserError(f"归档中已有内容不同的 {name}：拒绝覆盖")
        _encrypt_to(key, segment, f"wal:{name}", scratch / "new")
        target.put_file(stored, scratch / "new")
    return f"已归档 {name}"


def ship_spool(targets: list[tuple[Target, RepoKey]], spool: Path) -> int:
    """Archive every complete segment of the spool to each target, then drop it from the spool.

    PostgreSQL writes ``<name>.tmp`` and renames it; only renamed (complete) files are taken.
    """
    shipped = 0
    for segment in sorted(spool.iterdir()) if spool.is_dir() else []:
        if not segment.is_file() or segment.name.endswith(".tmp"):
            continue
        for target, key in targets:
            archive(target, key, segment, segment.name)
        segment.unlink()
        shipped += 1
    return shipped


def fetch_all(target: Target, key: RepoKey, into: Path) -> int:
    """Decrypt every archived segment into ``into`` (for ``restore_command = 'cp …'``)."""
    into.mkdir(mode=0o700, parents=True, exist_ok=True)
    names = [stored.removeprefix(WAL) for stored in target.keys(WAL)]
    strange = [name for name in names if not _WAL_NAME.fullmatch(name)]
    if strange:
        raise UserError(f"归档中有不是 WAL 段的对象：{strange[:3]}（未写入任何文件）")
    with tempfile.TemporaryDirectory(prefix="bdc-wal-") as folder:
        local, plain = Path(folder) / "segment", Path(folder) / "plain"
        for name in names:
            target.get_file(f"{WAL}{name}", local)
            _decrypt_to(key, local, f"wal:{name}", plain)  # authenticated before it is placed
            plain.replace(into / name)
    return len(names)


def base_backup(target: Target, key: RepoKey, database_url: str) -> str:
    """``pg_basebackup`` (tar, WAL fetched alongside) shipped encrypted as ``base/<label>/``."""
    uri, environment = libpq(database_url)
    parsed = sa.engine.make_url(uri)
    label = utcnow().strftime("%Y%m%dT%H%M%SZ")
    with tempfile.TemporaryDirectory(prefix="bdc-base-") as folder:
        scratch = Path(folder)
        command = [pg_tool("pg_basebackup"), "--format=tar", "--wal-method=fetch",
                   "--checkpoint=fast", f"--label=bdc-{label}", "-D", str(scratch / "out"),
                   "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
                   "-U", parsed.username or "postgres"]  # fmt: skip
        result = subprocess.run(command, env={**os.environ, **environment},
                                capture_output=True, text=True, check=False)  # fmt: skip
        if result.returncode != 0:
            raise UserError(f"pg_basebackup 失败：{result.stderr.strip()[-400:]}")
        for tar in sorted((scratch / "out").iterdir()):
            _encrypt_to(key, tar, f"base:{label}/{tar.name}", scratch / "enc")
            target.put_file(f"{BASE}{label}/{tar.name}", scratch / "enc")
        (scratch / "done").write_text(label)
        target.put_file(f"{BASE}{label}/DONE", scratch / "done")  # published last
    return label


def newest_base(target: Target) -> str:
    """The newest complete base backup's label."""
    done = sorted(key.split("/")[1] for key in target.keys(BASE) if key.endswith("/DONE"))
    if not done:
        raise TargetError(f"{target.label} 中没有 PostgreSQL 基础备份")
    return done[-1]


def restore_base(target: Target, key: RepoKey, label: str, pgdata: Path) -> None:
    """Unpack a base backup into an empty ``pgdata`` (mode 0700), ready for WAL replay."""
    if pgdata.exists() and any(pgdata.iterdir()):
        raise UserError(f"{pgdata} 不是空目录")
    pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
    tars = [k for k in target.keys(f"{BASE}{label}/") if k.endswith(".tar")]
    with tempfile.TemporaryDirectory(prefix="bdc-base-") as folder:
        scratch = Path(folder)
        for stored in tars:
            name = stored.rsplit("/", 1)[-1]
            target.get_file(stored, scratch / "enc")
            _decrypt_to(key, scratch / "enc", f"base:{label}/{name}", scratch / name)
            into = pgdata if name == "base.tar" else pgdata / "pg_wal"
            into.mkdir(mode=0o700, exist_ok=True)
            with tarfile.open(scratch / name) as archive_file:
                archive_file.extractall(into, filter="data")  # no links or paths outside
