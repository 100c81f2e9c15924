"""Migration 0012: the job tables; 系统任务 for the built-in 系统管理员 of old databases."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import command

from console.authz import service as authz
from console.core import db as core_db

_ROLE = sa.table(
    "iam_role",
    *(sa.column(name) for name in ("code", "name", "category", "scope", "description",
                                   "builtin", "created_at", "updated_at")),
)  # fmt: skip


def _job_rules(url: str) -> list[tuple[str, str, str]]:
    with core_db.engine_for(url).connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT v0, v1, v3 FROM casbin_rule WHERE v2 = 'system.jobs' ORDER BY v3"
        ).all()
    return [tuple(row) for row in rows]


def test_an_existing_system_administrator_may_see_and_run_jobs_after_the_upgrade(
    database_url: str,
) -> None:
    config = core_db.alembic_config(database_url)
    command.upgrade(config, "0011")
    moment = datetime(2026, 11, 1, 8, 0)  # stored as naive UTC, as the column type does
    with core_db.engine_for(database_url).begin() as connection:
        connection.execute(
            _ROLE.insert().values(
                code="sys_admin", name="系统管理员", category="系统", scope="province",
                description="", builtin=True, created_at=moment, updated_at=moment,
            )
        )  # fmt: skip
    core_db.migrate(database_url)
    assert _job_rules(database_url) == [
        ("role:sys_admin", "*", "execute"),
        ("role:sys_admin", "*", "read"),
    ]
    command.downgrade(config, "0011")
    assert _job_rules(database_url) == []
    with core_db.engine_for(database_url).connect() as connection:
        assert not sa.inspect(connection).has_table("job_run")
    core_db.migrate(database_url)
    assert len(_job_rules(database_url)) == 2


def test_a_new_database_grants_it_with_the_seeded_role(seeded_db: str) -> None:
    with core_db.session_scope() as session:
        granted = authz.role_permissions(session, role_code="sys_admin")
    assert {("system.jobs", "read"), ("system.jobs", "execute")} <= granted
    assert _job_rules(seeded_db) == [
        ("role:sys_admin", "*", "execute"),
        ("role:sys_admin", "*", "read"),
    ]
