"""reports: generated reports and report subscriptions; reports.center:generate

Roles that could download reports may now generate them too (the seed grants both to
supervisors); a ``reports.center:write`` grant, the action's old name, becomes ``generate``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition", _text(length=40), nullable=False),
        sa.Column("title", _text(length=100), nullable=False),
        sa.Column("tenant_code", _text(length=6), nullable=False),
        sa.Column("scope_label", _text(length=60), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("period_label", _text(length=40), nullable=False),
        sa.Column("status", _text(length=10), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("trigger", _text(length=10), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_name", _text(length=100), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("formats", _text(length=40), nullable=False),
        sa.Column("note", _text(length=500), nullable=False),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", console.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["requested_by"], ["iam_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "period_start", name="uq_report_subscription"),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        for column in ("definition", "tenant_code", "period_start", "status", "requested_by",
                       "subscription_id"):  # fmt: skip
            batch_op.create_index(batch_op.f(f"ix_report_{column}"), [column], unique=False)
    op.create_table(
        "report_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition", _text(length=40), nullable=False),
        sa.Column("tenant_code", _text(length=6), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["iam_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition", "tenant_code", "user_id", name="uq_report_order"),
    )
    with op.batch_alter_table("report_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_subscription_user_id"), ["user_id"], unique=False
        )

    _grant_generate()


def _grant_generate() -> None:
    rule = sa.table("casbin_rule", *(sa.column(c) for c in ("ptype", "v0", "v1", "v2", "v3")))
    reports = rule.c.v2 == "reports.center"
    op.execute(rule.update().where(reports, rule.c.v3 == "write").values(v3="generate"))
    connection = op.get_bind()
    holders = connection.execute(
        sa.select(rule.c.v0, rule.c.v1).where(rule.c.ptype == "p", reports, rule.c.v3 == "export")
    ).all()
    granted = set(
        connection.execute(
            sa.select(rule.c.v0, rule.c.v1).where(
                rule.c.ptype == "p", reports, rule.c.v3 == "generate"
            )
        ).all()
    )
    for subject, domain in holders:
        if (subject, domain) not in granted:
            op.execute(
                rule.insert().values(
                    ptype="p", v0=subject, v1=domain, v2="reports.center", v3="generate"
                )
            )


def downgrade() -> None:
    op.drop_table("report_subscription")
    op.drop_table("report")
