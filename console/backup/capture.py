"""Take one consistent picture of everything under the data directory that cannot be rebuilt.

While the lake lock is held (no seal, purge or rollup rebuild runs; ingestion goes on),
``ingest.db`` and the case index are copied with SQLite's online backup API, the chain
files are copied, and the configuration database is copied the same way (or dumped by
``pg_dump`` from a snapshot whose row counts are taken in the same transaction). The
configuration database holds the chain heads, so heads, chains and the catalogue of lake
files all describe the same moment. Sealed lake files are immutable and never deleted
within ``catalogue.GRACE_SECONDS`` of being retired, so they are read after the lock is
released, straight from the lake, exactly as the copied catalogue lists them.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy as sa

from console.core.errors import UserError
from console.core.settings import Settings
from console.logs import catalogue, pending
from console.logs.chain import chain_path
from console.logs.contract import STREAMS
from console.logs.seal import lake_lock

CONFIG_SQLITE = "console.db"
CONFIG_DUMP = "console.pgdump"
INDEX_DB = "lake/_index/cases.db"
STAGING = ".backup-staging"
LIVE_FOLDER = ".backup-live"  # the real-time copy's local replicas (live.py)
# Files never worth keeping: SQLite's side files (the copies are whole), locks, staging.
_SKIPPED = re.compile(r"(-wal|-shm|-journal|\.lock|\.partial-[0-9a-f]+)$")


@dataclass(frozen=True)
class Item:
    """One file of a set: where it goes in a data directory and where it is read from now."""

    path: str
    kind: str
    source: Path


@dataclass
class Picture:
    """What ``capture`` found: the files and the facts verification compares against."""

    backend: str
    items: list[Item] = field(default_factory=list)
    table_counts: dict[str, int] = field(default_factory=dict)
    schema_head: str = ""
    pending_events: int = 0
    lake_files: int = 0
    server_version: str = ""


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database with the online backup API (one consistent step)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as live,
        closing(sqlite3.connect(target)) as copy,
    ):
        live.execute("PRAGMA busy_timeout=30000")
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        # The pending store frees most of its pages at every seal: the copy drops them.
        copy.execute("VACUUM")


def _sqlite_counts(path: Path) -> tuple[dict[str, int], str]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        head = ""
        if "alembic_version" in tables:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
            head = row[0] if row else ""
    return counts, head


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy PostgreSQL URL as a libpq URI without the password, and the env with it."""
    parsed = sa.engine.make_url(url)
    environment = {"PGPASSWORD": parsed.password} if parsed.password else {}
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", version_text)
    return int(match.group(1)) if match else 0


def tool_environment() -> dict[str, str]:
    """The environment of an external tool: the console's own secrets left out."""
    return {
        k: v for k, v in os.environ.items() if not k.startswith("BDC_") or k == "BDC_PG_BIN_DIR"
    }


def pg_tool(name: str) -> str:
    """Path of a PostgreSQL client program (``BDC_PG_BIN_DIR`` first, then ``PATH``)."""
    folder = os.environ.get("BDC_PG_BIN_DIR")
    found = str(Path(folder) / name) if folder else shutil.which(name)
    if not found or not Path(found).exists():
        raise UserError(f"找不到 PostgreSQL 客户端程序 {name}：请安装 postgresql-client")
    return found


def _check_client_version(server_version_num: int) -> None:
    output = subprocess.run(
        [pg_tool("pg_dump"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    client = _major(output.split("(PostgreSQL)", 1)[-1])
    server = server_version_num // 10000
    if client < server:
        raise UserError(
            f"pg_dump 版本 {client} 低于数据库服务器版本 {server}：请安装不低于 {server} 的客户端"
        )


def _postgres_dump(url: str, out: Path, picture: Picture) -> None:
    """``pg_dump --format=custom`` from an exported snapshot; counts from the same snapshot."""
    uri, environment = libpq(url)
    with psycopg.connect(uri, **_password(environment)) as connection:
        # Set before the first statement: psycopg opens the transaction with it.
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
        version = int(connection.execute("SHOW server_version_num").fetchone()[0])
        _check_client_version(version)
        picture.server_version = str(connection.execute("SHOW server_version").fetchone()[0])
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        for table in tables:
            query = f'SELECT count(*) FROM "{table}"'
            picture.table_counts[table] = connection.execute(query).fetchone()[0]
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            picture.schema_head = row[0] if row else ""
        result = subprocess.run(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-owner",
                "--no-privileges",
                f"--file={out}",
                f"--dbname={uri}",
            ],
            env={**tool_environment(), **environment},
            capture_output=True,
            text=True,
            check=False,
        )
        connection.rollback()
    if result.returncode != 0:
        raise UserError(f"pg_dump 失败：{result.stderr.strip()[-400:]}")


def _password(environment: dict[str, str]) -> dict[str, str]:
    return {"password": environment["PGPASSWORD"]} if "PGPASSWORD" in environment else {}


def capture(settings: Settings, staging: Path) -> Picture:
    """Copy the live databases and chains into ``staging``; list every file of the set."""
    data = settings.resolved_data_dir
    lake = settings.lake_dir
    backend = sa.engine.make_url(settings.db_url).get_backend_name()
    picture = Picture(backend="postgresql" if backend == "postgresql" else "sqlite")
    if pending.ingest_path(lake).exists():
        catalogue.prepare(lake)  # a lake never sealed has no catalogue table yet
    with lake_lock(lake):
        _capture_locked(settings, staging, picture)
    ingest_copy = staging / "lake" / pending.INGEST_DB
    picture.items += list(_lake_files(lake, ingest_copy, picture))
    picture.items += list(_keys(settings, staging))
    picture.items += list(_other_files(data, staging))
    return picture


def _capture_locked(settings: Settings, staging: Path, picture: Picture) -> None:
    lake = settings.lake_dir
    ingest = pending.ingest_path(lake)
    if ingest.exists():
        copy = staging / "lake" / pending.INGEST_DB
        sqlite_copy(ingest, copy)
        picture.items.append(Item(f"lake/{pending.INGEST_DB}", "ingest_db", copy))
        with closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as db:
            picture.pending_events = db.execute("SELECT count(*) FROM pending").fetchone()[0]
    index = settings.resolved_data_dir / INDEX_DB
    if index.exists():
        sqlite_copy(index, staging / INDEX_DB)
        picture.items.append(Item(INDEX_DB, "index_db", staging / INDEX_DB))
    for stream in STREAMS:
        chain = chain_path(lake, stream)
        if chain.exists():
            copy = staging / "lake" / stream / chain.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(chain, copy)
            picture.items.append(Item(f"lake/{stream}/{chain.name}", "chain", copy))
    if picture.backend == "postgresql":
        dump = staging / CONFIG_DUMP
        _postgres_dump(settings.db_url, dump, picture)
        picture.items.append(Item(CONFIG_DUMP, "config_dump", dump))
    else:
        source = Path(sa.engine.make_url(settings.db_url).database or "")
        copy = staging / CONFIG_SQLITE
        sqlite_copy(source, copy)
        picture.table_counts, picture.schema_head = _sqlite_counts(copy)
        picture.items.append(Item(CONFIG_SQLITE, "config_db", copy))


def _lake_files(lake: Path, ingest_copy: Path, picture: Picture) -> Iterator[Item]:
    """The current parts (with their encrypted lines) and rollups the copied catalogue lists."""
    if not ingest_copy.exists():
        return
    with closing(sqlite3.connect(f"file:{ingest_copy}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT kind, file FROM lake_file WHERE retired_us IS NULL ORDER BY file"
        ).fetchall()
    for kind, file in rows:
        files = [file]
        if kind == "part":
            files.append(str(Path(file).with_suffix(".lines")))
        for name in files:
            path = lake / name
            if name.endswith(".lines") and not path.exists():
                continue  # parts sealed before lines were kept have none
            picture.lake_files += 1
            yield Item(f"lake/{name}", "lake", path)


def _keys(settings: Settings, staging: Path) -> Iterator[Item]:
    """Every key file (retired versions included); keys given by environment as files."""
    key_dir = settings.key_dir
    present = set()
    if key_dir.is_dir():
        for path in sorted(key_dir.rglob("*")):
            if path.is_file() and not _SKIPPED.search(path.name):
                present.add(path.name)
                yield Item(f"keys/{path.relative_to(key_dir).as_posix()}", "key", path)
    configured = {
        "sm4.key": settings.sm4_key,
        "hmac.key": settings.hmac_key,
        "chain.key": settings.chain_key,
    }
    for name, secret in configured.items():
        if secret is not None and name not in present:
            copy = staging / "keys" / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(secret.get_secret_value().lower())  # the key files' hex form
            yield Item(f"keys/{name}", "key", copy)


def _other_files(data: Path, staging: Path) -> Iterator[Item]:
    """Reports, runtime logs and anything else not rebuilt: copied first (they may grow)."""
    if not data.is_dir():
        return
    skipped_top = {"lake", "keys", STAGING, LIVE_FOLDER}
    for path in sorted(data.rglob("*")):
        relative = path.relative_to(data)
        if relative.parts[0] in skipped_top or not path.is_file():
            continue
        if relative.as_posix() == CONFIG_SQLITE or _SKIPPED.search(path.name):
            continue
        if relative.parts[0].startswith(CONFIG_SQLITE):
            continue
        copy = staging / "other" / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, copy)
        except FileNotFoundError:
            continue  # a rotated runtime log removed meanwhile
        kind = {"reports": "report", "logs": "runtime_log"}.get(relative.parts[0], "other")
        yield Item(relative.as_posix(), kind, copy)
