"""dictionary items: 所属类别 (a business code's 登记类型, taken from the dictionary, never
from the code's first digits)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dict_item") as table:
        table.add_column(sa.Column("category", sa.String(32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("dict_item") as table:
        table.drop_column("category")
