"""Institution channels: bindings, the 开通 / 限流观察 / 关闭 state machine, history, counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import local_day, to_local_text, utcnow
from console.core.db import upsert_insert
from console.core.errors import NotFound, ValidationFailed
from console.core.paging import Page, PageRequest, contains, paginate
from console.dictionaries import lookup
from console.iam.models import Organization
from console.interfaces.models import (
    CHANNEL_KINDS,
    CHANNEL_STATES,
    Channel,
    ChannelCounter,
    ChannelEvent,
    InterfaceDef,
)
from console.tenancy.scope import ensure_visible, restrict
from console.tenancy.service import tenant_labels

OBJ = "interfaces.channels"
# Which state changes are allowed; leaving 关闭 needs a rectification note.
TRANSITIONS = {
    "open": {"probation", "closed"},
    "probation": {"open", "closed"},
    "closed": {"open", "probation"},
}
COUNTER_DAYS = 30


@dataclass(frozen=True)
class ChannelDraft:
    """What a channel may do."""

    org_id: int
    business_codes: tuple[str, ...]
    interface_codes: tuple[str, ...]
    rate_limit_per_minute: int = 600
    probation_rate_limit: int = 60


@dataclass(frozen=True)
class ChannelRow:
    """A channel as the list shows it, with its last 30 days' counters."""

    id: int
    tenant_code: str
    tenant: str  # 名称（代码）
    businesses: str  # 名称（代码）、…
    name: str
    kind: str
    state: str
    state_label: str
    business_codes: str
    interface_codes: str
    rate_limit_per_minute: int
    probation_rate_limit: int
    reason: str
    effective: str
    decided_by: str
    calls: int
    refusals: int
    refusal_rate: str


@dataclass(frozen=True)
class EventRow:
    """One line of a channel's history."""

    time: str
    kind: str
    change: str
    reason: str
    rectification: str
    actor: str


def _split(text: str) -> tuple[str, ...]:
    return tuple(code for code in text.split(",") if code)


def _check(session: Session, draft: ChannelDraft, org: Organization) -> None:
    if org.kind not in CHANNEL_KINDS:
        kinds = "、".join(CHANNEL_KINDS.values())
        raise ValidationFailed(f"只有{kinds}可以开通直连通道", field="机构")
    unknown = [c for c in draft.business_codes if not lookup.is_known("business_code", c)]
    if unknown:
        raise ValidationFailed(f"业务代码 {unknown[0]} 不在业务代码字典中", field="业务类型")
    if draft.interface_codes:
        known = set(
            session.exec(
                select(InterfaceDef.code).where(InterfaceDef.code.in_(draft.interface_codes))  # type: ignore[attr-defined]
            ).all()
        )
        missing = [c for c in draft.interface_codes if c not in known]
        if missing:
            raise ValidationFailed(f"接口 {missing[0]} 未登记", field="接口")
    if not 1 <= draft.probation_rate_limit <= draft.rate_limit_per_minute <= 100_000:
        raise ValidationFailed("观察期限额应不大于正常限额（1–100000 次/分钟）", field="限流")


def _event(session: Session, channel: Channel, actor: str, kind: str, **fields: str) -> None:
    assert channel.id is not None
    session.add(ChannelEvent(channel_id=channel.id, actor_account=actor, kind=kind, **fields))


def create_channel(*, session: Session, actor: Actor, draft: ChannelDraft) -> ChannelRow:
    """Open a channel for a bank, developer, broker or agency of the actor's scope."""
    org = session.get(Organization, draft.org_id)
    if org is None:
        raise NotFound("机构不存在")
    authz.require(actor, OBJ, "write", tenant=org.tenant_code, target=org.name)
    ensure_visible(actor, org.tenant_code, obj=OBJ, action="write", target=org.name)
    _check(session, draft, org)
    if session.exec(select(Channel).where(Channel.org_id == org.id)).first() is not None:
        raise ValidationFailed(f"{org.name} 已有通道", field="机构")
    channel = Channel(
        tenant_code=org.tenant_code,
        org_id=draft.org_id,
        name=org.name,
        kind=org.kind,
        business_codes=",".join(draft.business_codes),
        interface_codes=",".join(draft.interface_codes),
        rate_limit_per_minute=draft.rate_limit_per_minute,
        probation_rate_limit=draft.probation_rate_limit,
        reason="开通",
        decided_by=actor.account,
    )
    session.add(channel)
    session.flush()
    _event(session, channel, actor.account, "create", to_state="open", reason="开通")
    _log(session, actor, channel, "create", {"org": org.name, **_bindings(channel)})
    return _row(channel, 0, 0)


def _bindings(channel: Channel) -> dict[str, object]:
    return {
        "business_codes": channel.business_codes,
        "interface_codes": channel.interface_codes,
        "rate_limit_per_minute": channel.rate_limit_per_minute,
        "probation_rate_limit": channel.probation_rate_limit,
    }


def _log(session: Session, actor: Actor, channel: Channel, action: str, detail: dict) -> None:
    record(
        session,
        actor=actor,
        obj=OBJ,
        action=action,
        target=channel.name,
        tenant=channel.tenant_code,
        detail=detail,
    )


def _load(session: Session, actor: Actor, channel_id: int, action: str) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("通道不存在")
    ensure_visible(actor, channel.tenant_code, obj=OBJ, action=action, target=channel.name)
    authz.require(actor, OBJ, action, tenant=channel.tenant_code, target=channel.name)
    return channel


def update_channel(
    *, session: Session, actor: Actor, channel_id: int, draft: ChannelDraft
) -> ChannelRow:
    """Change what a channel may submit and its limits (its state changes separately)."""
    channel = _load(session, actor, channel_id, "write")
    org = session.get(Organization, channel.org_id)
    assert org is not None
    _check(session, draft, org)
    before = _bindings(channel)
    channel.business_codes = ",".join(draft.business_codes)
    channel.interface_codes = ",".join(draft.interface_codes)
    channel.rate_limit_per_minute = draft.rate_limit_per_minute
    channel.probation_rate_limit = draft.probation_rate_limit
    session.add(channel)
    _event(session, channel, actor.account, "edit", reason="修改业务范围或限额")
    _log(session, actor, channel, "update", {"before": before, "after": _bindings(channel)})
    return _row(channel, 0, 0)


def change_state(
    *,
    session: Session,
    actor: Actor,
    channel_id: int,
    to_state: str,
    reason: str,
    rectification: str = "",
) -> ChannelRow:
    """开通 / 限流观察 / 关闭 with a reason; leaving 关闭 needs a rectification note.

    Takes effect at the channel's very next API call (the gateway reads the state each time).
    """
    channel = _load(session, actor, channel_id, "approve")
    if to_state not in CHANNEL_STATES:
        raise ValidationFailed("应为 开通、限流观察 或 关闭", field="状态")
    if to_state not in TRANSITIONS[channel.state]:
        label = CHANNEL_STATES[channel.state]
        raise ValidationFailed(f"通道当前为「{label}」，不能改为该状态", field="状态")
    if len(reason.strip()) < 2:
        raise ValidationFailed("请说明原因（至少 2 个字）", field="原因")
    if channel.state == "closed" and len(rectification.strip()) < 5:
        raise ValidationFailed("重新开通须填写整改情况（至少 5 个字）", field="整改说明")
    from_state = channel.state
    channel.state, channel.reason = to_state, reason.strip()
    channel.effective_at, channel.decided_by = utcnow(), actor.account
    session.add(channel)
    _event(
        session,
        channel,
        actor.account,
        "state",
        from_state=from_state,
        to_state=to_state,
        reason=reason.strip(),
        rectification=rectification.strip(),
    )
    detail = {"from": from_state, "to": to_state, "reason": reason.strip()}
    _log(session, actor, channel, "state", {**detail, "rectification": rectification.strip()})
    return _row(channel, 0, 0)


def refusal_reason(
    channel: Channel, *, business_code: str | None = None, interface_code: str | None = None
) -> str:
    """Why the channel may not make this call, in Chinese; "" when it may."""
    if channel.state == "closed":
        return f"机构通道已关闭：{channel.reason}"
    if business_code is not None and business_code not in _split(channel.business_codes):
        return f"机构通道未开通业务 {business_code}"
    if interface_code is not None and interface_code not in _split(channel.interface_codes):
        return f"机构通道未开通接口 {interface_code}"
    return ""


def rate_limit_of(channel: Channel) -> int:
    """Calls per minute the channel may make in its current state."""
    if channel.state == "probation":
        return channel.probation_rate_limit
    return channel.rate_limit_per_minute


def count_call(session: Session, *, channel: Channel, refusal: str = "") -> None:
    """Count one call (or refusal) for today's counters; a refusal also enters the history."""
    assert channel.id is not None
    refused = 1 if refusal else 0
    statement = upsert_insert(session, ChannelCounter.__table__).values(  # type: ignore[arg-type]
        channel_id=channel.id, day=local_day(), calls=1, refusals=refused
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["channel_id", "day"],
            set_={
                "calls": ChannelCounter.calls + 1,
                "refusals": ChannelCounter.refusals + refused,
            },
        )
    )
    if refusal:
        _event(session, channel, "system", "refusal", reason=refusal[:500])


def _counters(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    if not ids:
        return {}
    since = local_day() - timedelta(days=COUNTER_DAYS - 1)
    rows = session.execute(
        sa.select(
            ChannelCounter.channel_id,
            sa.func.sum(ChannelCounter.calls),
            sa.func.sum(ChannelCounter.refusals),
        )
        .where(ChannelCounter.channel_id.in_(ids), ChannelCounter.day >= since)  # type: ignore[attr-defined]
        .group_by(ChannelCounter.channel_id)
    ).all()
    return {cid: (int(calls or 0), int(refusals or 0)) for cid, calls, refusals in rows}


def _row(channel: Channel, calls: int, refusals: int, *, tenant: str = "") -> ChannelRow:
    assert channel.id is not None
    rate = f"{refusals / calls:.1%}" if calls else "—"
    return ChannelRow(
        id=channel.id,
        tenant_code=channel.tenant_code,
        tenant=tenant or channel.tenant_code,
        businesses="、".join(
            f"{lookup.label('business_code', code)}（{code}）"
            for code in _split(channel.business_codes)
        ),
        name=channel.name,
        kind=CHANNEL_KINDS.get(channel.kind, channel.kind),
        state=channel.state,
        state_label=CHANNEL_STATES[channel.state],
        business_codes=channel.business_codes,
        interface_codes=channel.interface_codes,
        rate_limit_per_minute=channel.rate_limit_per_minute,
        probation_rate_limit=channel.probation_rate_limit,
        reason=channel.reason,
        effective=to_local_text(channel.effective_at),
        decided_by=channel.decided_by,
        calls=calls,
        refusals=refusals,
        refusal_rate=rate,
    )


def list_channels(
    *,
    session: Session,
    actor: Actor,
    search: str = "",
    state: str | None = None,
    kind: str | None = None,
    page: PageRequest | None = None,
) -> Page[ChannelRow]:
    """Channels in the actor's scope with their last 30 days' calls and refusals."""
    authz.require(actor, OBJ, "read")
    page = page or PageRequest()
    statement = restrict(
        select(Channel).order_by(Channel.tenant_code, Channel.name),
        Channel.tenant_code,  # type: ignore[arg-type]
        actor,
    )
    if search.strip():
        statement = statement.where(contains(Channel.name, search.strip()))
    if state:
        statement = statement.where(Channel.state == state)
    if kind:
        statement = statement.where(Channel.kind == kind)
    channels, total = paginate(session, statement, page)
    counters = _counters(session, [c.id for c in channels if c.id is not None])
    tenants = tenant_labels(session, {c.tenant_code for c in channels})
    rows = [
        _row(c, *counters.get(c.id or 0, (0, 0)), tenant=tenants[c.tenant_code]) for c in channels
    ]
    return Page(rows, total, page.page, page.size)


_EVENT_KINDS = {"create": "开通", "state": "状态变更", "edit": "修改", "refusal": "拒绝调用"}


def channel_history(
    *, session: Session, actor: Actor, channel_id: int, limit: int = 200
) -> list[EventRow]:
    """Every decision about the channel and every refused call, newest first."""
    channel = _load(session, actor, channel_id, "read")
    events = session.exec(
        select(ChannelEvent)
        .where(ChannelEvent.channel_id == channel.id)
        .order_by(ChannelEvent.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    ).all()
    return [
        EventRow(
            time=to_local_text(e.ts),
            kind=_EVENT_KINDS.get(e.kind, e.kind),
            change=(
                f"{CHANNEL_STATES.get(e.from_state, '')} → {CHANNEL_STATES.get(e.to_state, '')}"
                if e.kind == "state"
                else ""
            ),
            reason=e.reason,
            rectification=e.rectification,
            actor=e.actor_account,
        )
        for e in events
    ]


def channel_org_choices(*, session: Session, actor: Actor) -> list[tuple[int, str]]:
    """Banks, developers, brokers and agencies of the actor's scope that have no channel yet."""
    authz.require(actor, OBJ, "write")
    taken = select(Channel.org_id)
    statement = restrict(
        select(Organization)
        .where(Organization.kind.in_(list(CHANNEL_KINDS)))  # type: ignore[attr-defined]
        .where(Organization.id.not_in(taken))  # type: ignore[union-attr]
        .order_by(Organization.tenant_code, Organization.name),
        Organization.tenant_code,  # type: ignore[arg-type]
        actor,
    )
    return [(o.id or 0, f"{o.name}（{o.tenant_code}）") for o in session.exec(statement).all()]
