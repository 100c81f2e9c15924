"""Config database: engine per URL, sessions, timezone-safe columns, Alembic migrations."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

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


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling commits when a SAVEPOINT is released, so rows of a
    # "good record" would survive the rollback of its batch. SQLAlchemy's documented recipe:
    # the driver stays out of it (isolation_level None) and _begin_sqlite emits BEGIN.
    dbapi_connection.isolation_level = None
    # WAL lets the UI read while a write is in progress; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _begin_sqlite(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN")


@functools.cache
def engine_for(url: str) -> Engine:
    """One pooled engine per database URL."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _enable_sqlite_pragmas)
        sa.event.listen(engine, "begin", _begin_sqlite)
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


def migrate(url: str | None = None) -> str:
    """Upgrade the database to the newest schema and return the revision it is at."""
    url = url or get_settings().db_url
    command.upgrade(alembic_config(url), "head")
    return current_revision(url) or ""


def current_revision(url: str | None = None) -> str | None:
    """Revision the database is at, or None for an empty database."""
    with engine_for(url or get_settings().db_url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """Newest revision shipped with this code."""
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
