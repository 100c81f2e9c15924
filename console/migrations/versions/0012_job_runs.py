"""jobs: every run of a system job and the run-now requests; system.jobs for sys_admin

The built-in 系统管理员 role gets ``system.jobs`` ``read`` and ``execute`` (the seed grants
both to new databases), the way 0010 granted ``generate``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OBJ = "system.jobs"
_ROLE = "role:sys_admin"


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", _text(64), nullable=False),
        sa.Column("slot", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("trigger", _text(10), nullable=False),
        sa.Column("outcome", _text(12), nullable=False),
        sa.Column("started_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error", _text(2000), nullable=False),
        sa.Column("summary", _text(500), nullable=False),
        sa.Column("host", _text(64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("worker_pid", sa.Integer(), nullable=True),
        sa.Column("requested_by", _text(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job", "slot", name="uq_job_run_slot"),
    )
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_run_job"), ["job"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_run_outcome"), ["outcome"], unique=False)
    op.create_table(
        "job_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", _text(64), nullable=False),
        sa.Column("requested_by", _text(64), nullable=False),
        sa.Column("requested_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("picked_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_request_job"), ["job"], unique=False)

    _grant_jobs()


def _grant_jobs() -> None:
    """Existing databases: the built-in 系统管理员 (if seeded) may see and run system jobs."""
    rule = sa.table("casbin_rule", *(sa.column(c) for c in ("ptype", "v0", "v1", "v2", "v3")))
    role = sa.table("iam_role", sa.column("code"))
    connection = op.get_bind()
    seeded = connection.execute(sa.select(role.c.code).where(role.c.code == "sys_admin")).first()
    if seeded is None:
        return  # a new database: the seed grants it with the role
    held = set(
        connection.execute(
            sa.select(rule.c.v3).where(
                rule.c.ptype == "p", rule.c.v0 == _ROLE, rule.c.v1 == "*", rule.c.v2 == _OBJ
            )
        ).scalars()
    )
    for action in ("read", "execute"):
        if action not in held:
            op.execute(rule.insert().values(ptype="p", v0=_ROLE, v1="*", v2=_OBJ, v3=action))


def downgrade() -> None:
    rule = sa.table("casbin_rule", sa.column("v2"))
    op.execute(rule.delete().where(rule.c.v2 == _OBJ))
    with op.batch_alter_table("job_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_request_job"))
    op.drop_table("job_request")
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_run_outcome"))
        batch_op.drop_index(batch_op.f("ix_job_run_job"))
    op.drop_table("job_run")
