"""Every service operation, called as every built-in role: allowed or Forbidden + logged."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import pytest
from sqlmodel import Session, delete, select

import console.logs.scheduled  # noqa: F401  (registers the log lake's jobs)
from console.alerts import channel_service as alert_channels
from console.alerts import rule_service as alert_rules
from console.alerts import service as alerts
from console.alerts.models import Alert, AlertRule, NotifyChannel
from console.audit.models import OperationLog
from console.authz import service as authz
from console.backup import settings_service as backup_settings
from console.backup.models import BackupPolicy, BackupTarget
from console.core.actor import Actor
from console.core.db import session_scope
from console.core.errors import Forbidden
from console.core.outbound import OutboundPolicy
from console.core.paging import PageRequest
from console.dictionaries import service as dictionaries
from console.dictionaries.models import DictType
from console.iam import (
    login_log_service,
    org_service,
    policy_service,
    role_service,
    sync_service,
    user_service,
)
from console.iam.models import Organization, Role
from console.jobs import service as jobs
from console.tenancy import service as tenancy
from console.tenancy.models import TenantStatus
from tests.support.world import XIHU, World, add_user, builtin_roles

_numbers = itertools.count(1)
SEAL_JOB = "logs.seal"


def _victim() -> int:
    return add_user(f"victim{next(_numbers)}", XIHU)


def _custom_role() -> str:
    code = f"custom{next(_numbers)}"
    with session_scope() as session:
        session.add(Role(code=code, name="自定义", category="业务"))
        authz.set_role_permissions(
            session, role_code=code, permissions={("dashboards.overview", "read")}
        )
    return code


def _backup_target() -> None:
    """One enabled target, so 立即备份 has somewhere to write (none waiting yet)."""
    with session_scope() as session:
        session.exec(delete(BackupPolicy))  # type: ignore[call-overload]
        if session.exec(select(BackupTarget)).first() is None:
            session.add(BackupTarget(name="矩阵", kind="directory", location="/mnt/backup"))


def _new_tenant_code() -> str:
    return f"3301{next(_numbers) % 90 + 10:02d}"


Operation = Callable[[Session, Actor], object]

OPERATIONS: dict[str, tuple[tuple[str, str], Callable[[], Operation]]] = {
    "list_backup_targets": (
        ("system.backup", "read"),
        lambda: lambda s, a: backup_settings.list_targets(session=s, actor=a),
    ),
    "list_backup_runs": (
        ("system.backup", "read"),
        lambda: lambda s, a: backup_settings.list_runs(session=s, actor=a, request=PageRequest()),
    ),
    "save_backup_target": (
        ("system.backup", "write"),
        lambda: (
            lambda n: (
                lambda s, a: backup_settings.save_target(
                    session=s,
                    actor=a,
                    draft=backup_settings.TargetDraft(
                        name=f"目标{n}", kind="directory", location=f"/mnt/backup/{n}"
                    ),
                )
            )
        )(next(_numbers)),
    ),
    "save_backup_policy": (
        ("system.backup", "write"),
        lambda: (
            lambda s, a: backup_settings.save_policy(
                session=s, actor=a, cron="30 2 * * *", daily=7, weekly=4, monthly=12
            )
        ),
    ),
    "request_backup": (
        ("system.backup", "execute"),
        lambda: (
            lambda _target: (
                lambda s, a: backup_settings.request_now(session=s, actor=a, kind="backup")
            )
        )(_backup_target()),
    ),
    "list_tenants": (
        ("tenancy.tenants", "read"),
        lambda: lambda s, a: tenancy.list_tenants(session=s, actor=a),
    ),
    "create_tenant": (
        ("tenancy.tenants", "write"),
        lambda: (
            lambda code: (
                lambda s, a: tenancy.create_tenant(
                    session=s,
                    actor=a,
                    draft=tenancy.TenantDraft(code=code, name="测试县"),
                    division_problem=None,
                )
            )
        )(_new_tenant_code()),
    ),
    "suspend_tenant": (
        ("tenancy.tenants", "write"),
        lambda: (
            lambda s, a: tenancy.set_tenant_status(
                session=s, actor=a, code=XIHU, status=TenantStatus.ACTIVE, reason="矩阵测试"
            )
        ),
    ),
    "list_users": (
        ("iam.users", "read"),
        lambda: lambda s, a: user_service.list_users(session=s, actor=a),
    ),
    "create_user": (
        ("iam.users", "write"),
        lambda: (
            lambda n: (
                lambda s, a: user_service.create_user(
                    session=s,
                    actor=a,
                    draft=user_service.UserDraft(
                        account=f"newbie{n}", real_name="赵六", tenant_code=XIHU
                    ),
                )
            )
        )(next(_numbers)),
    ),
    "disable_user": (
        ("iam.users", "write"),
        lambda: (
            lambda uid: (
                lambda s, a: user_service.set_status(session=s, actor=a, user_id=uid, enabled=False)
            )
        )(_victim()),
    ),
    "unlock_user": (
        ("iam.users", "unlock"),
        lambda: (
            lambda uid: lambda s, a: user_service.unlock_and_reset(session=s, actor=a, user_id=uid)
        )(_victim()),
    ),
    "assign_roles": (
        ("iam.users", "grant"),
        lambda: (
            lambda uid: (
                lambda s, a: user_service.assign_roles(
                    session=s, actor=a, user_id=uid, roles=("window_clerk",)
                )
            )
        )(_victim()),
    ),
    "reveal": (
        ("iam.users", "unmask"),
        lambda: (
            lambda uid: (
                lambda s, a: user_service.reveal(
                    session=s, actor=a, user_id=uid, field_name="real_name", reason="核对身份信息"
                )
            )
        )(_victim()),
    ),
    "list_roles": (
        ("iam.roles", "read"),
        lambda: lambda s, a: role_service.list_roles(session=s, actor=a),
    ),
    "create_role": (
        ("iam.roles", "write"),
        lambda: (
            lambda n: (
                lambda s, a: role_service.create_role(
                    session=s, actor=a, code=f"made{n}", name="新角色", category="业务"
                )
            )
        )(next(_numbers)),
    ),
    "edit_role": (
        ("iam.roles", "write"),
        lambda: (
            lambda code: (
                lambda s, a: role_service.set_permissions(
                    session=s, actor=a, code=code, permissions={("dashboards.statistics", "read")}
                )
            )
        )(_custom_role()),
    ),
    "delete_role": (
        ("iam.roles", "delete"),
        lambda: (lambda code: lambda s, a: role_service.delete_role(session=s, actor=a, code=code))(
            _custom_role()
        ),
    ),
    "effective_permissions": (
        ("iam.roles", "read"),
        lambda: (
            lambda uid: (
                lambda s, a: user_service.effective_permissions(session=s, actor=a, user_id=uid)
            )
        )(_victim()),
    ),
}


def _org() -> int:
    with session_scope() as session:
        org = Organization(tenant_code=XIHU, name=f"机构{next(_numbers)}", kind="other")
        session.add(org)
        session.flush()
        assert org.id is not None
        return org.id


def _sync_record() -> list[dict[str, str]]:
    return [{"account": f"synced{next(_numbers)}", "real_name": "周九", "tenant_code": XIHU}]


def _dict_type() -> str:
    with session_scope() as session:
        if session.exec(select(DictType).where(DictType.code == "matrix")).first() is None:
            session.add(DictType(code="matrix", name="测试字典", tenant_extensible=True))
    return "matrix"


def _current_policy(session: Session) -> dict[str, int]:
    return dataclasses.asdict(policy_service.effective_policy(session))


OPERATIONS.update(
    {
        "org_tree": (
            ("iam.organizations", "read"),
            lambda: lambda s, a: org_service.org_tree(session=s, actor=a),
        ),
        "create_org": (
            ("iam.organizations", "write"),
            lambda: (
                lambda s, a: org_service.create_org(
                    session=s,
                    actor=a,
                    draft=org_service.OrgDraft(
                        tenant_code=XIHU, name="西湖区不动产登记中心", kind="registry"
                    ),
                )
            ),
        ),
        "delete_org": (
            ("iam.organizations", "delete"),
            lambda: (
                lambda oid: lambda s, a: org_service.delete_org(session=s, actor=a, org_id=oid)
            )(_org()),
        ),
        "sync_users": (
            ("iam.users", "write"),
            lambda: (
                lambda rows: lambda s, a: sync_service.sync_users(session=s, actor=a, records=rows)
            )(_sync_record()),
        ),
        "read_policy": (
            ("system.settings", "read"),
            lambda: lambda s, a: policy_service.read_policy(session=s, actor=a),
        ),
        "update_policy": (
            ("system.settings", "write"),
            lambda: (
                lambda s, a: policy_service.update_policy(
                    session=s, actor=a, values=_current_policy(s)
                )
            ),
        ),
        "export_users": (
            ("iam.users", "export"),
            lambda: lambda s, a: user_service.export_users(session=s, actor=a),
        ),
        "export_orgs": (
            ("iam.organizations", "export"),
            lambda: lambda s, a: org_service.export_orgs(session=s, actor=a),
        ),
        "dictionary_types": (
            ("dictionaries.items", "read"),
            lambda: lambda s, a: dictionaries.list_types(session=s, actor=a),
        ),
        "add_dictionary_item": (
            ("dictionaries.items", "write"),
            lambda: (
                lambda n: (
                    lambda s, a: dictionaries.add_item(
                        session=s,
                        actor=a,
                        type_code=_dict_type(),
                        draft=dictionaries.ItemDraft(code=f"c{n}", label="测试项"),
                        local=True,
                    )
                )
            )(next(_numbers)),
        ),
        "login_log": (
            ("iam.login_log", "read"),
            lambda: lambda s, a: login_log_service.list_login_events(session=s, actor=a),
        ),
        "list_jobs": (
            ("system.jobs", "read"),
            lambda: lambda s, a: jobs.list_jobs(session=s, actor=a),
        ),
        "list_job_runs": (
            ("system.jobs", "read"),
            lambda: lambda s, a: jobs.list_runs(session=s, actor=a),
        ),
        "run_job_now": (
            ("system.jobs", "execute"),
            lambda: lambda s, a: jobs.request_run(session=s, actor=a, job=SEAL_JOB),
        ),
    }
)


def _alert(kind: str = "tenant_silent", tenant: str = XIHU, pending: str = "") -> int:
    """A fresh firing alert in 西湖区 (or province-level), on a rule of its own."""
    n = next(_numbers)
    with session_scope() as session:
        rule = AlertRule(name=f"矩阵{n}", kind=kind, tenant_code=tenant)
        session.add(rule)
        session.flush()
        alert = Alert(rule_id=rule.id or 0, fingerprint=f"m{n}", kind=kind, subject=f"s{n}",
                      tenant_code=tenant, severity="major", pending_resolve_by=pending)  # fmt: skip
        session.add(alert)
        session.flush()
        return alert.id or 0


def _alert_rule() -> int:
    with session_scope() as session:
        rule = AlertRule(name=f"矩阵规则{next(_numbers)}", kind="exception_burst", tenant_code=XIHU)
        session.add(rule)
        session.flush()
        return rule.id or 0


def _notify_channel() -> int:
    with session_scope() as session:
        channel = NotifyChannel(name=f"矩阵渠道{next(_numbers)}", kind="email", tenant_code=XIHU,
                                config='{"host": "203.0.113.5", "port": "25", "security": "none",'
                                       ' "sender": "ops@example.gov.cn"}')  # fmt: skip
        session.add(channel)
        session.flush()
        return channel.id or 0


_NO_WAY_OUT = OutboundPolicy()  # 测试发送 in the matrix reaches nothing
_DOCS_NET = OutboundPolicy.parse("203.0.113.0/24")


def _rule_draft() -> alert_rules.RuleDraft:
    return alert_rules.RuleDraft(
        name=f"矩阵异常{next(_numbers)}", kind="exception_burst", tenant_code=XIHU,
        params={"count": "20", "minutes": "5"},
    )  # fmt: skip


def _channel_draft() -> alert_channels.ChannelDraft:
    return alert_channels.ChannelDraft(
        name=f"矩阵邮箱{next(_numbers)}", kind="email", tenant_code=XIHU,
        config={"host": "203.0.113.5", "port": "25", "security": "none",
                "sender": "ops@example.gov.cn"},
        recipients=("duty@example.gov.cn",),
    )  # fmt: skip


OPERATIONS.update(
    {
        "list_alerts": (
            ("ops.alerts", "read"),
            lambda: (
                lambda s, a: alerts.list_alerts(
                    session=s, actor=a, where=alerts.AlertFilter(), request=PageRequest()
                )
            ),
        ),
        "acknowledge_alert": (
            ("ops.alerts", "write"),
            lambda: (lambda aid: lambda s, a: alerts.acknowledge(session=s, actor=a, alert_id=aid))(
                _alert()
            ),
        ),
        "confirm_integrity_resolve": (
            ("ops.alerts", "approve"),
            lambda: (lambda aid: lambda s, a: alerts.confirm(session=s, actor=a, alert_id=aid))(
                _alert("chain_break", "", pending="someone_else")
            ),
        ),
        "list_alert_rules": (
            ("ops.alert_rules", "read"),
            lambda: lambda s, a: alert_rules.list_rules(session=s, actor=a),
        ),
        "save_alert_rule": (
            ("ops.alert_rules", "write"),
            lambda: (lambda d: lambda s, a: alert_rules.save_rule(session=s, actor=a, draft=d))(
                _rule_draft()
            ),
        ),
        "delete_alert_rule": (
            ("ops.alert_rules", "delete"),
            lambda: (
                lambda rid: lambda s, a: alert_rules.delete_rule(session=s, actor=a, rule_id=rid)
            )(_alert_rule()),
        ),
        "list_notify_channels": (
            ("ops.alert_rules", "read"),
            lambda: lambda s, a: alert_channels.list_channels(session=s, actor=a),
        ),
        "save_notify_channel": (
            ("ops.alert_rules", "write"),
            lambda: (
                lambda d: (
                    lambda s, a: alert_channels.save_channel(
                        session=s, actor=a, draft=d, policy=_DOCS_NET
                    )
                )
            )(_channel_draft()),
        ),
        "test_notify_channel": (
            ("ops.alert_rules", "execute"),
            lambda: (
                lambda cid: (
                    lambda s, a: alert_channels.test_channel(
                        session=s, actor=a, channel_id=cid, policy=_NO_WAY_OUT
                    )
                )
            )(_notify_channel()),
        ),
    }
)


def _denials(account: str, obj: str, action: str) -> int:
    with session_scope() as session:
        rows = session.exec(
            select(OperationLog).where(
                OperationLog.actor_account == account,
                OperationLog.object == obj,
                OperationLog.action == action,
                OperationLog.outcome == "denied",
            )
        ).all()
    return len(rows)


@pytest.mark.parametrize("role", builtin_roles())
def test_every_operation_is_allowed_exactly_as_the_seed_policy_says(
    world: World, role: str
) -> None:
    grants = authz.read_seed_policy()[role]
    actor = world.actor(role)
    for name, ((obj, act), make) in OPERATIONS.items():
        operation = make()
        if (obj, act) in grants:
            with session_scope() as session:
                operation(session, actor)
        else:
            before = _denials(actor.account, obj, act)
            with pytest.raises(Forbidden) as refused, session_scope() as session:
                operation(session, actor)
            assert refused.value.message.startswith("无权限："), name
            assert _denials(actor.account, obj, act) == before + 1, name


def test_every_allowed_write_is_in_the_operation_log(world: World) -> None:
    actor = world.actor("sys_admin")
    with session_scope() as session:
        tenancy.create_tenant(
            session=session,
            actor=actor,
            draft=tenancy.TenantDraft(code="330199", name="测试新区"),
            division_problem=None,
        )
    with session_scope() as session:
        entry = session.exec(select(OperationLog).where(OperationLog.target == "330199")).one()
    assert (entry.actor_account, entry.object, entry.action, entry.outcome) == (
        "u_sys_admin",
        "tenancy.tenants",
        "create",
        "success",
    )
    assert entry.tenant_code == "330199" and entry.ts is not None
