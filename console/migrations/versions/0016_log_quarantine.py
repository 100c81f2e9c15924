"""logs: the quarantine of refused pushed lines

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "logs_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("stream", _text(16), nullable=False),
        sa.Column("key_id", _text(64), nullable=False),
        sa.Column("key_tenant", _text(6), nullable=False),
        sa.Column("request_id", _text(64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("reason", _text(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_enc", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("logs_quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_logs_quarantine_received_at", ["received_at"], unique=False)
        batch_op.create_index("ix_logs_quarantine_key_id", ["key_id"], unique=False)
        batch_op.create_index("ix_logs_quarantine_key_tenant", ["key_tenant"], unique=False)


def downgrade() -> None:
    op.drop_table("logs_quarantine")
