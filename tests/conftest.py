"""Shared fixtures: isolated settings, real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import functools
import importlib
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from console import wiring
from console.core import db as core_db
from console.core.settings import get_settings
from tests.support.postgres import (
    SHARED_ENV,
    PostgresCluster,
    share,
    shared_cluster,
    start_cluster,
)
from tests.support.redis import RedisServer, redis_available, start_redis
from tests.support.s3 import S3Server, start_s3
from tests.support.server import ConsoleServer, start_api_server, start_server

if TYPE_CHECKING:
    from tests.support.province import ProvinceTemplate

# As the app does at start-up: the console's own operations flow into the log lake, and
# IAM provides the UI kit with the session (importing its state installs it).
wiring.own.install()
importlib.import_module("console.iam.state")

BACKENDS = ("sqlite", "postgresql")
_database_numbers = itertools.count(1)
_SHARED_CLUSTER = pytest.StashKey[PostgresCluster]()


def _worker() -> str:
    """This pytest-xdist worker's id: databases of the shared cluster carry it in their name."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_configure(config: pytest.Config) -> None:
    """With pytest-xdist, the controller starts one PostgreSQL cluster for every worker."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    cluster = start_cluster()
    if cluster is not None:
        config.stash[_SHARED_CLUSTER] = cluster
        share(cluster)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller stops the cluster it shared once every worker has finished."""
    cluster = config.stash.get(_SHARED_CLUSTER, None)
    if cluster is not None:
        cluster.stop()


_KEPT_VARIABLES = {"BDC_REQUIRE_POSTGRES", "BDC_TEST_PG_BIN", SHARED_ENV}


def _isolate(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default settings (no ``BDC_*`` from outside) with the data folder in ``folder``."""
    for name in list(os.environ):
        if name.startswith("BDC_") and name not in _KEPT_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("BDC_DATA_DIR", str(folder / "data"))
    # The tests' own receivers listen on loopback; the guard itself is tested without this.
    monkeypatch.setenv("BDC_OUTBOUND_ALLOW", "127.0.0.1, ::1")
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own data folder and freshly read settings."""
    _isolate(tmp_path, monkeypatch)
    from console.iam import throttle

    throttle.reset()  # sign-in counts per address live in this process's limiter
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster on 127.0.0.1, started once per test run."""
    shared = shared_cluster()
    if shared is not None:
        yield shared  # the xdist controller stops it after the last worker
        return
    cluster = start_cluster()
    if cluster is None:
        message = "PostgreSQL server binaries not found (make test installs Debian's postgresql)"
        if os.environ.get("BDC_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty database of each backend, configured as ``BDC_DATABASE_URL``."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'console.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = cluster.create_database(f"bdc_test_{_worker()}_{next(_database_numbers)}")
    monkeypatch.setenv("BDC_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    core_db.engine_for(url).dispose()


def _migrated_template(url: str, folder: Path) -> None:
    """Run every migration on ``url`` under clean settings, then close its connections."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _isolate(folder, monkeypatch)
        try:
            core_db.migrate(url)
        finally:
            core_db.engine_for(url).dispose()
            get_settings.cache_clear()


@pytest.fixture(scope="session")
def sqlite_schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run; ``migrated_db`` copies it."""
    folder = tmp_path_factory.mktemp("schema")
    path = folder / "console.db"
    _migrated_template(f"sqlite:///{path}", folder)
    assert not path.with_name("console.db-wal").exists(), "the template must be checkpointed"
    return path


@pytest.fixture(scope="session")
def postgres_schema_template(
    postgres_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A PostgreSQL database migrated once per run; ``migrated_db`` clones it."""
    name = f"bdc_schema_template_{_worker()}"
    _migrated_template(postgres_cluster.create_database(name), tmp_path_factory.mktemp("pgschema"))
    return name


@pytest.fixture
def migrated_db(database_url: str, request: pytest.FixtureRequest) -> str:
    """A database of each backend at the newest schema.

    The migrations run once per backend and run; each test gets a copy (a file copy, or a
    PostgreSQL ``CREATE DATABASE … TEMPLATE``), which is what migrating would have made.
    """
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        template: Path = request.getfixturevalue("sqlite_schema_template")
        shutil.copyfile(template, str(url.database))
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        source: str = request.getfixturevalue("postgres_schema_template")
        cluster.create_database(str(url.database), template=source)
    return database_url


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """An S3-compatible server (moto) on loopback, started once per test run and worker."""
    server = start_s3()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Debian's redis-server on loopback, started once per test run and worker."""
    if not redis_available():
        message = "redis-server not found (make test installs Debian's redis-server)"
        if os.environ.get("BDC_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    server = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """The real console on loopback, built and started once for all API and browser tests."""
    server = start_server(tmp_path_factory.mktemp("console"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def api_only_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """The console's HTTP API alone (granian; no pages, no scheduler), once per worker.

    API tests that need neither pages nor system jobs use it: it starts in seconds and runs
    on whichever worker is free, instead of queueing behind the browser tests.
    """
    server = start_api_server(tmp_path_factory.mktemp("api"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def seeded_db(migrated_db: str) -> str:
    """Migrated database with keys, built-in roles and their seed permissions."""
    from console.core.crypto import ensure_key_files
    from console.iam.role_service import seed_builtin_roles

    ensure_key_files()
    with core_db.session_scope() as session:
        seed_builtin_roles(session)
    return migrated_db


@pytest.fixture(scope="session")
def province_template(tmp_path_factory: pytest.TempPathFactory) -> ProvinceTemplate:
    """The simulated province, built once per run under the settings a SQLite test has.

    Tests take ``province`` (tests/unit/stats) instead: their own copy of this one.
    """
    from tests.support.province import build_template

    folder = tmp_path_factory.mktemp("province")
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            _isolate(folder, monkeypatch)
            monkeypatch.setenv("BDC_DATABASE_URL", f"sqlite:///{folder / 'console.db'}")
            get_settings.cache_clear()
            return build_template()
    finally:
        get_settings.cache_clear()  # the test that asked reads its own settings again


@pytest.fixture
def world(seeded_db: str):
    """Two counties and one account per built-in role, on each backend."""
    from tests.support.world import build_world

    return build_world()


# Tests that use the one real console (its server is started once per worker that needs it
# and builds the frontend in the checkout's ``.web``): every browser test, and the API tests
# whose file names the shared server. API tests that start processes of their own (backup,
# durability, consistent reads) are independent and may run on the other worker.
CONSOLE_TEST_FOLDERS = ("tests/api/", "tests/e2e/")
# The cluster's tests share one cluster (two backends, nginx, Redis) and go first, so that
# the other worker than the real console's starts them at once (xdist hands out scopes in
# collection order: the first to one worker, the second to the other).
CLUSTER_TEST_FOLDER = "tests/cluster/"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The cluster's tests first (a stable sort: everything else keeps its order)."""
    items.sort(key=lambda item: not item.nodeid.startswith(CLUSTER_TEST_FOLDER))


@functools.cache
def _uses_console_server(path: str) -> bool:
    if path.startswith("tests/e2e/"):
        return True
    try:
        return "console_server" in (Path(__file__).parent.parent / path).read_text("utf-8")
    except OSError:
        return True  # when in doubt, with the server: a second server would build twice


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under pytest-xdist, every test of the real console runs on one worker.

    That keeps one console server and one frontend build per run, while the other worker
    takes the independent tests one by one. (xdist's own ``loadgroup`` mode renames node
    ids in a way pytest 9.2 no longer honours, so the grouping is done here.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class ConsoleOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path.startswith(CLUSTER_TEST_FOLDER):
                return "cluster"
            on_console = path.startswith(CONSOLE_TEST_FOLDERS) and _uses_console_server(path)
            return "console_server" if on_console else nodeid

    return ConsoleOnOneWorker(config, log)
