"""A simulated province, sealed up to the day before NOW: built once per run, copied per test.

Simulating a month of a province takes seconds, and the statistics and report tests each
need one. ``build_template`` makes it once in a folder of its own (the SQLite database beside
the data folder: keys, log lake, rollups, case index); ``copy_template`` gives a test its
private copy, so whatever a test writes stays its own.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from console.core import db as core_db
from console.core.crypto import ensure_key_files
from console.core.db import session_scope
from console.core.settings import get_settings
from console.dictionaries.seed import load_seed
from console.iam.role_service import seed_builtin_roles
from console.logs.store import store_for
from console.simulate.service import simulate
from console.workflows.limits import load_time_limits
from tests.support.world import World, build_world

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
DATABASE_FILE = "console.db"


@dataclass(frozen=True)
class ProvinceTemplate:
    """The built province: its database file, its data folder and the accounts in it."""

    database: Path
    data_dir: Path
    world: World


def build_template() -> ProvinceTemplate:
    """Simulate the province into the configured database and data folder, then let go of both.

    The steps are those of the ``world`` fixture (migrated, keys, built-in roles, two counties
    with one account per role), then the dictionary seed, the time limits and 30 days at
    scale 0.005. The configured database must be a SQLite file.
    """
    settings = get_settings()
    url = settings.db_url
    database = Path(url.removeprefix("sqlite:///"))
    assert url.startswith("sqlite:///") and database.is_absolute(), url
    try:
        core_db.migrate(url)
        ensure_key_files()
        with session_scope() as session:
            seed_builtin_roles(session)
        world = build_world()
        with session_scope() as session:
            load_seed(session)
            load_time_limits(session)
        with session_scope() as session:
            report = simulate(session=session, days=30, scale=0.005, seed=11, now=NOW)
        assert report.rejected == [] and report.accepted["case_event"] > 3000
    finally:
        # Closing the last connections checkpoints both SQLite write-ahead logs into their
        # files. The closed store stays registered for this lake, so nothing can write to the
        # template afterwards without failing loudly.
        core_db.engine_for(url).dispose()
        store_for(settings.lake_dir).close()
    for sqlite_file in (database, settings.lake_dir / "ingest.db"):
        leftover = sqlite_file.with_name(sqlite_file.name + "-wal")
        assert not leftover.exists(), f"{leftover} is still open; a copy could miss its rows"
    return ProvinceTemplate(database, settings.resolved_data_dir, world)


def copy_template(template: ProvinceTemplate) -> World:
    """Copy the province into the configured SQLite database and data folder (both new)."""
    settings = get_settings()
    target = Path(settings.db_url.removeprefix("sqlite:///"))
    assert settings.db_url.startswith("sqlite:///") and target != template.database
    assert not target.exists() and not settings.resolved_data_dir.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(template.database, target)
    shutil.copytree(template.data_dir, settings.resolved_data_dir)
    return World(dict(template.world.accounts))
