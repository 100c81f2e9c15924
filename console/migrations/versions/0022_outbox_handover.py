"""sharing outbox: who handed a record over, its failed pushes, and payloads SM4-encrypted

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import console.core.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sharing_outbox") as table:
        table.add_column(sa.Column("source", sa.String(64), nullable=False, server_default=""))
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("failed_at", console.core.db.UTCDateTime(), nullable=True))
        table.add_column(sa.Column("last_error", sa.String(500), nullable=False, server_default=""))
    _encrypt_plain_payloads()


def _encrypt_plain_payloads() -> None:
    """Records queued before this revision were stored as plain JSON: seal them now."""
    bind = op.get_bind()
    plain = bind.execute(
        sa.text("SELECT id, payload FROM sharing_outbox WHERE payload NOT LIKE 'sm4gcm1:%'")
    ).all()
    if not plain:
        return
    from console.core.crypto import keyring  # only when there is something to seal

    ring = keyring()
    for row_id, payload in plain:
        bind.execute(
            sa.text("UPDATE sharing_outbox SET payload = :payload WHERE id = :id"),
            {"payload": ring.encrypt(payload), "id": row_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("sharing_outbox") as table:
        table.drop_column("last_error")
        table.drop_column("failed_at")
        table.drop_column("attempts")
        table.drop_column("source")
