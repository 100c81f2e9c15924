"""Config database: engine per URL, sessions, timezone-safe columns, Alembic migrations."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from console.core.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class UTCDateTime(sa.types.TypeDecorator):
    """Stores UTC without offset (SQLite has none) and always returns aware UTC datetimes."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Reject naive datetimes so local times never slip in unnoticed."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Attach UTC to what the database returns."""
        return None if value is None else value.replace(tzinfo=UTC)


# How long a SQLite transaction waits for another process's write to finish.
SQLITE_BUSY_TIMEOUT_MS = 15_000


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    # The driver stays out of transactions: _begin_sqlite_on_first_write begins them.
    dbapi_connection.isolation_level = None
    # WAL lets the UI read while a write is in progress; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


# Statements that write: before the first of them, a transaction takes the write lock.
_SQLITE_WRITES = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "CREATE", "DROP", "ALTER"}
)


def _begin_sqlite_on_first_write(
    connection: sa.Connection,
    cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    """Begin SQLite transactions as ``BEGIN IMMEDIATE``, right before their first write.

    The driver stays out of transactions (``isolation_level`` None: its own handling commits
    when a SAVEPOINT is released, so rows of a "good record" would survive the rollback of
    their batch). A transaction that began with a plain ``BEGIN`` and read first holds a
    snapshot: when another process (a scheduler worker, the CLI) commits meanwhile, its first
    write fails at once with "database is locked", without waiting. ``BEGIN IMMEDIATE``
    waits for the write lock instead (up to the busy timeout), and taking it only at the
    first write keeps reads from blocking writers and lets a read-only session open a second
    one that writes (a denial logged in its own transaction).
    """
    keyword = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
    if keyword not in _SQLITE_WRITES or not connection.in_transaction():
        return
    dbapi = connection.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        cursor.execute("BEGIN IMMEDIATE")


@functools.cache
def engine_for(url: str) -> Engine:
    """One pooled engine per database URL."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _enable_sqlite_pragmas)
        sa.event.listen(engine, "before_cursor_execute", _begin_sqlite_on_first_write)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def get_engine() -> Engine:
    """Engine for the configured database."""
    return engine_for(get_settings().db_url)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    engine = engine_for(url) if url else get_engine()
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    """Alembic configuration built in code, so no alembic.ini has to match the checkout."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# pg_advisory_lock key for schema upgrades: "BDC mig" in ASCII.
MIGRATION_LOCK = int.from_bytes(b"BDC mig", "big")


def migrate(url: str | None = None) -> str:
    """Upgrade the database to the newest schema and return the revision it is at.

    On PostgreSQL under an advisory lock: the backends of a cluster start together after an
    upgrade, and one migrates while the others wait, then find nothing left to do.
    """
    url = url or get_settings().db_url
    with _one_migration_at_a_time(url):
        command.upgrade(alembic_config(url), "head")
    return current_revision(url) or ""


@contextmanager
def _one_migration_at_a_time(url: str) -> Iterator[None]:
    if sa.engine.make_url(url).get_backend_name() != "postgresql":
        yield
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                yield
            finally:
                connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK}
                )
    finally:
        engine.dispose()


def current_revision(url: str | None = None) -> str | None:
    """Revision the database is at, or None for an empty database."""
    with engine_for(url or get_settings().db_url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@functools.cache
def head_revision() -> str:
    """Newest revision shipped with this code (read once: the health check asks every poll)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    return head or ""


def backend_name(url: str | None = None) -> str:
    """Human name of the database backend, e.g. ``SQLite`` or ``PostgreSQL``."""
    dialect = sa.engine.make_url(url or get_settings().db_url).get_backend_name()
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(dialect, dialect)


def upsert_insert(session: Session, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ``on_conflict_do_*`` for the session's backend (SQLite or PostgreSQL)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
