"""workflows: versioned business and workflow definitions, province templates and overrides

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "wf_definition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _text(16), nullable=False),
        sa.Column("key", _text(40), nullable=False),
        sa.Column("tenant_code", _text(6), nullable=False),
        sa.Column("name", _text(60), nullable=False),
        sa.Column("reverted_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("overridden_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("created_by", _text(64), nullable=False),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "key", "tenant_code", name="uq_wf_definition"),
    )
    with op.batch_alter_table("wf_definition", schema=None) as batch_op:
        for column in ("kind", "key", "tenant_code"):
            batch_op.create_index(batch_op.f(f"ix_wf_definition_{column}"), [column])
    op.create_table(
        "wf_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("based_on", _text(80), nullable=False),
        sa.Column("note", _text(200), nullable=False),
        sa.Column("created_by", _text(64), nullable=False),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("published_by", _text(64), nullable=False),
        sa.Column("published_at", console.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["definition_id"], ["wf_definition.id"], name="fk_wf_version_definition"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition_id", "number", name="uq_wf_version_number"),
    )
    with op.batch_alter_table("wf_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wf_version_definition_id"), ["definition_id"])
        batch_op.create_index(
            "uq_wf_version_one_draft",
            ["definition_id"],
            unique=True,
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )

    _guard_versions()


# The database itself refuses to change a settled version or delete any, so not even SQL
# typed past the console can rewrite a workflow that registration systems were served.
_SQLITE_GUARDS = (
    "CREATE TRIGGER wf_version_settled BEFORE UPDATE ON wf_version WHEN OLD.status <> 'draft' "
    "BEGIN SELECT RAISE(ABORT, 'wf_version: a published or discarded version never changes'); "
    "END",
    "CREATE TRIGGER wf_version_kept BEFORE DELETE ON wf_version "
    "BEGIN SELECT RAISE(ABORT, 'wf_version: versions are never deleted'); END",
)
_POSTGRES_GUARD = """
CREATE FUNCTION wf_version_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'wf_version: versions are never deleted';
    END IF;
    IF OLD.status <> 'draft' THEN
        RAISE EXCEPTION 'wf_version: a published or discarded version never changes';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER wf_version_guard BEFORE UPDATE OR DELETE ON wf_version
    FOR EACH ROW EXECUTE FUNCTION wf_version_guard();
"""


def _guard_versions() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_GUARD)
    else:
        for statement in _SQLITE_GUARDS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS wf_version_guard ON wf_version")
        op.execute("DROP FUNCTION IF EXISTS wf_version_guard()")
    op.drop_table("wf_version")
    op.drop_table("wf_definition")
