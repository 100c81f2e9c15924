"""通知渠道: e-mail, group robots and SMS, with secrets and recipients SM4-encrypted at rest.

Secrets (passwords, robot webhooks that carry their token, signing keys) and recipients
(addresses and phone numbers are personal data) are stored encrypted and never sent back to
the browser: the form leaves a secret blank to keep it, and recipients are shown masked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from console.alerts import senders
from console.alerts.models import AlertRule, Notification, NotifyChannel
from console.alerts.notify import ids_of
from console.alerts.rule_service import check_scope
from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.crypto import keyring
from console.core.errors import NotFound, ValidationFailed
from console.core.masking import mask_phone
from console.core.outbound import OutboundPolicy
from console.tenancy.scope import scope_of

OBJ = "ops.alert_rules"
MAX_RECIPIENTS = 50


@dataclass(frozen=True)
class ChannelDraft:
    """A channel as the form sends it; a blank secret keeps the stored one."""

    name: str
    kind: str
    tenant_code: str = ""
    config: dict[str, str] = field(default_factory=dict)
    recipients: tuple[str, ...] = ()
    keep_recipients: bool = False
    per_hour: str = "30"
    enabled: bool = True


@dataclass(frozen=True)
class ChannelRow:
    """A channel as listed: no secret, recipients masked."""

    id: int
    name: str
    kind: str
    kind_label: str
    tenant: str
    config: dict[str, str]  # the non-secret settings
    secrets_set: list[str]  # which secrets are stored (names only)
    recipients: str  # masked
    per_hour: int
    enabled: bool
    status: str
    failing: bool


def mask_recipient(value: str) -> str:
    """``a***@example.gov.cn`` or ``138****1234``."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return mask_phone(value)


def _stored(channel: NotifyChannel) -> tuple[dict[str, str], list[str]]:
    """The whole configuration (secrets decrypted) and the recipients."""
    config = json.loads(channel.config or "{}")
    if channel.secret_enc:
        config |= json.loads(keyring().decrypt(channel.secret_enc))
    recipients = (
        json.loads(keyring().decrypt(channel.recipients_enc)) if channel.recipients_enc else []
    )
    return config, recipients


def opened(channel: NotifyChannel) -> tuple[dict[str, str], list[str]]:
    """What sending needs (the dispatcher only)."""
    return _stored(channel)


def _row(channel: NotifyChannel) -> ChannelRow:
    config, recipients = _stored(channel)
    secret_keys = senders.SECRET_KEYS.get(channel.kind, frozenset())
    status = "尚未发送"
    if channel.fail_streak:
        status = f"连续 {channel.fail_streak} 次失败：{channel.last_error}"
    elif channel.last_ok_at:
        status = f"最近一次成功 {to_local_text(channel.last_ok_at)}"
    return ChannelRow(
        id=channel.id or 0, name=channel.name, kind=channel.kind,
        kind_label=senders.KINDS.get(channel.kind, channel.kind), tenant=channel.tenant_code,
        config={k: v for k, v in config.items() if k not in secret_keys},
        secrets_set=sorted(k for k in secret_keys if config.get(k)),
        recipients="、".join(mask_recipient(r) for r in recipients) or "—",
        per_hour=channel.per_hour, enabled=channel.enabled, status=status,
        failing=channel.fail_streak > 0,
    )  # fmt: skip


def _visible(actor: Actor):
    """Channels in the actor's scope, deleted ones left out."""
    live = select(NotifyChannel).where(col(NotifyChannel.deleted_at).is_(None))
    scope = scope_of(actor)
    if scope.all_tenants:
        return live
    return live.where(col(NotifyChannel.tenant_code).in_(sorted(scope.codes)))


def _channel_for(session: Session, actor: Actor, channel_id: int, action: str) -> NotifyChannel:
    authz.require(actor, OBJ, action, target=f"channel:{channel_id}")
    channel = session.exec(_visible(actor).where(NotifyChannel.id == channel_id)).first()
    if channel is None:
        raise NotFound("通知渠道不存在或不在您的管辖范围内")
    return channel


def list_channels(*, session: Session, actor: Actor) -> list[ChannelRow]:
    """Channels in the actor's scope, secrets withheld, recipients masked."""
    authz.require(actor, OBJ, "read", target="channels")
    return [_row(c) for c in session.exec(_visible(actor).order_by(NotifyChannel.id)).all()]


# Where a channel's secrets go: change any of these and the stored secrets are not reused,
# or whoever may edit a channel could point it at their own server and collect them.
DESTINATION_KEYS = ("host", "port", "security", "endpoint", "webhook", "access_key_id")
SECRET_LABELS = {"password": "密码", "secret": "签名密钥", "access_key_secret": "AccessKey Secret"}


def _moved(draft: ChannelDraft, before: dict[str, str]) -> bool:
    """The draft sends somewhere other than the stored channel did."""
    return any(
        draft.config.get(key, "").strip() not in ("", before.get(key, ""))
        if key == "webhook"  # a secret itself: blank keeps it, a new one moves the channel
        else draft.config.get(key, "").strip() != before.get(key, "")
        for key in DESTINATION_KEYS
        if key in senders.CONFIG_KEYS.get(draft.kind, ())
    )


def _merged(draft: ChannelDraft, existing: NotifyChannel | None) -> tuple[dict, list[str]]:
    """The draft with blank secrets (and kept recipients) taken from the stored channel.

    Stored secrets are reused only while the destination stays the same.
    """
    config = {k: v for k, v in draft.config.items() if k in senders.CONFIG_KEYS.get(draft.kind, ())}
    recipients = [r.strip() for r in draft.recipients if r.strip()]
    if existing is not None and existing.kind == draft.kind:
        before, kept = _stored(existing)
        moved = _moved(draft, before)
        for key in senders.SECRET_KEYS.get(draft.kind, frozenset()):
            if not config.get(key) and before.get(key) and (key == "webhook" or not moved):
                config[key] = before[key]
        if draft.keep_recipients:
            recipients = kept
    return config, recipients


def _secrets_to_enter_again(draft: ChannelDraft, existing: NotifyChannel | None) -> dict[str, str]:
    """Secrets left blank after the destination changed: they must be typed again."""
    if existing is None or existing.kind != draft.kind:
        return {}
    before, _ = _stored(existing)
    if not _moved(draft, before):
        return {}
    return {
        SECRET_LABELS[key]: "服务器或地址已更改，请重新填写"
        for key in senders.SECRET_KEYS.get(draft.kind, frozenset())
        if key in SECRET_LABELS and before.get(key) and not draft.config.get(key, "").strip()
    }


def channel_problems(
    draft: ChannelDraft,
    *,
    policy: OutboundPolicy,
    existing: NotifyChannel | None = None,
    resolve: bool = True,
) -> dict[str, str]:
    """Field label → reason (Chinese) for a draft, as the form checks it and the save refuses."""
    problems: dict[str, str] = {}
    if not 2 <= len(draft.name.strip()) <= 64:
        problems["名称"] = "请填写 2 到 64 个字"
    if draft.kind not in senders.KINDS:
        problems["渠道类型"] = "请选择渠道类型"
        return problems
    config, recipients = _merged(draft, existing)
    if len(recipients) > MAX_RECIPIENTS:
        problems["接收人"] = f"最多 {MAX_RECIPIENTS} 个"
    if draft.kind in ("email", "sms_aliyun") and not recipients:
        problems["接收人"] = "请至少填写一个接收人"
    try:
        per_hour = int(draft.per_hour)
        if not 1 <= per_hour <= 1000:
            problems["每小时上限"] = "应在 1 到 1000 之间"
    except ValueError:
        problems["每小时上限"] = "请填写整数"
    problems |= senders.config_problems(
        draft.kind, config, policy=policy, recipients=recipients, resolve=resolve
    )
    return problems | _secrets_to_enter_again(draft, existing)


def save_channel(
    *,
    session: Session,
    actor: Actor,
    draft: ChannelDraft,
    policy: OutboundPolicy,
    channel_id: int | None = None,
) -> ChannelRow:
    """Create or change a channel (checked against the outbound allow-list as it is saved)."""
    existing = _channel_for(session, actor, channel_id, "write") if channel_id else None
    if existing is None:
        authz.require(actor, OBJ, "write", target=draft.name)
    problems = channel_problems(draft, policy=policy, existing=existing)
    if problems:
        label, reason = next(iter(problems.items()))
        raise ValidationFailed(reason, field=label)
    check_scope(session, actor, draft.tenant_code, draft.name, what="通知渠道")
    clash = session.exec(
        select(NotifyChannel).where(NotifyChannel.name == draft.name.strip())
    ).first()
    if clash is not None and clash.id != channel_id:
        raise ValidationFailed("已有同名的通知渠道", field="名称")
    config, recipients = _merged(draft, existing)
    secret_keys = senders.SECRET_KEYS[draft.kind]
    channel = existing or NotifyChannel(name="", kind=draft.kind)
    channel.name, channel.kind, channel.tenant_code = (
        draft.name.strip(),
        draft.kind,
        draft.tenant_code,
    )
    channel.config = json.dumps({k: v for k, v in config.items() if k not in secret_keys},
                                ensure_ascii=False)  # fmt: skip
    secrets = {k: v for k, v in config.items() if k in secret_keys and v}
    channel.secret_enc = keyring().encrypt(json.dumps(secrets)) if secrets else ""
    channel.recipients_enc = keyring().encrypt(json.dumps(recipients, ensure_ascii=False))
    channel.per_hour, channel.enabled = int(draft.per_hour), draft.enabled
    channel.updated_by, channel.updated_at = actor.account, utcnow()
    session.add(channel)
    session.flush()
    action = "update_channel" if channel_id else "create_channel"
    detail = {
        "kind": channel.kind,
        "settings": json.loads(channel.config),
        "secrets_changed": sorted(k for k in secret_keys if draft.config.get(k)),
        "recipients": len(recipients),
    }
    record(session, actor=actor, obj=OBJ, action=action, target=channel.name,
           tenant=channel.tenant_code or None, detail=detail)  # fmt: skip
    return _row(channel)


def delete_channel(*, session: Session, actor: Actor, channel_id: int) -> None:
    """Remove a channel no rule uses any more (its past notifications stay)."""
    channel = _channel_for(session, actor, channel_id, "delete")
    users = [
        rule.name
        for rule in session.exec(select(AlertRule).where(col(AlertRule.deleted_at).is_(None))).all()
        if channel_id in ids_of(rule.channel_ids) + ids_of(rule.escalate_channel_ids)
    ]
    if users:
        raise ValidationFailed(f"规则仍在使用该渠道：{'、'.join(users[:5])}", field="通知渠道")
    channel.enabled, channel.deleted_at = False, utcnow()
    channel.name = f"{channel.name}（已删除 {channel.id}）"[:64]  # the name is free again
    channel.secret_enc, channel.recipients_enc = "", ""
    session.add(channel)
    record(session, actor=actor, obj=OBJ, action="delete_channel", target=channel.name,
           tenant=channel.tenant_code or None)  # fmt: skip


def test_channel(
    *, session: Session, actor: Actor, channel_id: int, policy: OutboundPolicy
) -> Notification:
    """测试发送: one message now, its outcome recorded like any notification."""
    channel = _channel_for(session, actor, channel_id, "execute")
    config, recipients = _stored(channel)
    message = senders.Message(
        title="【提示】测试消息：告警通知渠道", severity="info", link="",
        text=f"这是一条测试消息，由 {actor.display_name or actor.account} 在 "
             f"{to_local_text(utcnow())} 从不动产登记运维监管平台发送。收到即表示渠道“"
             f"{channel.name}”可用。",
    )  # fmt: skip
    result = senders.send(channel.kind, config, recipients, message, policy=policy)
    note = Notification(
        channel_id=channel.id or 0, purpose="test", title=message.title, body=message.text,
        severity="info", attempts=1, state="sent" if result.ok else "failed",
        category=result.category[:64], detail=result.detail[:500],
        sent_at=utcnow() if result.ok else None,
    )  # fmt: skip
    session.add(note)
    mark_outcome(channel, result)
    session.add(channel)
    record(session, actor=actor, obj=OBJ, action="test_channel", target=channel.name,
           tenant=channel.tenant_code or None,
           detail={"ok": result.ok, "category": result.category})  # fmt: skip
    return note


def mark_outcome(channel: NotifyChannel, result: senders.SendResult) -> None:
    """Keep the channel's health: a success clears the failure streak."""
    if result.ok:
        channel.fail_streak, channel.last_ok_at, channel.last_error = 0, utcnow(), ""
    else:
        channel.fail_streak += 1
        channel.last_error = f"{result.category}：{result.detail}"[:500]


def channel_choices(*, session: Session, actor: Actor) -> list[tuple[int, str, str]]:
    """(id, name, tenant) of the enabled channels a rule in the actor's scope may use."""
    authz.require(actor, OBJ, "read", target="channels")
    rows = session.exec(_visible(actor).where(NotifyChannel.enabled)).all()
    return [(c.id or 0, c.name, c.tenant_code) for c in rows]
