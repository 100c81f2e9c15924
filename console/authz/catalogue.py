"""The one permission catalogue: every object (page or resource) and the actions it allows."""

from __future__ import annotations

from dataclasses import dataclass

ACTION_LABELS: dict[str, str] = {
    "read": "查看",
    "write": "新增/修改",
    "delete": "删除",
    "export": "导出",
    "unmask": "查看明文个人信息",
    "approve": "审批",
    "unlock": "解锁/重置密码",
    "grant": "授权",
    "execute": "执行",
    "generate": "生成",
}


@dataclass(frozen=True, slots=True)
class Resource:
    """A permission object: ``code`` as used in policies, Chinese label, allowed actions."""

    code: str
    label: str
    group: str
    actions: tuple[str, ...]


CATALOGUE: tuple[Resource, ...] = (
    Resource("dashboards.overview", "概览", "综合监管", ("read",)),
    Resource("dashboards.statistics", "统计分析", "综合监管", ("read", "export")),
    Resource("reports.center", "报表中心", "综合监管", ("read", "generate", "export")),
    Resource("tenancy.tenants", "租户管理", "系统管理", ("read", "write")),
    Resource("iam.organizations", "组织机构", "系统管理", ("read", "write", "delete", "export")),
    Resource("iam.users", "用户管理", "系统管理",
             ("read", "write", "export", "unmask", "unlock", "grant")),
    Resource("iam.roles", "角色权限", "系统管理", ("read", "write", "delete")),
    Resource("dictionaries.items", "数据字典", "配置管理", ("read", "write", "delete", "export")),
    Resource("interfaces.registry", "接口管理", "配置管理", ("read", "write", "delete")),
    Resource("interfaces.channels", "机构通道", "配置管理", ("read", "write", "approve")),
    Resource("interfaces.keys", "接入密钥", "配置管理", ("read", "write")),
    Resource("interfaces.tasks", "共享任务", "配置管理", ("read", "write", "execute")),
    Resource("workflows.definitions", "流程配置", "配置管理", ("read", "write", "approve")),
    Resource("audit.logs", "日志审计", "安全审计", ("read", "export")),
    Resource("iam.login_log", "登录日志", "安全审计", ("read", "export")),
    Resource("system.settings", "系统设置", "安全审计", ("read", "write")),
    Resource("system.jobs", "系统任务", "安全审计", ("read", "execute")),
    Resource("system.outbound", "对外访问白名单", "安全审计", ("read", "write")),
    Resource("system.backup", "备份与恢复", "安全审计", ("read", "write", "execute")),
    # approve: confirm a silence or resolve of an integrity or backup alert (the auditor).
    Resource("ops.alerts", "告警中心", "运维监控", ("read", "write", "approve")),
    Resource("ops.alert_rules", "告警规则与通知渠道", "运维监控",
             ("read", "write", "delete", "execute")),
)  # fmt: skip

_BY_CODE = {resource.code: resource for resource in CATALOGUE}


def resource(code: str) -> Resource:
    """The catalogue entry for ``code``; KeyError for an unknown object (a programming error)."""
    return _BY_CODE[code]


def describe(obj: str, act: str) -> str:
    """Chinese phrase for a permission, e.g. ``用户管理 · 导出``."""
    return f"{resource(obj).label} · {ACTION_LABELS[act]}"


def all_permissions() -> list[tuple[str, str]]:
    """Every (object, action) pair the catalogue allows."""
    return [(r.code, act) for r in CATALOGUE for act in r.actions]
