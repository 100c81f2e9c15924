from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from console.core import db as core_db
from console.core.db import current_revision, head_revision, migrate, session_scope
from console.iam.models import LoginEvent

EXPECTED_TABLES = {"iam_user", "iam_session", "iam_login_event", "alembic_version"}


def test_migrations_bring_an_empty_database_to_head(database_url: str) -> None:
    assert current_revision(database_url) is None
    assert migrate(database_url) == head_revision()
    tables = set(sa.inspect(core_db.engine_for(database_url)).get_table_names())
    assert tables >= EXPECTED_TABLES


def test_migrating_twice_changes_nothing(database_url: str) -> None:
    first = migrate(database_url)
    assert migrate(database_url) == first


def test_models_match_the_migrated_schema(migrated_db: str) -> None:
    """Autogenerate finds no difference: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    with core_db.engine_for(migrated_db).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_datetimes_come_back_timezone_aware_in_utc(migrated_db: str) -> None:
    moment = datetime(2026, 11, 27, 16, 30, tzinfo=timezone(timedelta(hours=8)))
    with session_scope() as session:
        event = LoginEvent(account="a", outcome="success", ts=moment)
        session.add(event)
        session.flush()
        event_id = event.id
    with session_scope() as session:
        stored = session.get(LoginEvent, event_id)
        assert stored is not None
        assert stored.ts == moment
        assert stored.ts.tzinfo is not None
        assert stored.ts.utcoffset() == timedelta(0)
        assert stored.ts.hour == 8


def test_naive_datetimes_are_refused(migrated_db: str) -> None:
    with pytest.raises(sa.exc.StatementError), session_scope() as session:
        session.add(LoginEvent(account="a", outcome="success", ts=datetime(2026, 1, 1)))
        session.flush()


def test_session_scope_rolls_back_when_the_block_fails(migrated_db: str) -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        session.add(LoginEvent(account="rollback", outcome="success", ts=datetime.now(UTC)))
        session.flush()
        raise RuntimeError("boom")
    with session_scope() as session:
        rows = session.exec(sa.select(LoginEvent).where(LoginEvent.account == "rollback")).all()
    assert rows == []


def test_a_savepoint_rolls_back_only_its_own_rows(migrated_db: str) -> None:
    with session_scope() as session:
        session.add(LoginEvent(account="kept", outcome="success", ts=datetime.now(UTC)))
        with pytest.raises(RuntimeError), session.begin_nested():
            session.add(LoginEvent(account="dropped", outcome="success", ts=datetime.now(UTC)))
            session.flush()
            raise RuntimeError("bad record")
    with session_scope() as session:
        accounts = set(session.exec(sa.select(LoginEvent.account)).scalars())
    assert accounts == {"kept"}


def test_rows_of_a_released_savepoint_roll_back_with_the_transaction(migrated_db: str) -> None:
    with pytest.raises(RuntimeError), session_scope() as session:
        with session.begin_nested():
            session.add(LoginEvent(account="inner", outcome="success", ts=datetime.now(UTC)))
        raise RuntimeError("the whole batch fails after the savepoint was released")
    with session_scope() as session:
        accounts = set(session.exec(sa.select(LoginEvent.account)).scalars())
    assert "inner" not in accounts


def test_roles_that_download_reports_may_generate_them_after_the_upgrade(
    database_url: str,
) -> None:
    from alembic import command

    command.upgrade(core_db.alembic_config(database_url), "0009")
    rules = "INSERT INTO casbin_rule (ptype, v0, v1, v2, v3) VALUES "
    with core_db.engine_for(database_url).begin() as connection:
        connection.exec_driver_sql(
            rules + "('p', 'role:a', '*', 'reports.center', 'export'), "
            "('p', 'role:b', '*', 'reports.center', 'write'), "
            "('p', 'role:c', '*', 'reports.center', 'read')"
        )
    core_db.migrate(database_url)
    with core_db.engine_for(database_url).connect() as connection:
        held = connection.exec_driver_sql(
            "SELECT v0, v3 FROM casbin_rule WHERE v2 = 'reports.center' ORDER BY v0, v3"
        ).all()
    assert [tuple(row) for row in held] == [
        ("role:a", "export"), ("role:a", "generate"), ("role:b", "generate"), ("role:c", "read"),
    ]  # fmt: skip
