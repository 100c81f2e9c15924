"""The Reflex app: every domain's pages, the shell, and the HTTP API."""

import functools
from collections.abc import Callable

import reflex as rx
from loguru import logger

import console.alerts.scheduled  # each domain's scheduled module registers its jobs
import console.backup.scheduled
import console.iam.scheduled
import console.interfaces.scheduled
import console.jobs.scheduled
import console.logs.scheduled
import console.reports.scheduled  # noqa: F401
from console.alerts.pages import alerts_page
from console.alerts.rule_pages import alert_rules_page
from console.alerts.rule_state import RuleState
from console.alerts.state import AlertsState, BellState
from console.api.app import create_api
from console.api.security_headers import with_security_headers
from console.backup.pages import backup_page
from console.backup.state import BackupState
from console.core import dependencies
from console.core.db import migrate
from console.core.logging import new_request_id
from console.dictionaries.pages import dictionaries_page
from console.dictionaries.state import DictionaryState
from console.iam.account_pages import account_page
from console.iam.account_state import AccountState
from console.iam.login_log_pages import login_log_page
from console.iam.login_log_state import LoginLogState
from console.iam.org_pages import orgs_page
from console.iam.org_state import OrgsState
from console.iam.pages import change_password_page, login_page
from console.iam.paths import ACCOUNT_ROUTE, CHANGE_PASSWORD_ROUTE, LOGIN_ROUTE, SECOND_FACTOR_ROUTE
from console.iam.policy_pages import settings_page
from console.iam.policy_state import PolicyState
from console.iam.role_pages import roles_page
from console.iam.role_state import RolesState
from console.iam.second_factor_pages import second_factor_page
from console.iam.second_factor_state import SecondFactorState
from console.iam.state import AFTER_GUARD, PAGE_LOADERS, LoginState, SessionState
from console.iam.tenant_pages import tenants_page
from console.iam.tenant_state import TenantsState
from console.iam.user_pages import users_page
from console.iam.user_state import UsersState
from console.interfaces.channel_pages import channels_page
from console.interfaces.channel_state import ChannelsState
from console.interfaces.key_pages import api_keys_page
from console.interfaces.key_state import ApiKeysState
from console.interfaces.registry_pages import interfaces_page
from console.interfaces.registry_state import InterfacesState
from console.interfaces.task_pages import sharing_tasks_page
from console.interfaces.task_state import SharingTasksState
from console.jobs.pages import system_jobs_page
from console.jobs.scheduler import lifespan as jobs_lifespan
from console.jobs.state import JobsState
from console.logs.pages import audit_page
from console.logs.retention_pages import retention_page
from console.logs.retention_state import RetentionState
from console.logs.state import AuditState
from console.reports.pages import reports_page
from console.reports.state import ReportsState
from console.stats.channels_pages import channel_stats_page
from console.stats.channels_state import ChannelStatsState
from console.stats.interfaces_pages import interface_monitor_page
from console.stats.interfaces_state import InterfaceMonitorState
from console.stats.overview_pages import overview_page
from console.stats.overview_state import OverviewState
from console.stats.statistics_pages import statistics_page
from console.stats.statistics_state import StatisticsState
from console.stats.timeliness_pages import timeliness_page
from console.stats.timeliness_state import TimelinessState
from console.ui import theme
from console.ui.effects_state import client_effects, toast
from console.ui.navigation import SECTIONS
from console.ui.pages import not_found
from console.ui.upload_guard import with_upload_guard
from console.wiring import wire
from console.workflows.pages import workflows_page
from console.workflows.state import WorkflowsState


def _backend_error(exception: Exception) -> rx.event.EventSpec:
    """Unexpected failures: full trace in the log, a Chinese message with the request id."""
    engine = dependencies.unavailable(exception)
    if engine is not None:  # PostgreSQL or Redis gone: say which, not "system error"
        logger.warning("UI event: {} unavailable: {}", engine, exception)
        return toast.error(f"{dependencies.unavailable_message(engine)}。", duration=8000)
    rid = new_request_id()
    logger.opt(exception=exception).bind(request_id=rid).error("unhandled error in a UI event")
    return toast.error(
        f"系统异常，操作未完成，请稍后重试。如持续出现，请向管理员提供编号 {rid}", duration=8000
    )


def _startup() -> None:
    """Backend start: logging and the lake's own streams, then the schema upgrade."""
    wire()
    migrate()


app = rx.App(
    style=theme.APP_STYLE,
    html_lang="zh-CN",
    # The API mounted first, then every HTTP response (pages and API) gets security headers.
    # Uploads are checked (session, permission, size) before Reflex reads them.
    api_transformer=[create_api(), with_upload_guard, with_security_headers],
    backend_exception_handler=_backend_error,
)
app.register_lifespan_task(_startup)


def _page(component: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    """``component`` with the runner of server-sent toasts (no ``eval`` in the browser)."""

    @functools.wraps(component)
    def page() -> rx.Component:
        return rx.fragment(component(), client_effects())

    return page


# The system jobs (registered by the imports of each domain's ``scheduled`` module above),
# on the leader only; every worker is wired like this process.
app.register_lifespan_task(jobs_lifespan, setup=wire)

app.add_page(
    _page(login_page),
    route=LOGIN_ROUTE,
    title=f"登录 · {theme.PRODUCT_NAME}",
    on_load=LoginState.load,
)
app.add_page(
    _page(change_password_page),
    route=CHANGE_PASSWORD_ROUTE,
    title=f"修改密码 · {theme.PRODUCT_NAME}",
    on_load=SessionState.guard,
)
# Each section's page component and the loader the guard fires once it allowed the page.
BUILT: dict[str, tuple[Callable[[], rx.Component], object]] = {
    "overview": (overview_page, OverviewState.load),
    "statistics": (statistics_page, StatisticsState.load),
    "interface_monitor": (interface_monitor_page, InterfaceMonitorState.load),
    "timeliness": (timeliness_page, TimelinessState.load),
    "channel_stats": (channel_stats_page, ChannelStatsState.load),
    "users": (users_page, UsersState.load),
    "tenants": (tenants_page, TenantsState.load),
    "roles": (roles_page, RolesState.load),
    "organizations": (orgs_page, OrgsState.load),
    "login_log": (login_log_page, LoginLogState.load),
    "settings": (settings_page, PolicyState.load),
    "system_jobs": (system_jobs_page, JobsState.load),
    "backup": (backup_page, BackupState.load),
    "alerts": (alerts_page, AlertsState.enter),
    "alert_rules": (alert_rules_page, RuleState.load),
    "dictionaries": (dictionaries_page, DictionaryState.load),
    "interfaces": (interfaces_page, InterfacesState.load),
    "api_keys": (api_keys_page, ApiKeysState.load),
    "channels": (channels_page, ChannelsState.load),
    "sharing_tasks": (sharing_tasks_page, SharingTasksState.load),
    "audit": (audit_page, AuditState.enter),
    "log_retention": (retention_page, RetentionState.load),
    "reports": (reports_page, ReportsState.load),
    "workflows": (workflows_page, WorkflowsState.enter),
}
for _section in SECTIONS:
    _section_page, PAGE_LOADERS[_section.key] = BUILT[_section.key]  # every section is built
    app.add_page(
        _page(_section_page),
        route=_section.route,
        title=f"{_section.label} · {theme.PRODUCT_NAME}",
        on_load=SessionState.guard,
    )
AFTER_GUARD.append(BellState.refresh)
PAGE_LOADERS[ACCOUNT_ROUTE] = AccountState.load
app.add_page(
    _page(account_page),
    route=ACCOUNT_ROUTE,
    title=f"我的账号 · {theme.PRODUCT_NAME}",
    on_load=SessionState.guard,
)
PAGE_LOADERS[SECOND_FACTOR_ROUTE] = SecondFactorState.load
app.add_page(
    _page(second_factor_page),
    route=SECOND_FACTOR_ROUTE,
    title=f"绑定动态验证码 · {theme.PRODUCT_NAME}",
    on_load=SessionState.guard,
)
app.add_page(_page(not_found), route="404", title=f"页面不存在 · {theme.PRODUCT_NAME}")
