"""stats: statutory time limit per business code

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_time_limit",
        sa.Column("business_code", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("workdays", sa.Integer(), nullable=False),
        sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", console.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("business_code"),
    )


def downgrade() -> None:
    op.drop_table("stats_time_limit")
