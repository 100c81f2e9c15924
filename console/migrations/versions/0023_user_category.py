"""users: category (业务人员 / 申请人 / 共享部门联系人); every existing account is staff

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("iam_user") as table:
        table.add_column(
            sa.Column("category", sa.String(16), nullable=False, server_default="staff")
        )
        table.create_index("ix_iam_user_category", ["category"])


def downgrade() -> None:
    with op.batch_alter_table("iam_user") as table:
        table.drop_index("ix_iam_user_category")
        table.drop_column("category")
