"""backup: targets, the schedule and retention policy, every run; system.backup permissions

The built-in 系统管理员 gets ``system.backup`` ``read``, ``write`` and ``execute``; the
built-in 审计管理员 gets ``read`` (the history, read-only). The seed grants the same to new
databases.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OBJ = "system.backup"
_GRANTS = {
    ("sys_admin", "read"),
    ("sys_admin", "write"),
    ("sys_admin", "execute"),
    ("audit_admin", "read"),
}


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _stamp() -> sa.Column:
    return sa.Column("updated_at", console.core.db.UTCDateTime(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "backup_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _text(64), nullable=False),
        sa.Column("kind", _text(16), nullable=False),
        sa.Column("location", _text(500), nullable=False),
        sa.Column("endpoint", _text(255), nullable=False),
        sa.Column("region", _text(64), nullable=False),
        sa.Column("access_key", _text(128), nullable=False),
        sa.Column("secret_enc", _text(512), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("live_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("live_error", _text(500), nullable=False),
        sa.Column("updated_by", _text(64), nullable=False),
        _stamp(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "backup_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cron", _text(64), nullable=False),
        sa.Column("keep_daily", sa.Integer(), nullable=False),
        sa.Column("keep_weekly", sa.Integer(), nullable=False),
        sa.Column("keep_monthly", sa.Integer(), nullable=False),
        sa.Column("requested", _text(16), nullable=False),
        sa.Column("requested_by", _text(64), nullable=False),
        sa.Column("updated_by", _text(64), nullable=False),
        _stamp(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "backup_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _text(16), nullable=False),
        sa.Column("started_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("outcome", _text(16), nullable=False),
        sa.Column("set_id", _text(64), nullable=False),
        sa.Column("targets", _text(1000), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("new_bytes", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("message", _text(2000), nullable=False),
        sa.Column("checks", _text(8000), nullable=False),
        sa.Column("actor", _text(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_backup_run_kind", "backup_run", ["kind"])
    op.create_index("ix_backup_run_started_at", "backup_run", ["started_at"])
    op.create_index("ix_backup_run_set_id", "backup_run", ["set_id"])
    _grant()


def _grant() -> None:
    """Existing databases: the built-in administrators (if seeded) get their share."""
    rule = sa.table("casbin_rule", *(sa.column(c) for c in ("ptype", "v0", "v1", "v2", "v3")))
    role = sa.table("iam_role", sa.column("code"))
    connection = op.get_bind()
    seeded = set(connection.execute(sa.select(role.c.code)).scalars())
    held = set(
        connection.execute(
            sa.select(rule.c.v0, rule.c.v3).where(
                rule.c.ptype == "p", rule.c.v1 == "*", rule.c.v2 == _OBJ
            )
        ).all()
    )
    for code, action in sorted(_GRANTS):
        if code in seeded and (f"role:{code}", action) not in held:
            op.execute(
                rule.insert().values(ptype="p", v0=f"role:{code}", v1="*", v2=_OBJ, v3=action)
            )


def downgrade() -> None:
    rule = sa.table("casbin_rule", sa.column("v2"))
    op.execute(rule.delete().where(rule.c.v2 == _OBJ))
    op.drop_index("ix_backup_run_set_id", table_name="backup_run")
    op.drop_index("ix_backup_run_started_at", table_name="backup_run")
    op.drop_index("ix_backup_run_kind", table_name="backup_run")
    op.drop_table("backup_run")
    op.drop_table("backup_policy")
    op.drop_table("backup_target")
