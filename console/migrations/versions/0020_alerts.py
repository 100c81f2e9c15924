"""alerts: rules, alerts and their history, silences, maintenance windows, notification
channels and every notification, the bell's inbox, the leader's heartbeat; ops.* permissions

Built-in rules watch the platform itself from the start (in-console notifications only until
channels are added): log integrity, backups, sealing lag, notification channels failing.
系统管理员 and 县级管理员 (in their county) keep rules and channels; every supervisor and the
security administrator read alerts; 审计管理员 reads them and confirms silences and resolves of
integrity and backup alerts (``ops.alerts`` ``approve``).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import console.core.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GRANTS = {
    ("sys_admin", "ops.alerts", "read"), ("sys_admin", "ops.alerts", "write"),
    ("sys_admin", "ops.alert_rules", "read"), ("sys_admin", "ops.alert_rules", "write"),
    ("sys_admin", "ops.alert_rules", "delete"), ("sys_admin", "ops.alert_rules", "execute"),
    ("county_admin", "ops.alerts", "read"), ("county_admin", "ops.alerts", "write"),
    ("county_admin", "ops.alert_rules", "read"), ("county_admin", "ops.alert_rules", "write"),
    ("county_admin", "ops.alert_rules", "delete"),
    ("county_admin", "ops.alert_rules", "execute"),
    ("sec_admin", "ops.alerts", "read"),
    ("audit_admin", "ops.alerts", "read"), ("audit_admin", "ops.alerts", "approve"),
    ("province_supervisor", "ops.alerts", "read"), ("county_supervisor", "ops.alerts", "read"),
}  # fmt: skip
# (name, kind, severity, params): the platform watching itself from the first start.
_BUILTIN = (
    ("日志完整性校验失败", "chain_break", "critical", "{}"),
    ("备份或恢复校验失败", "backup_failed", "critical", '{"max_age_hours": 26}'),
    ("日志封存滞后", "sealing_lag", "major", '{"hours": 6}'),
    ("通知渠道发送失败", "channel_failing", "major", '{"times": 3}'),
)


def upgrade() -> None:
    op.create_table(
        "alert_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("tenant_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("recipients_enc", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("per_hour", sa.Integer(), nullable=False),
        sa.Column("fail_streak", sa.Integer(), nullable=False),
        sa.Column("last_ok_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("deleted_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", console.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index(
        op.f("ix_alert_channel_tenant_code"), "alert_channel", ["tenant_code"], unique=False
    )
    op.create_table(
        "alert_heartbeat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beat_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("evaluated_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("evaluation_ms", sa.Integer(), nullable=False),
        sa.Column("pushed_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("push_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "alert_maintenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tenant_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("starts_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("tenant_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel_ids", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("escalate_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "escalate_channel_ids", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False
        ),
        sa.Column("quiet_minutes", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", console.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_alert_rule_kind"), "alert_rule", ["kind"], unique=False)
    op.create_index(op.f("ix_alert_rule_tenant_code"), "alert_rule", ["tenant_code"], unique=False)
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("subject_label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("tenant_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("first_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("last_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("acked_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("acked_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("resolved_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("notified_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("escalated_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column(
            "pending_resolve_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rule.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_alert_fingerprint"), "alert", ["fingerprint"], unique=False)
    op.create_index(op.f("ix_alert_kind"), "alert", ["kind"], unique=False)
    op.create_index(op.f("ix_alert_rule_id"), "alert", ["rule_id"], unique=False)
    op.create_index(op.f("ix_alert_severity"), "alert", ["severity"], unique=False)
    op.create_index(op.f("ix_alert_state"), "alert", ["state"], unique=False)
    op.create_index(op.f("ix_alert_tenant_code"), "alert", ["tenant_code"], unique=False)
    op.create_table(
        "alert_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("alert_ids", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("sent_at", console.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["alert_channel.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_alert_notification_channel_id"), "alert_notification", ["channel_id"], unique=False
    )
    op.create_index(
        op.f("ix_alert_notification_state"), "alert_notification", ["state"], unique=False
    )
    op.create_table(
        "alert_silence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("tenant_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("ends_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("needs_confirmation", sa.Boolean(), nullable=False),
        sa.Column("confirmed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("confirmed_at", console.core.db.UTCDateTime(), nullable=True),
        sa.Column("ended_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rule.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_alert_silence_rule_id"), "alert_silence", ["rule_id"], unique=False)
    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("ts", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_alert_event_alert_id"), "alert_event", ["alert_id"], unique=False)
    op.create_table(
        "alert_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", console.core.db.UTCDateTime(), nullable=False),
        sa.Column("read_at", console.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "alert_id", "purpose", name="uq_alert_inbox"),
    )
    op.create_index(op.f("ix_alert_inbox_alert_id"), "alert_inbox", ["alert_id"], unique=False)
    op.create_index(op.f("ix_alert_inbox_user_id"), "alert_inbox", ["user_id"], unique=False)

    _builtin_rules()
    _grant()


def _builtin_rules() -> None:
    names = ("name", "kind", "tenant_code", "params", "severity", "channel_ids",
             "escalate_minutes", "escalate_channel_ids", "quiet_minutes", "enabled", "builtin",
             "updated_by")  # fmt: skip
    rule = sa.table(
        "alert_rule",
        *(sa.column(c) for c in names),
        sa.column("updated_at", console.core.db.UTCDateTime()),
    )
    now = datetime.now(UTC)
    for name, kind, severity, params in _BUILTIN:
        op.execute(
            rule.insert().values(
                name=name, kind=kind, tenant_code="", params=params, severity=severity,
                channel_ids="", escalate_minutes=0, escalate_channel_ids="", quiet_minutes=30,
                enabled=True, builtin=True, updated_by="system", updated_at=now,
            )
        )  # fmt: skip


def _grant() -> None:
    """Existing databases: the built-in roles (if seeded) get their share."""
    rule = sa.table("casbin_rule", *(sa.column(c) for c in ("ptype", "v0", "v1", "v2", "v3")))
    role = sa.table("iam_role", sa.column("code"))
    connection = op.get_bind()
    seeded = set(connection.execute(sa.select(role.c.code)).scalars())
    held = set(
        connection.execute(
            sa.select(rule.c.v0, rule.c.v2, rule.c.v3).where(
                rule.c.ptype == "p", rule.c.v1 == "*", rule.c.v2.like("ops.%")
            )
        ).all()
    )
    for code, obj, action in sorted(_GRANTS):
        if code in seeded and (f"role:{code}", obj, action) not in held:
            op.execute(
                rule.insert().values(ptype="p", v0=f"role:{code}", v1="*", v2=obj, v3=action)
            )


def downgrade() -> None:
    rule = sa.table("casbin_rule", sa.column("v2"))
    op.execute(rule.delete().where(rule.c.v2.like("ops.%")))
    op.drop_index(op.f("ix_alert_inbox_user_id"), table_name="alert_inbox")
    op.drop_index(op.f("ix_alert_inbox_alert_id"), table_name="alert_inbox")
    op.drop_table("alert_inbox")
    op.drop_index(op.f("ix_alert_event_alert_id"), table_name="alert_event")
    op.drop_table("alert_event")
    op.drop_index(op.f("ix_alert_silence_rule_id"), table_name="alert_silence")
    op.drop_table("alert_silence")
    op.drop_index(op.f("ix_alert_notification_state"), table_name="alert_notification")
    op.drop_index(op.f("ix_alert_notification_channel_id"), table_name="alert_notification")
    op.drop_table("alert_notification")
    op.drop_index(op.f("ix_alert_tenant_code"), table_name="alert")
    op.drop_index(op.f("ix_alert_state"), table_name="alert")
    op.drop_index(op.f("ix_alert_severity"), table_name="alert")
    op.drop_index(op.f("ix_alert_rule_id"), table_name="alert")
    op.drop_index(op.f("ix_alert_kind"), table_name="alert")
    op.drop_index(op.f("ix_alert_fingerprint"), table_name="alert")
    op.drop_table("alert")
    op.drop_index(op.f("ix_alert_rule_tenant_code"), table_name="alert_rule")
    op.drop_index(op.f("ix_alert_rule_kind"), table_name="alert_rule")
    op.drop_table("alert_rule")
    op.drop_table("alert_maintenance")
    op.drop_table("alert_heartbeat")
    op.drop_index(op.f("ix_alert_channel_tenant_code"), table_name="alert_channel")
    op.drop_table("alert_channel")
