"""API keys: issued once, stored as digests, verified on every call, rotated with grace, revoked."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.crypto import sm3_hex
from console.core.errors import AuthenticationFailed, NotFound, ValidationFailed
from console.core.paging import Page, PageRequest, contains, paginate
from console.core.settings import get_settings
from console.iam.models import Organization
from console.interfaces.models import ApiKey, Channel
from console.tenancy.models import Tenant
from console.tenancy.scope import ensure_visible, restrict
from console.tenancy.service import tenant_labels

OBJ = "interfaces.keys"
KEY_PREFIX = "bdc"
KNOWN_SCOPES = {
    "iam.sync": "一体化平台用户同步",
    "logs.operation": "推送操作日志",
    "logs.interface_call": "推送接口调用日志",
    "logs.exception": "推送异常日志",
    "logs.case_event": "推送办件进度",
    "sharing.records": "移交共享任务记录",
    "workflows.read": "读取流程配置",
}
_KEY_FORMAT = re.compile(rf"^{KEY_PREFIX}_([a-z0-9]{{12}})_([A-Za-z0-9_-]{{43}})$")
# last_used_at is written at most this often, so a busy key does not write on every call.
_LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class KeyDraft:
    """What a new key is bound to."""

    name: str
    tenant_code: str
    scopes: frozenset[str]
    org_id: int | None = None
    channel_id: int | None = None
    rate_limit_per_minute: int = 600


@dataclass(frozen=True)
class KeyRow:
    """A key as the list shows it (never its secret)."""

    key_id: str
    name: str
    tenant_code: str
    tenant: str  # 名称（代码）
    org_name: str
    channel_name: str
    scopes: str
    rate_limit_per_minute: int
    status: str
    created: str
    created_by: str
    last_used: str
    expires: str
    replaced_by: str


def _check(session: Session, draft: KeyDraft) -> None:
    if not 1 <= len(draft.name.strip()) <= 64:
        raise ValidationFailed("应为 1 到 64 个字", field="名称")
    if session.get(Tenant, draft.tenant_code) is None:
        raise ValidationFailed(f"租户 {draft.tenant_code} 不存在", field="租户")
    unknown = draft.scopes - set(KNOWN_SCOPES)
    if unknown or not draft.scopes:
        raise ValidationFailed(f"可用范围：{'、'.join(KNOWN_SCOPES)}", field="范围")
    if not 1 <= draft.rate_limit_per_minute <= 100_000:
        raise ValidationFailed("应为 1 到 100000 次/分钟", field="限流")
    if draft.org_id is not None:
        org = session.get(Organization, draft.org_id)
        if org is None or org.tenant_code != draft.tenant_code:
            raise ValidationFailed("机构不属于该租户", field="机构")
    if draft.channel_id is not None:
        channel = session.get(Channel, draft.channel_id)
        if channel is None or channel.tenant_code != draft.tenant_code:
            raise ValidationFailed("通道不属于该租户", field="通道")


def _insert(session: Session, draft: KeyDraft, created_by: str) -> tuple[ApiKey, str]:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        key_id=key_id,
        secret_digest=sm3_hex(secret),
        name=draft.name.strip(),
        tenant_code=draft.tenant_code,
        org_id=draft.org_id,
        channel_id=draft.channel_id,
        scopes=",".join(sorted(draft.scopes)),
        rate_limit_per_minute=draft.rate_limit_per_minute,
        created_by=created_by,
    )
    session.add(key)
    session.flush()
    return key, f"{KEY_PREFIX}_{key_id}_{secret}"


def create_key(
    session: Session,
    *,
    name: str,
    tenant_code: str,
    scopes: set[str],
    created_by: str,
    org_id: int | None = None,
    channel_id: int | None = None,
    rate_limit_per_minute: int = 600,
) -> str:
    """Create a key for scripts and the CLI and return it in full: the only time it is shown.

    Raises:
        ValidationFailed: unknown tenant, scope, organisation or channel.
    """
    draft = KeyDraft(
        name, tenant_code, frozenset(scopes), org_id, channel_id, rate_limit_per_minute
    )
    _check(session, draft)
    return _insert(session, draft, created_by)[1]


def issue_key(*, session: Session, actor: Actor, draft: KeyDraft) -> str:
    """Create a key from the page (permission and tenant scope checked, logged); shown once."""
    authz.require(actor, OBJ, "write", tenant=draft.tenant_code, target=draft.name)
    ensure_visible(actor, draft.tenant_code, obj=OBJ, action="write", target=draft.name)
    _check(session, draft)
    key, presented = _insert(session, draft, actor.account)
    _log(session, actor, key, "create", {"scopes": key.scopes, "org_id": key.org_id})
    return presented


def _log(session: Session, actor: Actor, key: ApiKey, action: str, detail: dict) -> None:
    record(
        session,
        actor=actor,
        obj=OBJ,
        action=action,
        target=key.key_id,
        tenant=key.tenant_code,
        detail={"name": key.name, **detail},
    )


def _load(session: Session, actor: Actor, key_id: str) -> ApiKey:
    key = session.exec(select(ApiKey).where(ApiKey.key_id == key_id)).first()
    if key is None:
        raise NotFound(f"密钥 {key_id} 不存在")
    ensure_visible(actor, key.tenant_code, obj=OBJ, action="write", target=key_id)
    authz.require(actor, OBJ, "write", tenant=key.tenant_code, target=key_id)
    return key


def _rotate(session: Session, old: ApiKey, grace_hours: int | None, by: str) -> tuple[str, int]:
    if old.revoked_at is not None or old.replaced_by:
        raise ValidationFailed("已吊销或已轮换的密钥不能再轮换", field="密钥")
    hours = get_settings().key_rotation_grace_hours if grace_hours is None else grace_hours
    if not 0 <= hours <= 720:
        raise ValidationFailed("宽限期应为 0 到 720 小时", field="宽限期")
    draft = KeyDraft(
        old.name,
        old.tenant_code,
        frozenset(old.scope_set),
        old.org_id,
        old.channel_id,
        old.rate_limit_per_minute,
    )
    new, presented = _insert(session, draft, by)
    old.expires_at, old.replaced_by = utcnow() + timedelta(hours=hours), new.key_id
    session.add(old)
    return presented, hours


def rotate_key(
    *, session: Session, actor: Actor, key_id: str, grace_hours: int | None = None
) -> str:
    """A new key with the same bindings; the old one keeps working for the grace period.

    Raises:
        ValidationFailed: the key is revoked, already rotated, or the grace period is invalid.
    """
    old = _load(session, actor, key_id)
    presented, hours = _rotate(session, old, grace_hours, actor.account)
    _log(session, actor, old, "rotate", {"new_key": old.replaced_by, "grace_hours": hours})
    return presented


def rotate_key_by_operator(session: Session, *, key_id: str, grace_hours: int | None) -> str:
    """Rotate from the command line (the operator is trusted there)."""
    old = session.exec(select(ApiKey).where(ApiKey.key_id == key_id)).first()
    if old is None:
        raise ValidationFailed(f"密钥 {key_id} 不存在", field="密钥")
    return _rotate(session, old, grace_hours, "cli")[0]


def revoke(*, session: Session, actor: Actor, key_id: str) -> None:
    """Revoke a key at once (its next call is refused); logged."""
    key = _load(session, actor, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        _log(session, actor, key, "revoke", {})


def revoke_key(session: Session, *, key_id: str) -> None:
    """Revoke a key from the command line (the operator is trusted there).

    Raises:
        ValidationFailed: no such key.
    """
    key = session.exec(select(ApiKey).where(ApiKey.key_id == key_id)).first()
    if key is None:
        raise ValidationFailed(f"密钥 {key_id} 不存在", field="密钥")
    key.revoked_at = key.revoked_at or utcnow()
    session.add(key)


def verify_key(
    session: Session, presented: str, *, now: datetime | None = None, touch: bool = True
) -> ApiKey:
    """The key behind a presented secret; notes its use unless ``touch`` is False.

    Raises:
        AuthenticationFailed: malformed, unknown, wrong secret, revoked or past its grace period.
    """
    match = _KEY_FORMAT.match(presented.strip())
    if match is None:
        raise AuthenticationFailed("接入密钥格式不正确")
    key = session.exec(select(ApiKey).where(ApiKey.key_id == match.group(1))).first()
    # Compare digests in constant time so a wrong secret leaks nothing through timing.
    if key is None or not hmac.compare_digest(key.secret_digest, sm3_hex(match.group(2))):
        raise AuthenticationFailed("接入密钥无效")
    if key.revoked_at is not None:
        raise AuthenticationFailed("接入密钥已吊销")
    now = now or utcnow()
    if key.expires_at is not None and now >= key.expires_at:
        raise AuthenticationFailed("接入密钥已轮换且宽限期已过，请使用新密钥")
    if touch and (key.last_used_at is None or now - key.last_used_at >= _LAST_USED_RESOLUTION):
        key.last_used_at = now
        session.add(key)
    return key


def touch_key(session: Session, *, key_id: str, now: datetime) -> None:
    """Note a key's use (at most once a minute) with one UPDATE.

    The gateway calls this first thing in its own write transaction: on SQLite a transaction
    that reads and then writes can be refused at once when another writer got in between.
    """
    session.execute(
        sa.update(ApiKey)
        .where(ApiKey.key_id == key_id)
        .where(
            sa.or_(
                ApiKey.last_used_at.is_(None),  # type: ignore[union-attr]
                ApiKey.last_used_at < now - _LAST_USED_RESOLUTION,  # type: ignore[operator]
            )
        )
        .values(last_used_at=now)
    )


def key_actor(key: ApiKey, *, client_ip: str = "") -> Actor:
    """The principal a key acts as, for the operation log and data scope."""
    assert key.id is not None
    return Actor(
        user_id=0,
        account=f"apikey:{key.key_id}",
        display_name=key.name,
        tenant_code=key.tenant_code,
        session_id=0,
        client_ip=client_ip,
    )


def _status(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "已吊销"
    if key.expires_at is not None:
        return "已过期" if now >= key.expires_at else f"宽限期至 {to_local_text(key.expires_at)}"
    return "有效"


def list_keys(
    *,
    session: Session,
    actor: Actor,
    search: str = "",
    tenant_code: str | None = None,
    active_only: bool = False,
    page: PageRequest | None = None,
) -> Page[KeyRow]:
    """Keys in the actor's scope: search by name or key id, filter by tenant and state."""
    authz.require(actor, OBJ, "read")
    page = page or PageRequest()
    statement = restrict(
        select(ApiKey).order_by(ApiKey.created_at.desc()),  # type: ignore[attr-defined]
        ApiKey.tenant_code,  # type: ignore[arg-type]
        actor,
    )
    if search.strip():
        statement = statement.where(
            sa.or_(contains(ApiKey.name, search.strip()), contains(ApiKey.key_id, search.strip()))
        )
    if tenant_code:
        statement = statement.where(ApiKey.tenant_code == tenant_code)
    now = utcnow()
    if active_only:
        statement = statement.where(
            ApiKey.revoked_at.is_(None),  # type: ignore[union-attr]
            sa.or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),  # type: ignore[union-attr,operator]
        )
    keys, total = paginate(session, statement, page)
    orgs = _names(session, Organization, {k.org_id for k in keys})
    channels = _names(session, Channel, {k.channel_id for k in keys})
    tenants = tenant_labels(session, {k.tenant_code for k in keys})
    rows = [
        KeyRow(
            key_id=k.key_id,
            name=k.name,
            tenant_code=k.tenant_code,
            tenant=tenants[k.tenant_code],
            org_name=orgs.get(k.org_id or 0, ""),
            channel_name=channels.get(k.channel_id or 0, ""),
            scopes="、".join(KNOWN_SCOPES.get(s, s) for s in sorted(k.scope_set)),
            rate_limit_per_minute=k.rate_limit_per_minute,
            status=_status(k, now),
            created=to_local_text(k.created_at),
            created_by=k.created_by,
            last_used=to_local_text(k.last_used_at) if k.last_used_at else "从未使用",
            expires=to_local_text(k.expires_at) if k.expires_at else "",
            replaced_by=k.replaced_by,
        )
        for k in keys
    ]
    return Page(rows, total, page.page, page.size)


def key_names(session: Session, key_ids: set[str]) -> dict[str, str]:
    """The names of the given keys (for figures that count per key)."""
    if not key_ids:
        return {}
    rows = session.exec(select(ApiKey.key_id, ApiKey.name).where(ApiKey.key_id.in_(key_ids)))  # type: ignore[attr-defined]
    return dict(rows.all())


def _names(session: Session, model: type, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    rows = session.exec(select(model).where(model.id.in_(wanted))).all()  # type: ignore[attr-defined]
    return {row.id: row.name for row in rows}


def binding_choices(
    *, session: Session, actor: Actor
) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
    """Tenants a new key may belong to, and their organisations as (id, name, tenant code)."""
    authz.require(actor, OBJ, "write")
    tenants = session.exec(
        restrict(select(Tenant).order_by(Tenant.code), Tenant.code, actor)  # type: ignore[arg-type]
    ).all()
    orgs = session.exec(
        restrict(
            select(Organization).order_by(Organization.tenant_code, Organization.name),
            Organization.tenant_code,  # type: ignore[arg-type]
            actor,
        )
    ).all()
    return (
        [(t.code, t.name) for t in tenants],
        [(o.id or 0, o.name, o.tenant_code) for o in orgs],
    )


def channel_of(session: Session, key: ApiKey) -> Channel | None:
    """The channel a key's calls go through: its organisation's, whenever it has one.

    Looked up at every call, so a channel opened after the key was issued still governs it.
    """
    if key.org_id is not None:
        found = session.exec(select(Channel).where(Channel.org_id == key.org_id)).first()
        if found is not None:
            return found
    return session.get(Channel, key.channel_id) if key.channel_id else None


def sender_of(session: Session, key: ApiKey) -> str:
    """Who sent an event, for duplicate detection: stable across rotation, distinct per system.

    An organisation's keys share its identity; otherwise a key and its rotations share the id
    of the first key in the line.
    """
    if key.org_id is not None:
        return f"{key.tenant_code}:org:{key.org_id}"
    first = key
    for _ in range(100):  # rotation lines are short; the bound only guards against a cycle
        earlier = session.exec(select(ApiKey).where(ApiKey.replaced_by == first.key_id)).first()
        if earlier is None:
            break
        first = earlier
    return f"{key.tenant_code}:key:{first.key_id}"
