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
        table.add_column(
            sa.Column("source_tenant", sa.String(6), nullable=False, server_default="")
        )
        table.create_index("ix_sharing_outbox_source_tenant", ["source_tenant"])
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("failed_at", console.core.db.UTCDateTime(), nullable=True))
        table.add_column(sa.Column("last_error", sa.String(500), nullable=False, server_default=""))
    _encrypt_plain_payloads()


_BATCH = 1000


def _rewrite_payloads(*, sealed: bool) -> None:
    """Seal plain payloads (upgrade) or open sealed ones (downgrade), a batch at a time."""
    bind = op.get_bind()
    condition = "LIKE" if sealed else "NOT LIKE"
    last_id = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, payload FROM sharing_outbox WHERE payload {condition} 'sm4gcm1:%' "
                "AND id > :last ORDER BY id LIMIT :batch"
            ),
            {"last": last_id, "batch": _BATCH},
        ).all()
        if not rows:
            return
        from console.core.crypto import keyring  # only when there is something to rewrite

        ring = keyring()
        for row_id, payload in rows:
            bind.execute(
                sa.text("UPDATE sharing_outbox SET payload = :payload WHERE id = :id"),
                {
                    "payload": ring.decrypt(payload) if sealed else ring.encrypt(payload),
                    "id": row_id,
                },
            )
        last_id = rows[-1][0]


def _encrypt_plain_payloads() -> None:
    """Records queued before this revision were stored as plain JSON: seal them now."""
    _rewrite_payloads(sealed=False)


def downgrade() -> None:
    _rewrite_payloads(sealed=True)  # the code before this revision reads plain JSON
    with op.batch_alter_table("sharing_outbox") as table:
        table.drop_index("ix_sharing_outbox_source_tenant")
        table.drop_column("source_tenant")
        table.drop_column("last_error")
        table.drop_column("failed_at")
        table.drop_column("attempts")
        table.drop_column("source")
