"""A small installation of each backend to back up: accounts, sealed days, pending events."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from console.audit.service import record
from console.backup import live
from console.core import db as core_db
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import pending
from console.logs import store as store_module
from console.logs.chain import SYSTEM
from console.logs.store import store_for
from console.simulate.service import simulate
from tests.support.world import World, build_world

PASSPHRASE = "长城脚下的备份口令-2026"


@dataclass
class Installation:
    """The configured data folder and database, filled with a little of everything."""

    data_dir: Path
    url: str
    world: World


@pytest.fixture
def installation(seeded_db: str) -> Iterator[Installation]:
    world = build_world()
    with session_scope() as session:
        report = simulate(session=session, days=3, scale=0.001, seed=7)
    assert report.rejected == [] and report.sealed_parts > 0
    with session_scope() as session:  # today's operations: pending until the day closes
        for number in range(3):
            record(session, actor=SYSTEM, obj="system.settings", action=f"write-{number}")
    settings = get_settings()
    assert pending_count(settings.lake_dir) > 0, "today's events stay pending"
    yield Installation(settings.resolved_data_dir, seeded_db, world)
    if settings.resolved_data_dir.exists():
        live.stop_replicating(settings)


def pending_count(lake: Path) -> int:
    with closing(sqlite3.connect(pending.ingest_path(lake))) as db:
        return db.execute("SELECT count(*) FROM pending").fetchone()[0]


def table_fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows (sorted, so order does not matter)."""
    engine = core_db.engine_for(url)
    with engine.connect() as connection:
        found = {}
        for table in sa.inspect(connection).get_table_names():
            rows = connection.execute(sa.text(f'SELECT * FROM "{table}"')).all()
            digest = hashlib.sha256("\n".join(sorted(repr(tuple(r)) for r in rows)).encode())
            found[table] = (len(rows), digest.hexdigest())
    return found


def lake_fingerprints(lake: Path) -> dict[str, str]:
    """Digest of every current lake file (as the catalogue lists them) and of every chain."""
    with closing(sqlite3.connect(pending.ingest_path(lake))) as db:
        files = [r[0] for r in db.execute("SELECT file FROM lake_file WHERE retired_us IS NULL")]
    files += [f.removesuffix(".parquet") + ".lines" for f in files if "/part-" in f]
    files += [p.relative_to(lake).as_posix() for p in lake.glob("*/_chain.jsonl")]
    return {name: hashlib.sha256((lake / name).read_bytes()).hexdigest() for name in files}


def pending_rows(lake: Path) -> list[tuple]:
    with closing(sqlite3.connect(pending.ingest_path(lake))) as db:
        return sorted(db.execute("SELECT * FROM pending").fetchall())


def let_go(installation: Installation) -> None:
    """Close every connection the test process holds to the installation."""
    live.stop_replicating(get_settings())  # the real-time copy's Litestream, if one was started
    core_db.engine_for(installation.url).dispose()
    lake = get_settings().lake_dir
    store_for(lake).close()
    store_module._stores.pop(pending.ingest_path(lake).resolve(), None)
