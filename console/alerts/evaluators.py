"""What each rule kind finds right now: one finding per subject whose condition holds.

Minute-scale kinds read the counters kept at ingestion (``console.logs.minutes``); day-scale
kinds read the rollups and the configuration database. Every read here is cheap: counters
over at most a day of minutes, one row per interface, task, channel or county.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from console.alerts.models import AlertRule, NotifyChannel
from console.backup.models import BackupRun, BackupTarget
from console.core.clock import local_day, to_local_text
from console.core.workdays import add_office_hours
from console.interfaces.models import (
    Channel,
    ChannelCounter,
    ChannelEvent,
    InterfaceDef,
    ProbeResult,
    SharingOutbox,
    SharingTask,
    TaskRun,
)
from console.logs import minutes
from console.logs.lag import oldest_unsealed
from console.logs.models import Verification
from console.logs.pending import ingest_path
from console.logs.search import search_url
from console.stats.watch_service import month_on_time_by_tenant, overdue_open_by_tenant
from console.tenancy.models import Tenant, TenantLevel


@dataclass(frozen=True, slots=True)
class Finding:
    """A condition that holds for one subject, said in Chinese, with where to see why."""

    subject: str
    label: str
    tenant: str  # "" = about the province as a whole
    summary: str
    link: str


@dataclass
class Context:
    """One evaluation cycle: the time, the database, the lake, and reads shared by rules."""

    now: datetime
    session: Session
    lake: Path
    _windows: dict[tuple[str, int], list[minutes.Window]] = field(default_factory=dict)
    _names: dict[str, dict[str, str]] = field(default_factory=dict)

    def window(self, stream: str, span: int) -> list[minutes.Window]:
        """Counters of the last ``span`` minutes (read once per cycle)."""
        key = (stream, span)
        if key not in self._windows:
            until = self.now + timedelta(minutes=1)  # the current minute counts
            self._windows[key] = minutes.window(
                self.lake, stream=stream, since=until - timedelta(minutes=span), until=until
            )
        return self._windows[key]

    def interface_name(self, code: str) -> str:
        """An interface's registered name (its code when unregistered)."""
        if "interfaces" not in self._names:
            rows = self.session.exec(select(InterfaceDef.code, InterfaceDef.name)).all()
            self._names["interfaces"] = dict(rows)
        return self._names["interfaces"].get(code, code)

    def tenant_name(self, code: str) -> str:
        """A county's name (its code when unknown)."""
        if "tenants" not in self._names:
            self._names["tenants"] = dict(self.session.exec(select(Tenant.code, Tenant.name)).all())
        return self._names["tenants"].get(code, code)


Evaluator = Callable[[AlertRule, dict, Context], list[Finding]]


def _in_scope(rule: AlertRule, tenant: str) -> bool:
    return not rule.tenant_code or tenant == rule.tenant_code


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


# ---- minute counters ---------------------------------------------------------------------


def interface_health(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """Success rate under X % or p95 over Y ms over the last N minutes, per interface."""
    wanted = str(params["interface"])
    merged: dict[str, minutes.Window] = {}
    for win in ctx.window("interface_call", int(params["minutes"])):
        if not _in_scope(rule, win.tenant) or (wanted and win.subject != wanted):
            continue
        total = merged.setdefault(win.subject, minutes.Window(rule.tenant_code, win.subject))
        total.calls += win.calls
        total.failures += win.failures
        total.buckets = [a + b for a, b in zip(total.buckets, win.buckets, strict=True)]
    found = []
    for code, total in sorted(merged.items()):
        if total.calls < params["min_calls"]:
            continue
        reasons = []
        if total.success_rate * 100 < params["min_success"]:
            reasons.append(f"成功率 {_pct(total.success_rate)}（下限 {params['min_success']:g}%）")
        p95 = total.quantile_ms(0.95)
        if params["p95_ms"] and p95 is not None and p95 > params["p95_ms"]:
            reasons.append(f"P95 时延约 {p95} 毫秒（上限 {params['p95_ms']:g}）")
        if reasons:
            name = ctx.interface_name(code)
            found.append(Finding(
                code, name, rule.tenant_code,
                f"共享接口 {name}（{code}）最近 {params['minutes']:g} 分钟 {total.calls} 次调用："
                + "，".join(reasons),
                search_url("interface_call", local_day(ctx.now), local_day(ctx.now),
                           interface_code=code, tenant=rule.tenant_code),
            ))  # fmt: skip
    return found


def exception_burst(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """More than N ERROR/CRITICAL records from one source in M minutes."""
    found = []
    for win in ctx.window("exception", int(params["minutes"])):
        if not _in_scope(rule, win.tenant) or win.failures <= params["count"]:
            continue
        where = ctx.tenant_name(win.tenant)
        found.append(Finding(
            f"{win.tenant}/{win.subject}", f"{where} · {win.subject}", win.tenant,
            f"{where} 的 {win.subject} 最近 {params['minutes']:g} 分钟记录 {win.failures} 条 "
            f"ERROR/CRITICAL 异常（阈值 {params['count']:g}）",
            search_url("exception", local_day(ctx.now), local_day(ctx.now),
                       text=win.subject, tenant=win.tenant),
        ))  # fmt: skip
    return found


def tenant_silent(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """A county that pushed nothing for N office hours (working days, 8:30–17:30)."""
    seen = minutes.last_pushes(ctx.lake)
    streams = ("case_event", "interface_call") if params["stream"] == "any" else (params["stream"],)
    counties = ctx.session.exec(
        select(Tenant).where(Tenant.level == TenantLevel.COUNTY.value, Tenant.status == "active")
    ).all()
    found = []
    for county in counties:
        if not _in_scope(rule, county.code):
            continue
        pushes = [seen[(s, county.code)] for s in streams if (s, county.code) in seen]
        # Never pushed since the rule (or the county) exists: count from then.
        last = max(pushes, default=max(rule.updated_at, county.created_at))
        if add_office_hours(last, float(params["hours"])) > ctx.now:
            continue
        what = "、".join({"case_event": "办件进度", "interface_call": "接口调用日志"}[s]
                        for s in streams)  # fmt: skip
        since = f"自 {to_local_text(last)} 起" if pushes else "至今"
        found.append(Finding(
            county.code, county.name, county.code,
            f"{county.name}{since}在工作时间内超过 {params['hours']:g} 小时未推送{what}",
            search_url(streams[0], local_day(last), local_day(ctx.now), tenant=county.code),
        ))  # fmt: skip
    return found


# ---- interfaces, channels, tasks ----------------------------------------------------------


def probe_failures(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """The last K probes of an interface all failed."""
    times = int(params["times"])
    query = select(InterfaceDef).where(
        InterfaceDef.enabled, InterfaceDef.consecutive_failures >= times
    )
    if params["interface"]:
        query = query.where(InterfaceDef.code == params["interface"])
    found = []
    for interface in ctx.session.exec(query).all():
        if rule.tenant_code and interface.tenant_code != rule.tenant_code:
            continue
        last = ctx.session.exec(
            select(ProbeResult.error)
            .where(ProbeResult.interface_id == interface.id)
            .order_by(col(ProbeResult.ts).desc())
            .limit(1)
        ).first()
        found.append(Finding(
            interface.code, interface.name, interface.tenant_code,
            f"共享接口 {interface.name}（{interface.code}）连续 {interface.consecutive_failures} "
            f"次探测失败，接口不可用" + (f"：{last}" if last else ""),
            f"/interfaces?q={interface.code}",
        ))  # fmt: skip
    return found


def channel_refusals(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """Today's refusal rate over X %, or calls refused for going over the limit in N minutes."""
    since = ctx.now - timedelta(minutes=float(params["minutes"]))
    over = dict(
        ctx.session.exec(
            select(ChannelEvent.channel_id, func.count())
            .where(ChannelEvent.kind == "refusal", ChannelEvent.ts >= since)
            .where(col(ChannelEvent.reason).startswith("调用过于频繁"))
            .group_by(ChannelEvent.channel_id)
        ).all()
    )
    today = ctx.session.exec(
        select(Channel, ChannelCounter)
        .join(ChannelCounter, sa.and_(ChannelCounter.channel_id == Channel.id,
                                      ChannelCounter.day == local_day(ctx.now)), isouter=True)
    ).all()  # fmt: skip
    found = []
    for channel, counter in today:
        if not _in_scope(rule, channel.tenant_code):
            continue
        reasons = []
        if counter is not None and counter.calls >= params["min_calls"]:
            rate = counter.refusals / counter.calls
            if rate * 100 > params["max_refusal"]:
                reasons.append(f"今日被拒率 {_pct(rate)}（{counter.refusals}/{counter.calls}）")
        if over.get(channel.id):
            reasons.append(f"最近 {params['minutes']:g} 分钟 {over[channel.id]} 次调用超出频率限制")
        if reasons:
            found.append(Finding(
                str(channel.id), channel.name, channel.tenant_code,
                f"机构通道 {channel.name}：" + "；".join(reasons), "/statistics/channels",
            ))  # fmt: skip
    return found


def task_failed(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """A sharing task whose latest run failed."""
    newest = (
        select(TaskRun.task_id, func.max(TaskRun.id).label("run_id"))
        .where(TaskRun.status != "running")
        .group_by(TaskRun.task_id)
        .subquery()
    )
    rows = ctx.session.exec(
        select(SharingTask, TaskRun)
        .join(newest, newest.c.task_id == SharingTask.id)
        .join(TaskRun, TaskRun.id == newest.c.run_id)
        .where(TaskRun.status == "failed")
    ).all()
    return [
        Finding(
            task.code, task.name, task.tenant_code,
            f"共享任务 {task.name}（{task.code}）{to_local_text(run.started_at)} 的执行失败："
            f"{run.error or '未知原因'}",
            f"/sharing-tasks?q={task.code}",
        )
        for task, run in rows
        if _in_scope(rule, task.tenant_code)
    ]  # fmt: skip


def task_queue_age(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """A sharing task whose oldest undelivered record waits more than N hours."""
    limit = ctx.now - timedelta(hours=float(params["hours"]))
    rows = ctx.session.exec(
        select(SharingTask, func.min(SharingOutbox.queued_at), func.count())
        .join(SharingOutbox, SharingOutbox.task_id == SharingTask.id)
        .where(col(SharingOutbox.delivered_at).is_(None))
        .group_by(SharingTask.id)
        .having(func.min(SharingOutbox.queued_at) < limit)
    ).all()
    return [
        Finding(
            task.code, task.name, task.tenant_code,
            f"共享任务 {task.name}（{task.code}）有 {waiting} 条记录待推送，最早一条自 "
            f"{to_local_text(oldest)} 起等待，已超过 {params['hours']:g} 小时",
            f"/sharing-tasks?q={task.code}",
        )
        for task, oldest, waiting in rows
        if _in_scope(rule, task.tenant_code)
    ]  # fmt: skip


# ---- time limits ---------------------------------------------------------------------------


def overdue_cases(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """A county with more than N open cases past their legal limit."""
    counts = overdue_open_by_tenant(session=ctx.session, now=ctx.now)
    return [
        Finding(
            tenant, ctx.tenant_name(tenant), tenant,
            f"{ctx.tenant_name(tenant)}有 {count} 件办件超过法定时限仍未办结"
            f"（上限 {params['max_open']:g} 件）",
            "/statistics/timeliness",
        )
        for tenant, count in sorted(counts.items())
        if _in_scope(rule, tenant) and count > params["max_open"]
    ]  # fmt: skip


def ontime_rate(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """A county whose on-time rate this month is under X %."""
    found = []
    for tenant, (closed, on_time) in sorted(
        month_on_time_by_tenant(session=ctx.session, now=ctx.now).items()
    ):
        if not _in_scope(rule, tenant) or closed < params["min_closed"]:
            continue
        rate = on_time / closed
        if rate * 100 < params["min_rate"]:
            found.append(Finding(
                tenant, ctx.tenant_name(tenant), tenant,
                f"{ctx.tenant_name(tenant)}本月按时办结率 {_pct(rate)}（{on_time}/{closed}，"
                f"下限 {params['min_rate']:g}%）",
                "/statistics/timeliness",
            ))  # fmt: skip
    return found


# ---- the platform itself ---------------------------------------------------------------------


def sealing_lag(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """A finished day still not sealed N hours after it could have been."""
    waiting = oldest_unsealed(ingest_path(ctx.lake), ctx.now)
    if waiting is None:
        return []
    day, since = waiting
    behind = ctx.now - since
    if behind < timedelta(hours=float(params["hours"])):
        return []
    hours = behind.total_seconds() / 3600
    return [Finding(
        "sealing", "日志封存", "",
        f"{day} 的日志在可封存后 {hours:.1f} 小时仍未封存（阈值 {params['hours']:g} 小时）",
        "/system-jobs",
    )]  # fmt: skip


def chain_break(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """The latest integrity verification found a break."""
    latest = ctx.session.exec(
        select(Verification).order_by(col(Verification.checked_at).desc()).limit(1)
    ).first()
    if latest is None or latest.breaks == 0:
        return []
    return [Finding(
        "integrity", "日志完整性", "",
        f"{to_local_text(latest.checked_at)} 的日志完整性校验发现 {latest.breaks} 处异常："
        f"{latest.summary[:300]}",
        "/log-retention",
    )]  # fmt: skip


def backup_failed(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """The latest backup or verification failed, or no backup succeeded for N hours."""
    if not ctx.session.exec(select(BackupTarget.id).where(BackupTarget.enabled)).first():
        if ctx.session.exec(select(BackupRun.id)).first() is None:
            return []  # never configured: the backup page says so, not an alert per tick
        return [Finding("targets", "备份目标", "", "已没有启用的备份目标：备份已停止",
                        "/system-backup")]  # fmt: skip
    found = []
    for kind, label in (("backup", "备份"), ("verify", "恢复校验")):
        latest = ctx.session.exec(
            select(BackupRun)
            .where(BackupRun.kind == kind, BackupRun.outcome != "running")
            .order_by(col(BackupRun.started_at).desc())
            .limit(1)
        ).first()
        if latest is not None and latest.outcome == "failed":
            found.append(Finding(
                kind, f"最近一次{label}", "",
                f"{to_local_text(latest.started_at)} 的{label}失败：{latest.message[:300]}",
                "/system-backup",
            ))  # fmt: skip
    hours = float(params["max_age_hours"])
    if hours:
        last_ok = ctx.session.exec(
            select(func.max(BackupRun.started_at)).where(
                BackupRun.kind == "backup", BackupRun.outcome == "succeeded"
            )
        ).first()
        if last_ok is None or ctx.now - last_ok > timedelta(hours=hours):
            when = f"最近一次成功备份在 {to_local_text(last_ok)}" if last_ok else "尚无成功的备份"
            found.append(Finding(
                "age", "备份时效", "", f"超过 {hours:g} 小时没有成功的备份：{when}",
                "/system-backup",
            ))  # fmt: skip
    return found


def channel_failing(rule: AlertRule, params: dict, ctx: Context) -> list[Finding]:
    """A notification channel whose last K sends failed."""
    rows = ctx.session.exec(
        select(NotifyChannel).where(
            NotifyChannel.enabled, NotifyChannel.fail_streak >= int(params["times"])
        )
    ).all()
    return [
        Finding(
            str(channel.id), channel.name, channel.tenant_code,
            f"通知渠道 {channel.name} 连续 {channel.fail_streak} 次发送失败：{channel.last_error}",
            "/alert-rules",
        )
        for channel in rows
        if _in_scope(rule, channel.tenant_code)
    ]  # fmt: skip


EVALUATORS: dict[str, Evaluator] = {
    "interface_health": interface_health,
    "probe_failures": probe_failures,
    "channel_refusals": channel_refusals,
    "task_failed": task_failed,
    "task_queue_age": task_queue_age,
    "tenant_silent": tenant_silent,
    "overdue_cases": overdue_cases,
    "ontime_rate": ontime_rate,
    "sealing_lag": sealing_lag,
    "chain_break": chain_break,
    "backup_failed": backup_failed,
    "exception_burst": exception_burst,
    "channel_failing": channel_failing,
}
