"""The product's sections: one catalogue feeds the sidebar, routes, breadcrumbs and tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Section:
    """One sidebar entry and the page behind it."""

    key: str
    label: str
    route: str
    icon: str
    group: str
    summary: str
    # Permission object whose ``read`` shows the page (console/authz/catalogue.py).
    obj: str


SECTIONS: tuple[Section, ...] = (
    Section(
        "overview",
        "概览",
        "/",
        "layout-dashboard",
        "综合监管",
        "全省办件、时效、共享接口的关键指标一览",
        "dashboards.overview",
    ),
    Section(
        "statistics",
        "统计分析",
        "/statistics",
        "chart-column",
        "综合监管",
        "按地区、时间、登记类型、渠道统计办件",
        "dashboards.statistics",
    ),
    Section(
        "timeliness",
        "办理时效",
        "/statistics/timeliness",
        "timer",
        "综合监管",
        "各业务办理时长、按时办结率、超期办结与超期未办结办件",
        "dashboards.statistics",
    ),
    Section(
        "interface_monitor",
        "共享接口监测",
        "/statistics/interfaces",
        "activity",
        "综合监管",
        "各部门共享接口的调用量、成功率、时延与中断",
        "dashboards.statistics",
    ),
    Section(
        "channel_stats",
        "机构通道统计",
        "/statistics/channels",
        "landmark",
        "综合监管",
        "银行、开发企业、经纪与代理机构的办件量、驳回率与调用被拒率",
        "dashboards.statistics",
    ),
    Section(
        "reports",
        "报表中心",
        "/reports",
        "file-text",
        "综合监管",
        "月度、季度监管报表的生成与下载",
        "reports.center",
    ),
    Section(
        "tenants",
        "租户管理",
        "/tenants",
        "building-2",
        "系统管理",
        "按区县划分的租户，数据相互隔离",
        "tenancy.tenants",
    ),
    Section(
        "organizations",
        "组织机构",
        "/organizations",
        "network",
        "系统管理",
        "登记机构、共享部门、银行、开发企业等机构树",
        "iam.organizations",
    ),
    Section(
        "users",
        "用户管理",
        "/users",
        "users",
        "系统管理",
        "账号、所属机构、岗位与角色",
        "iam.users",
    ),
    Section(
        "roles",
        "角色权限",
        "/roles",
        "shield-check",
        "系统管理",
        "角色、权限目录与三员分立",
        "iam.roles",
    ),
    Section(
        "dictionaries",
        "数据字典",
        "/dictionaries",
        "book-open",
        "配置管理",
        "行政区划、登记类型等字典及导入导出",
        "dictionaries.items",
    ),
    Section(
        "interfaces",
        "接口管理",
        "/interfaces",
        "plug",
        "配置管理",
        "登记系统接入与部门共享接口登记",
        "interfaces.registry",
    ),
    Section(
        "api_keys",
        "接入密钥",
        "/api-keys",
        "key-round",
        "配置管理",
        "登记系统与机构调用本平台接口的密钥：创建、轮换、吊销",
        "interfaces.keys",
    ),
    Section(
        "channels",
        "机构通道",
        "/channels",
        "landmark",
        "配置管理",
        "银行、开发企业、经纪与代理机构的直连通道",
        "interfaces.channels",
    ),
    Section(
        "sharing_tasks",
        "共享任务",
        "/sharing-tasks",
        "send",
        "配置管理",
        "向税务、交易等部门推送登记结果的任务及其执行",
        "interfaces.tasks",
    ),
    Section(
        "workflows",
        "流程配置",
        "/workflows",
        "workflow",
        "配置管理",
        "业务定义、可视化流程设计、表单、材料与意见模板",
        "workflows.definitions",
    ),
    Section(
        "audit",
        "日志审计",
        "/audit",
        "scroll-text",
        "安全审计",
        "操作日志、接口调用日志、异常日志的检索、追溯与导出",
        "audit.logs",
    ),
    Section(
        "log_retention",
        "日志保全",
        "/log-retention",
        "shield",
        "安全审计",
        "各类日志的保存范围、按月数量、缺失日期、下一次清理与防篡改校验",
        "audit.logs",
    ),
    Section(
        "login_log",
        "登录日志",
        "/login-log",
        "log-in",
        "安全审计",
        "每一次登录、失败、锁定与退出的记录",
        "iam.login_log",
    ),
    Section(
        "settings",
        "系统设置",
        "/settings",
        "settings",
        "安全审计",
        "安全策略与运行参数",
        "system.settings",
    ),
    Section(
        "backup",
        "备份与恢复",
        "/system-backup",
        "database-backup",
        "安全审计",
        "加密备份、异地副本、定时计划与保留、每次备份后的恢复校验",
        "system.backup",
    ),
    Section(
        "alerts",
        "告警中心",
        "/alerts",
        "siren",
        "运维监控",
        "正在告警与近期告警、确认、静默与处理经过，以及每次通知的结果",
        "ops.alerts",
    ),
    Section(
        "alert_rules",
        "告警规则",
        "/alert-rules",
        "bell-ring",
        "运维监控",
        "告警规则、通知渠道（邮件、钉钉、企业微信、飞书、短信）、静默与维护窗口",
        "ops.alert_rules",
    ),
    Section(
        "system_jobs",
        "系统任务",
        "/system-jobs",
        "calendar-clock",
        "安全审计",
        "日志封存与清理、接口探测、共享任务、报表订阅等定时任务的运行情况",
        "system.jobs",
    ),
)

GROUPS: tuple[str, ...] = tuple(dict.fromkeys(section.group for section in SECTIONS))


def section_by_key(key: str) -> Section:
    """The section with ``key``."""
    return next(section for section in SECTIONS if section.key == key)


def section_for_path(path: str) -> Section | None:
    """The section whose route is ``path`` (trailing slash ignored)."""
    clean = path.rstrip("/") or "/"
    return next((section for section in SECTIONS if section.route == clean), None)
