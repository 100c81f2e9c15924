"""logs: chain heads kept in the configuration database, and integrity verifications

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "logs_chain_head",
        sa.Column("stream", _text(16), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("link", _text(64), nullable=False),
        sa.Column("updated_at", console.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("stream"),
    )
    op.create_table(
        "logs_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("checked_by", _text(64), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("breaks", sa.Integer(), nullable=False),
        sa.Column("summary", _text(2000), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_logs_verification_checked_at", "logs_verification", ["checked_at"])


def downgrade() -> None:
    op.drop_index("ix_logs_verification_checked_at", table_name="logs_verification")
    op.drop_table("logs_verification")
    op.drop_table("logs_chain_head")
