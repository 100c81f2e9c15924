"""告警规则 and 维护窗口: province administrators for all, county administrators for their own."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from console.alerts.kinds import BY_KEY, KINDS, describe, param_problems, parsed_params, stored
from console.alerts.models import SEVERITIES, AlertRule, MaintenanceWindow, NotifyChannel
from console.alerts.notify import ids_of
from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.errors import NotFound, ValidationFailed
from console.tenancy.models import Tenant, TenantLevel
from console.tenancy.scope import ensure_visible, scope_of

OBJ = "ops.alert_rules"
MAX_ESCALATE_MINUTES = 7 * 24 * 60
MAX_QUIET_MINUTES = 24 * 60
MAX_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class RuleDraft:
    """A rule as the form sends it (strings where people type)."""

    name: str
    kind: str
    tenant_code: str = ""
    params: dict[str, str] = field(default_factory=dict)
    severity: str = "major"
    channel_ids: tuple[int, ...] = ()
    escalate_minutes: str = "0"
    escalate_channel_ids: tuple[int, ...] = ()
    quiet_minutes: str = "30"
    enabled: bool = True


@dataclass(frozen=True)
class RuleRow:
    """One rule as the list shows it."""

    id: int
    name: str
    kind: str
    kind_label: str
    group: str
    tenant: str
    params_text: str
    params: dict[str, str]
    severity: str
    severity_label: str
    channel_ids: list[int]
    channels: str
    escalate_minutes: int
    escalate_channel_ids: list[int]
    quiet_minutes: int
    enabled: bool
    builtin: bool
    updated: str


def _int(text: str, label: str, high: int, problems: dict[str, str]) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        problems[label] = "请填写整数"
        return 0
    if not 0 <= value <= high:
        problems[label] = f"应在 0 到 {high} 之间"
    return value


def rule_problems(draft: RuleDraft) -> dict[str, str]:
    """Field label → reason for everything wrong with a draft that needs no database."""
    problems: dict[str, str] = {}
    if not 2 <= len(draft.name.strip()) <= 64:
        problems["名称"] = "请填写 2 到 64 个字"
    kind = BY_KEY.get(draft.kind)
    if kind is None:
        problems["类型"] = "请选择规则类型"
        return problems
    problems |= param_problems(kind, draft.params)
    if draft.severity not in SEVERITIES:
        problems["级别"] = "请选择：" + "、".join(SEVERITIES.values())
    if kind.province_only and draft.tenant_code:
        problems["适用范围"] = "该类规则针对全省平台本身，只能由省级设置"
    escalate = _int(draft.escalate_minutes, "升级时间", MAX_ESCALATE_MINUTES, problems)
    if escalate and not draft.escalate_channel_ids:
        problems["升级通知渠道"] = "设置了升级时间时请选择升级通知渠道"
    _int(draft.quiet_minutes, "静默期", MAX_QUIET_MINUTES, problems)
    return problems


def check_scope(
    session: Session, actor: Actor, tenant_code: str, target: str, *, what: str = "规则"
) -> None:
    """A province-wide ``what`` needs a province user; a county's, that county in scope."""
    if not tenant_code:
        if not scope_of(actor).all_tenants:
            raise ValidationFailed(f"全省{what}只能由省级管理员设置", field="适用范围")
        return
    if session.get(Tenant, tenant_code) is None:
        raise ValidationFailed(f"租户 {tenant_code} 不存在", field="适用范围")
    ensure_visible(actor, tenant_code, obj=OBJ, action="write", target=target)


def _check_channels(session: Session, tenant_code: str, ids: tuple[int, ...], label: str) -> None:
    """A county rule uses its county's channels; a province rule any channel."""
    if not ids:
        return
    found = session.exec(select(NotifyChannel).where(col(NotifyChannel.id).in_(ids))).all()
    if len(found) != len(set(ids)):
        raise ValidationFailed("所选通知渠道不存在", field=label)
    if any(c.tenant_code != tenant_code for c in found):  # a county group never gets others'
        raise ValidationFailed(
            "区县规则只能使用本区县的通知渠道" if tenant_code else "全省规则只能使用全省通知渠道",
            field=label,
        )


def _keep_integrity_on(kind_key: str) -> None:
    """Log-integrity and backup rules are never switched off (三员分立: nobody alone may)."""
    kind = BY_KEY.get(kind_key)
    if kind is not None and kind.integrity:
        raise ValidationFailed(
            "日志完整性与备份类规则不能停用或删除（可调整级别与通知渠道）", field="启用"
        )


def _visible_rules(actor: Actor):
    """Rules in the actor's scope, deleted ones left out."""
    live = select(AlertRule).where(col(AlertRule.deleted_at).is_(None))
    scope = scope_of(actor)
    if scope.all_tenants:
        return live
    return live.where(col(AlertRule.tenant_code).in_(sorted(scope.codes)))


def _rule_for(session: Session, actor: Actor, rule_id: int, action: str) -> AlertRule:
    authz.require(actor, OBJ, action, target=str(rule_id))
    rule = session.exec(_visible_rules(actor).where(AlertRule.id == rule_id)).first()
    if rule is None:
        raise NotFound("规则不存在或不在您的管辖范围内")
    return rule


def _row(rule: AlertRule, names: dict[int, str]) -> RuleRow:
    kind = BY_KEY.get(rule.kind)
    params = stored(rule.params, kind) if kind else {}
    channel_ids = ids_of(rule.channel_ids)
    shown = {k: (f"{v:g}" if isinstance(v, float) else str(v)) for k, v in params.items()}
    return RuleRow(
        id=rule.id or 0, name=rule.name, kind=rule.kind,
        kind_label=kind.label if kind else rule.kind, group=kind.group if kind else "",
        tenant=rule.tenant_code, params_text=describe(kind, params) if kind else "",
        params=shown, severity=rule.severity,
        severity_label=SEVERITIES.get(rule.severity, rule.severity), channel_ids=channel_ids,
        channels="、".join(names.get(i, f"#{i}") for i in channel_ids) or "仅站内通知",
        escalate_minutes=rule.escalate_minutes,
        escalate_channel_ids=ids_of(rule.escalate_channel_ids),
        quiet_minutes=rule.quiet_minutes, enabled=rule.enabled, builtin=rule.builtin,
        updated=f"{rule.updated_by} {to_local_text(rule.updated_at)}",
    )  # fmt: skip


def list_rules(*, session: Session, actor: Actor) -> list[RuleRow]:
    """Every rule in the actor's scope (a province has tens, not thousands)."""
    authz.require(actor, OBJ, "read", target="rules")
    names = dict(session.exec(select(NotifyChannel.id, NotifyChannel.name)).all())
    rules = session.exec(_visible_rules(actor).order_by(AlertRule.id)).all()
    return [_row(rule, names) for rule in rules]


def save_rule(
    *, session: Session, actor: Actor, draft: RuleDraft, rule_id: int | None = None
) -> RuleRow:
    """Create or change a rule (a built-in rule keeps its kind and scope)."""
    if rule_id:
        rule = _rule_for(session, actor, rule_id, "write")
    else:
        authz.require(actor, OBJ, "write", target=draft.name)
        rule = AlertRule(name="", kind=draft.kind)
    problems = rule_problems(draft)
    if problems:
        label, reason = next(iter(problems.items()))
        raise ValidationFailed(reason, field=label)
    if not draft.enabled:
        _keep_integrity_on(draft.kind)
    if rule.builtin and (draft.kind != rule.kind or draft.tenant_code != rule.tenant_code):
        raise ValidationFailed("内置规则不能更改类型和适用范围", field="类型")
    check_scope(session, actor, draft.tenant_code, draft.name)
    _check_channels(session, draft.tenant_code, draft.channel_ids, "通知渠道")
    _check_channels(session, draft.tenant_code, draft.escalate_channel_ids, "升级通知渠道")
    before = _snapshot(rule) if rule_id else {}
    kind = BY_KEY[draft.kind]
    rule.name, rule.kind, rule.tenant_code = draft.name.strip(), draft.kind, draft.tenant_code
    rule.params = json.dumps(parsed_params(kind, draft.params), ensure_ascii=False)
    rule.severity, rule.enabled = draft.severity, draft.enabled
    rule.channel_ids = ",".join(str(i) for i in sorted(set(draft.channel_ids)))
    rule.escalate_minutes = int(draft.escalate_minutes)
    rule.escalate_channel_ids = ",".join(str(i) for i in sorted(set(draft.escalate_channel_ids)))
    rule.quiet_minutes = int(draft.quiet_minutes)
    rule.updated_by, rule.updated_at = actor.account, utcnow()
    session.add(rule)
    session.flush()
    record(session, actor=actor, obj=OBJ, action="update_rule" if rule_id else "create_rule",
           target=rule.name, tenant=rule.tenant_code or None,
           detail={"before": before, "after": _snapshot(rule)})  # fmt: skip
    names = dict(session.exec(select(NotifyChannel.id, NotifyChannel.name)).all())
    return _row(rule, names)


def delete_rule(*, session: Session, actor: Actor, rule_id: int) -> None:
    """Remove a rule; its alerts stay in the history, resolved by the next cycle."""
    rule = _rule_for(session, actor, rule_id, "delete")
    _keep_integrity_on(rule.kind)
    if rule.builtin:
        raise ValidationFailed("内置规则不能删除，可以停用", field="规则")
    rule.enabled = False  # alerts keep their rule; the next cycle resolves them
    rule.deleted_at = utcnow()
    rule.channel_ids = rule.escalate_channel_ids = ""  # its channels may go too
    rule.updated_by, rule.updated_at = actor.account, utcnow()
    session.add(rule)
    record(session, actor=actor, obj=OBJ, action="delete_rule", target=rule.name,
           tenant=rule.tenant_code or None, detail=_snapshot(rule))  # fmt: skip


def _snapshot(rule: AlertRule) -> dict[str, object]:
    return {"name": rule.name, "kind": rule.kind, "tenant": rule.tenant_code,
            "params": rule.params, "severity": rule.severity, "channels": rule.channel_ids,
            "escalate": [rule.escalate_minutes, rule.escalate_channel_ids],
            "quiet": rule.quiet_minutes, "enabled": rule.enabled}  # fmt: skip


def set_rule_enabled(*, session: Session, actor: Actor, rule_id: int, enabled: bool) -> None:
    """启用 or 停用 a rule (built-in ones too) without touching the rest of it."""
    rule = _rule_for(session, actor, rule_id, "write")
    if rule.enabled == enabled:
        return
    if not enabled:
        _keep_integrity_on(rule.kind)
    rule.enabled = enabled
    rule.updated_by, rule.updated_at = actor.account, utcnow()
    session.add(rule)
    record(session, actor=actor, obj=OBJ, action="enable_rule" if enabled else "disable_rule",
           target=rule.name, tenant=rule.tenant_code or None)  # fmt: skip


def kind_choices() -> list[tuple[str, str, str]]:
    """(key, label, group) of every kind, for the form."""
    return [(kind.key, kind.label, kind.group) for kind in KINDS]


def permissions(actor: Actor) -> dict[str, bool]:
    """Which of read, write, delete and execute (测试发送) the actor holds, to show buttons."""
    return {
        action: authz.can(actor, OBJ, action) for action in ("read", "write", "delete", "execute")
    }


def scope_choices(*, session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(tenant code, name) a rule, channel or window of the actor may apply to; "" = 全省 first.

    A province administrator (every tenant in scope) gets 全省 and every county; anyone else,
    a province user narrowed to one county included, only the counties in their scope.
    """
    scope = scope_of(actor)
    statement = select(Tenant.code, Tenant.name).order_by(Tenant.code)
    if scope.all_tenants:
        counties = session.exec(statement.where(Tenant.level == TenantLevel.COUNTY.value)).all()
        return [("", "全省"), *((code, name) for code, name in counties)]
    return list(session.exec(statement.where(col(Tenant.code).in_(sorted(scope.codes)))).all())


# ---- maintenance windows -------------------------------------------------------------------


@dataclass(frozen=True)
class WindowRow:
    """A maintenance window as listed."""

    id: int
    name: str
    tenant: str
    starts: str
    ends: str
    reason: str
    by: str
    active: bool


def save_window(
    *,
    session: Session,
    actor: Actor,
    name: str,
    tenant_code: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
) -> WindowRow:
    """Plan a window in which alerts are recorded but nobody is messaged."""
    authz.require(actor, OBJ, "write", target=name)
    if not 2 <= len(name.strip()) <= 64:
        raise ValidationFailed("请填写 2 到 64 个字", field="名称")
    if ends_at <= starts_at:
        raise ValidationFailed("结束时间应晚于开始时间", field="结束时间")
    if ends_at - starts_at > MAX_WINDOW:
        raise ValidationFailed("维护窗口最长 7 天", field="结束时间")
    if ends_at <= utcnow():
        raise ValidationFailed("结束时间已过", field="结束时间")
    check_scope(session, actor, tenant_code, name, what="维护窗口")
    row = MaintenanceWindow(name=name.strip(), tenant_code=tenant_code, starts_at=starts_at,
                            ends_at=ends_at, reason=reason.strip()[:500],
                            created_by=actor.account)  # fmt: skip
    session.add(row)
    session.flush()
    record(session, actor=actor, obj=OBJ, action="create_window", target=row.name,
           tenant=tenant_code or None,
           detail={"starts": starts_at.isoformat(), "ends": ends_at.isoformat(),
                   "reason": row.reason})  # fmt: skip
    return _window_row(row, utcnow())


def _window_row(row: MaintenanceWindow, now: datetime) -> WindowRow:
    return WindowRow(row.id or 0, row.name, row.tenant_code or "全省", to_local_text(row.starts_at),
                     to_local_text(row.ends_at), row.reason, row.created_by,
                     row.starts_at <= now < row.ends_at)  # fmt: skip


def list_windows(*, session: Session, actor: Actor) -> list[WindowRow]:
    """Windows not yet over, in the actor's scope."""
    authz.require(actor, OBJ, "read", target="windows")
    scope, now = scope_of(actor), utcnow()
    rows = session.exec(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.ends_at > now)
        .order_by(col(MaintenanceWindow.starts_at))
    ).all()
    return [_window_row(r, now) for r in rows if scope.allows(r.tenant_code)]


def end_window(*, session: Session, actor: Actor, window_id: int) -> None:
    """End a window now (or drop one not yet begun)."""
    authz.require(actor, OBJ, "write", target=f"window:{window_id}")
    row = session.get(MaintenanceWindow, window_id)
    if row is None or not scope_of(actor).allows(row.tenant_code):
        raise NotFound("维护窗口不存在")
    now = utcnow()
    row.ends_at = max(min(row.ends_at, now), row.starts_at)
    session.add(row)
    record(session, actor=actor, obj=OBJ, action="end_window", target=row.name,
           tenant=row.tenant_code or None)  # fmt: skip
