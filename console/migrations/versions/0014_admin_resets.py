"""iam: two-person resets of administrators, the notice their holder reads, idle disabling

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("iam_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("security_notice", _text(500), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("disabled_reason", _text(16), nullable=False, server_default="")
        )
    op.create_table(
        "iam_admin_reset_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _text(16), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", _text(64), nullable=False),
        sa.Column("requested_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("confirmed_by", _text(64), nullable=False),
        sa.Column("confirmed_at", console.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["iam_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("iam_admin_reset_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_iam_admin_reset_request_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_iam_admin_reset_request_status"), ["status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("iam_admin_reset_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iam_admin_reset_request_status"))
        batch_op.drop_index(batch_op.f("ix_iam_admin_reset_request_user_id"))
    op.drop_table("iam_admin_reset_request")
    with op.batch_alter_table("iam_user", schema=None) as batch_op:
        batch_op.drop_column("disabled_reason")
        batch_op.drop_column("security_notice")
