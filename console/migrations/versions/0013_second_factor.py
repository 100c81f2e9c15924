"""iam: second factor (TOTP seed, recovery codes), per-role requirement, token-only accounts

Existing databases: the three administrators and 省级监管 require a second factor, as the
seed sets for new ones.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BY_DEFAULT = ("sys_admin", "sec_admin", "audit_admin", "province_supervisor")


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("iam_role", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "require_second_factor", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("iam_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("token_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "iam_second_factor",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_enc", _text(255), nullable=False),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["iam_user.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "iam_recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_digest", _text(64), nullable=False),
        sa.Column("used_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["iam_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_digest"),
    )
    with op.batch_alter_table("iam_recovery_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_iam_recovery_code_user_id"), ["user_id"], unique=False)
    role = sa.table("iam_role", sa.column("code"), sa.column("require_second_factor"))
    op.execute(role.update().where(role.c.code.in_(_BY_DEFAULT)).values(require_second_factor=True))


def downgrade() -> None:
    with op.batch_alter_table("iam_recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iam_recovery_code_user_id"))
    op.drop_table("iam_recovery_code")
    op.drop_table("iam_second_factor")
    with op.batch_alter_table("iam_user", schema=None) as batch_op:
        batch_op.drop_column("token_only")
    with op.batch_alter_table("iam_role", schema=None) as batch_op:
        batch_op.drop_column("require_second_factor")
