"""system: the outbound allow-list kept on 系统设置; system.outbound for sys_admin

The built-in 系统管理员 role gets ``system.outbound`` ``read`` and ``write`` (the seed grants
both to new databases), the way 0012 granted ``system.jobs``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OBJ = "system.outbound"
_ROLE = "role:sys_admin"


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "system_outbound_allow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entries", _text(2000), nullable=False),
        sa.Column("updated_by", _text(64), nullable=False),
        sa.Column("updated_at", console.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _grant()


def _grant() -> None:
    """Existing databases: the built-in 系统管理员 (if seeded) keeps the list."""
    rule = sa.table("casbin_rule", *(sa.column(c) for c in ("ptype", "v0", "v1", "v2", "v3")))
    role = sa.table("iam_role", sa.column("code"))
    connection = op.get_bind()
    seeded = connection.execute(sa.select(role.c.code).where(role.c.code == "sys_admin")).first()
    if seeded is None:
        return  # a new database: the seed grants it with the role
    held = set(
        connection.execute(
            sa.select(rule.c.v3).where(
                rule.c.ptype == "p", rule.c.v0 == _ROLE, rule.c.v1 == "*", rule.c.v2 == _OBJ
            )
        ).scalars()
    )
    for action in ("read", "write"):
        if action not in held:
            op.execute(rule.insert().values(ptype="p", v0=_ROLE, v1="*", v2=_OBJ, v3=action))


def downgrade() -> None:
    rule = sa.table("casbin_rule", sa.column("v2"))
    op.execute(rule.delete().where(rule.c.v2 == _OBJ))
    op.drop_table("system_outbound_allow")
