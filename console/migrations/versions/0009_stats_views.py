"""stats: saved statistics views shared with a role

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("owner_account", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tenant_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("shared_role", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("settings", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", console.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["iam_user.id"], name="fk_stats_view_owner"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stats_view", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stats_view_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_stats_view_tenant_code"), ["tenant_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stats_view_shared_role"), ["shared_role"], unique=False
        )


def downgrade() -> None:
    op.drop_table("stats_view")
