"""Back up, restore and verify: the functions behind the CLI, the scheduled job and the page."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from loguru import logger

from console import __version__
from console.backup import sets
from console.backup.capture import (
    CONFIG_DUMP,
    CONFIG_SQLITE,
    STAGING,
    Picture,
    capture,
    libpq,
    pg_tool,
    tool_environment,
)
from console.backup.envelope import RepoKey
from console.backup.targets import Target, TargetError
from console.core.clock import utcnow
from console.core.errors import UserError
from console.core.settings import Settings, get_settings

Progress = Callable[[str], None]
_SILENT: Progress = lambda _message: None  # noqa: E731


@dataclass
class BackupResult:
    """What one backup run wrote."""

    set_id: str
    targets: list[str]
    files: int
    bytes: int
    new_objects: int = 0
    new_bytes: int = 0
    seconds: float = 0.0
    manifest: dict = field(default_factory=dict)
    key: RepoKey | None = None


def new_set_id(now: datetime | None = None) -> str:
    """Sortable to the millisecond, readable and unique: ``20261203T171259.042Z-1a2b``."""
    moment = now or utcnow()
    return f"{moment:%Y%m%dT%H%M%S}.{moment.microsecond // 1000:03d}Z-{os.urandom(2).hex()}"


def _staging_root(settings: Settings) -> Path:
    root = settings.resolved_data_dir / STAGING
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def backup(
    *,
    targets: list[Target],
    passphrase: str,
    settings: Settings | None = None,
    set_id: str = "",
    progress: Progress = _SILENT,
) -> BackupResult:
    """Write one consistent, encrypted set to every target (the last target's key returned)."""
    if not targets:
        raise UserError("未指定备份目标")
    settings = settings or get_settings()
    started = time.monotonic()
    set_id = set_id or new_set_id()
    with sets.scratch_dir(_staging_root(settings)) as folder:
        staging = Path(folder)
        progress("正在生成一致性快照（配置库、待封存记录、校验链）…")
        picture = capture(settings, staging / "capture")
        result = BackupResult(set_id, [t.label for t in targets], len(picture.items), 0)
        for target in targets:
            progress(f"正在写入备份目标 {target.label} …")
            _write_to(target, picture, passphrase, staging, result, started, progress)
    result.seconds = round(time.monotonic() - started, 3)
    logger.info(
        f"备份集 {set_id} 已写入 {len(targets)} 个目标：{result.files} 个文件，"
        f"新增 {result.new_objects} 个对象 {result.new_bytes} 字节，用时 {result.seconds} 秒"
    )
    return result


def _write_to(
    target: Target,
    picture: Picture,
    passphrase: str,
    staging: Path,
    result: BackupResult,
    started: float,
    progress: Progress,
) -> None:
    key = sets.open_or_create(target, passphrase, staging)
    known = _previous_lake_files(target, key, staging)
    files: list[sets.FileEntry] = []
    total = 0
    for number, item in enumerate(picture.items, 1):
        reused = known.get(item.path) if item.kind == "lake" else None
        try:
            if reused is not None and item.source.stat().st_size == reused.size:
                files.append(reused)  # a sealed file never changes: already in the target
                total += reused.size
                continue
            sm3, size = sets.file_sm3(item.source)
        except FileNotFoundError:
            raise UserError(f"备份期间文件 {item.path} 被删除，请重新备份") from None
        existed = target.exists(sets.object_key(key.object_name(sm3)))
        name = sets.upload(target, key, item.source, sm3, staging)
        if not existed:
            result.new_objects += 1
            result.new_bytes += size
        files.append(sets.FileEntry(item.path, item.kind, size, sm3, name))
        total += size
        if number % 200 == 0:
            progress(f"{target.label}：已处理 {number}/{len(picture.items)} 个文件")
    result.bytes = total
    body = _manifest(result.set_id, picture, files, started)
    sets.publish_manifest(target, key, result.set_id, body, staging)
    result.manifest, result.key = body, key


def _previous_lake_files(target: Target, key: RepoKey, staging: Path) -> dict[str, sets.FileEntry]:
    """Sealed files the newest readable set of this target already holds."""
    for set_id in reversed(sets.set_ids(target)):
        try:
            body = sets.read_manifest(target, key, set_id, staging)
        except UserError:
            continue  # a damaged older manifest only costs re-reading the files
        return {e.path: e for e in sets.entries(body) if e.kind == "lake"}
    return {}


def _manifest(set_id: str, picture: Picture, files: list[sets.FileEntry], started: float) -> dict:
    return {
        "format": sets.FORMAT,
        "set_id": set_id,
        "created_at": utcnow().isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 3),
        "app_version": __version__,
        "schema_head": picture.schema_head,
        "backend": picture.backend,
        "server_version": picture.server_version,
        "host": socket.gethostname(),
        "counts": {
            "tables": picture.table_counts,
            "pending_events": picture.pending_events,
            "lake_files": picture.lake_files,
            "files": len(files),
            "bytes": sum(f.size for f in files),
        },
        "files": sets.as_dicts(files),
    }


# ---------------------------------------------------------------- restore


@dataclass
class RestorePlan:
    """Where a set goes."""

    data_dir: Path
    database_url: str
    force: bool = False


def locate(target: Target, set_id: str) -> str:
    """A set id, or the newest set for ``latest``."""
    published = sets.set_ids(target)
    if not published:
        raise TargetError(f"{target.label} 中没有任何备份集")
    if set_id in {"latest", "", "newest"}:
        return published[-1]
    if set_id not in published:
        raise TargetError(f"{target.label} 中没有备份集 {set_id}")
    return set_id


def check_schema(body: dict) -> None:
    """Refuse a set from a schema this program does not know (made by a newer version)."""
    from alembic.script import ScriptDirectory

    from console.core.db import alembic_config

    head = body.get("schema_head") or ""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = {revision.revision for revision in script.walk_revisions()}
    if head and head not in known:
        raise UserError(
            f"备份集的配置库版本 {head} 比本程序新（备份时程序版本 {body.get('app_version')}）："
            "请先安装不低于该版本的控制台再恢复"
        )


def _database_is_empty(url: str) -> bool:
    from console.core.db import engine_for

    engine = engine_for(url)
    try:
        return not sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _sqlite_path(url: str) -> Path:
    return Path(sa.engine.make_url(url).database or "")


def is_live(data_dir: Path) -> bool:
    """Whether a data directory holds an installation (not only a fresh runtime log)."""
    return any((data_dir / name).exists() for name in (CONFIG_SQLITE, "lake", "keys", "reports"))


def _refuse_live_sqlite(plan: RestorePlan) -> None:
    """Without force: no installation in the data folder, no SQLite database where it goes."""
    if is_live(plan.data_dir):
        raise UserError(
            f"数据目录 {plan.data_dir} 不是空的（可能是在用的安装）：确认要覆盖请加 --force"
            "（原目录会改名保留）"
        )
    backend = sa.engine.make_url(plan.database_url).get_backend_name()
    if backend == "sqlite" and _sqlite_path(plan.database_url).exists():
        raise UserError(f"配置库 {_sqlite_path(plan.database_url)} 已存在：确认要覆盖请加 --force")


def check_destination(body: dict, plan: RestorePlan) -> None:
    """Refuse to restore over a live installation (without force) or across backends."""
    backend = sa.engine.make_url(plan.database_url).get_backend_name()
    if body["backend"] == "postgresql" and backend != "postgresql":
        raise UserError(
            "该备份集的配置库为 PostgreSQL：请把 BDC_DATABASE_URL 设为一个空的 PostgreSQL 数据库"
        )
    if body["backend"] == "sqlite" and backend != "sqlite":
        raise UserError("该备份集的配置库为 SQLite：恢复时请勿设置 PostgreSQL 的 BDC_DATABASE_URL")
    if plan.force:
        return
    _refuse_live_sqlite(plan)
    if backend == "postgresql" and not _database_is_empty(plan.database_url):
        raise UserError("目标 PostgreSQL 数据库不是空的：确认要覆盖请加 --force")


def restore(
    *,
    target: Target,
    set_id: str,
    passphrase: str,
    plan: RestorePlan,
    progress: Progress = _SILENT,
) -> dict:
    """Bring a set back into ``plan``'s data directory and database; returns the manifest.

    Everything is written into a sibling folder first and checked file by file; only a
    complete, matching set replaces the data directory (a replaced one is renamed, kept).
    """
    parent = plan.data_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    with sets.scratch_dir(parent) as folder:
        scratch = Path(folder)
        key = sets.open_existing(target, passphrase, scratch)
        set_id = locate(target, set_id)
        body = sets.read_manifest(target, key, set_id, scratch)
        check_schema(body)
        check_destination(body, plan)
        incoming = parent / f".{plan.data_dir.name}.restoring-{set_id}"
        shutil.rmtree(incoming, ignore_errors=True)
        incoming.mkdir(mode=0o700)
        try:
            _fetch_all(target, key, body, incoming, scratch, progress)
            _place_database(body, plan, incoming, progress)
            _swap_in(incoming, plan.data_dir, set_id)
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
    return body


def restore_from_live(
    *, target: Target, passphrase: str, plan: RestorePlan, progress: Progress = _SILENT
) -> dict:
    """Bring the real-time copy back into ``plan``'s data folder; returns what it restored.

    On PostgreSQL the configuration database comes back by PostgreSQL's own tools (base
    backup + archived WAL, README) first; this brings the data folder beside it.
    """
    from console.backup import live

    parent = plan.data_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    backend = sa.engine.make_url(plan.database_url).get_backend_name()
    with sets.scratch_dir(parent) as folder:
        scratch = Path(folder)
        key = sets.open_existing(target, passphrase, scratch)
        if not plan.force:
            _refuse_live_sqlite(plan)
        incoming = parent / f".{plan.data_dir.name}.restoring-live"
        shutil.rmtree(incoming, ignore_errors=True)
        incoming.mkdir(mode=0o700)
        try:
            index = live.restore_live(
                target=target, key=key, incoming=incoming, scratch=scratch, progress=progress
            )
            point = index.get("point") or index.get("shipped_at", "")
            database = plan.database_url
            if backend == "sqlite":
                if not (incoming / CONFIG_SQLITE).exists():
                    raise UserError("实时副本中没有 SQLite 配置库（该安装使用 PostgreSQL？）")
                database = f"sqlite:///{incoming / CONFIG_SQLITE}"
            progress("正在按校验链整理恢复的日志湖…")
            settled = run_reconcile(point=point, data_dir=incoming, database_url=database)
            if backend == "sqlite":
                _place_database({"backend": "sqlite"}, plan, incoming, progress)
            _swap_in(incoming, plan.data_dir, "live")
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
    return {
        "format": sets.FORMAT,
        "set_id": f"live@{point}",
        "point": point,
        "backend": "postgresql" if backend == "postgresql" else "sqlite",
        "created_at": point,
        "host": "",
        "counts": None,
        "files": [],
        "settled": settled,
    }


def _fetch_all(
    target: Target, key: RepoKey, body: dict, incoming: Path, scratch: Path, progress: Progress
) -> None:
    files = sets.entries(body)
    for number, entry in enumerate(files, 1):
        destination = (incoming / entry.path).resolve()
        if not destination.is_relative_to(incoming.resolve()):
            raise UserError(f"备份集中的路径非法：{entry.path}")
        sets.download(target, key, entry, destination, scratch)
        if entry.kind == "key":
            destination.chmod(0o600)
        if number % 200 == 0:
            progress(f"已取回并校验 {number}/{len(files)} 个文件")
    progress(f"已取回并校验全部 {len(files)} 个文件")


def _place_database(body: dict, plan: RestorePlan, incoming: Path, progress: Progress) -> None:
    if body["backend"] == "postgresql":
        if plan.force and not _database_is_empty(plan.database_url):
            kept = plan.data_dir.with_name(
                f"{plan.data_dir.name}.replaced-{time.strftime('%Y%m%d%H%M%S')}.pgdump"
            )
            progress(f"正在把被覆盖的 PostgreSQL 配置库另存为 {kept} …")
            pg_dump_to(plan.database_url, kept)
        progress("正在用 pg_restore 恢复 PostgreSQL 配置库…")
        pg_restore(incoming / CONFIG_DUMP, plan.database_url, clean=plan.force)
        (incoming / CONFIG_DUMP).unlink()
        return
    wanted = _sqlite_path(plan.database_url).resolve()
    if wanted != (plan.data_dir / CONFIG_SQLITE).resolve():
        if wanted.exists():
            wanted.rename(wanted.with_name(f"{wanted.name}.replaced-{int(time.time())}"))
        wanted.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(incoming / CONFIG_SQLITE, wanted)


def pg_dump_to(url: str, out: Path) -> None:
    """``pg_dump --format=custom`` into ``out``: the database a forced restore replaces."""
    uri, environment = libpq(url)
    result = subprocess.run(
        [pg_tool("pg_dump"), "--format=custom", f"--file={out}", f"--dbname={uri}"],
        env={**tool_environment(), **environment},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise UserError(f"pg_dump 失败：{result.stderr.strip()[-400:]}")


def pg_restore(dump: Path, url: str, *, clean: bool) -> None:
    """``pg_restore`` a custom-format dump into ``url`` (dropping what is there with ``clean``)."""
    uri, environment = libpq(url)
    # One transaction: a restore that fails leaves the database as it was.
    command = [
        pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
        "--single-transaction",
    ]  # fmt: skip
    if clean:
        command += ["--clean", "--if-exists"]
    result = subprocess.run(
        [*command, f"--dbname={uri}", str(dump)],
        env={**tool_environment(), **environment},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise UserError(f"pg_restore 失败：{result.stderr.strip()[-400:]}")


def _swap_in(incoming: Path, data_dir: Path, set_id: str) -> None:
    """Two renames: whatever was there is kept aside, the restored folder takes its place."""
    if data_dir.exists() and _only_this_runs_log(data_dir):
        _carry_logs(data_dir, incoming)  # the runtime log this very command started
        data_dir.rmdir()
    if data_dir.exists():
        suffix = "replaced" if is_live(data_dir) else "before-restore"
        kept = data_dir.with_name(f"{data_dir.name}.{suffix}-{time.strftime('%Y%m%d%H%M%S')}")
        data_dir.rename(kept)
        logger.warning(f"恢复备份集 {set_id}：原数据目录已改名保留为 {kept}")
    incoming.rename(data_dir)


def _only_this_runs_log(data_dir: Path) -> bool:
    return all(child.name == "logs" and child.is_dir() for child in data_dir.iterdir())


def _carry_logs(data_dir: Path, incoming: Path) -> None:
    """Move the runtime log files into the restored folder (an open log keeps its handle)."""
    for folder in [data_dir / "logs"] if (data_dir / "logs").exists() else []:
        (incoming / "logs").mkdir(mode=0o700, exist_ok=True)
        for path in folder.iterdir():
            place = incoming / "logs" / path.name
            if place.exists():
                place = place.with_name(f"restore-{time.strftime('%Y%m%d%H%M%S')}-{path.name}")
            path.rename(place)
        folder.rmdir()


def _child_environment(data_dir: Path, database_url: str) -> dict[str, str]:
    """The environment of a command run against a restored installation."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("BDC_") or name in {"BDC_PG_BIN_DIR", "BDC_OUTBOUND_ALLOW"}
    }
    environment |= {
        "BDC_DATA_DIR": str(data_dir),
        "BDC_DATABASE_URL": database_url,
        "BDC_SCHEDULER_ENABLED": "false",
    }
    return environment


def run_reconcile(*, point: str, data_dir: Path, database_url: str) -> str:
    """Settle a lake restored from the real-time copy, in a process of its settings."""
    result = subprocess.run(
        [sys.executable, "-m", "console", "backup-reconcile", "--point", point],
        env=_child_environment(data_dir, database_url),
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if result.returncode != 0:
        raise UserError(f"恢复后整理日志失败：{(result.stderr or result.stdout).strip()[-400:]}")
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def run_checks(*, manifest: Path, data_dir: Path, database_url: str) -> dict:
    """Check a restored installation in a child process of its own settings; the report."""
    import json

    environment = _child_environment(data_dir, database_url)
    result = subprocess.run(
        [sys.executable, "-m", "console", "backup-check", "--manifest", str(manifest), "--json"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    try:
        return json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        detail = (result.stderr or result.stdout).strip()[-400:]
        return {
            "passed": False,
            "checks": [{"name": "校验程序", "passed": False, "detail": detail}],
        }
