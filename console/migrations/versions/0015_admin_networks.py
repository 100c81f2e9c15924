"""iam: the networks each administrator may sign in from

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "iam_admin_network",
        sa.Column("admin", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("networks", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", console.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("admin"),
    )


def downgrade() -> None:
    op.drop_table("iam_admin_network")
