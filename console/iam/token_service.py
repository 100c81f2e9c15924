"""Personal access tokens: a user's own permissions and tenant scope, for their own tools.

A token is shown once; we keep its public id and the SM3 digest of its secret. It never
grants more than its owner holds at the moment of each call (permissions are checked then),
and it stops working when the owner is disabled (which revokes it), the tenant suspended, it
expires or is revoked. While the owner's password is reset or a forced change is pending, the
owner's tokens are suspended: whoever reset the password must not inherit the account's
tools. Tokens are single-factor by design (a second factor guards interactive sign-in).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from console.audit.service import record
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.crypto import sm3_hex
from console.core.errors import AuthenticationFailed, NotFound, ValidationFailed
from console.iam import admin_network_service as admin_networks
from console.iam.models import PersonalToken, User, UserStatus
from console.tenancy.service import tenant_is_active

TOKEN_PREFIX = "bdcp"
OBJ = "iam.users"  # the owner's own account
MAX_DAYS = 365
_FORMAT = re.compile(rf"^{TOKEN_PREFIX}_([a-z0-9]{{12}})_([A-Za-z0-9_-]{{43}})$")
_LAST_USED_RESOLUTION = timedelta(seconds=60)
TOKENS_SUSPENDED = "访问令牌已暂停：账号密码已被重置或须修改，账号本人登录并修改密码后恢复"


@dataclass(frozen=True)
class TokenRow:
    """One of the user's tokens (never its secret)."""

    token_id: str
    name: str
    created: str
    expires: str
    last_used: str
    status: str


def _issue(session: Session, user: User, name: str, days: int) -> str:
    if not 1 <= len(name.strip()) <= 64:
        raise ValidationFailed("应为 1 到 64 个字", field="名称")
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"应为 1 到 {MAX_DAYS} 天", field="有效期")
    assert user.id is not None
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    session.add(
        PersonalToken(
            token_id=token_id,
            secret_digest=sm3_hex(secret),
            user_id=user.id,
            name=name.strip(),
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    return f"{TOKEN_PREFIX}_{token_id}_{secret}"


def create_token(*, session: Session, actor: Actor, name: str, days: int = 90) -> str:
    """A new token for the actor's own account, shown once; logged."""
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("账号不存在")
    presented = _issue(session, user, name, days)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="token_create",
        target=name.strip(),
        detail={"days": days},
    )
    return presented


def create_token_for_account(session: Session, *, account: str, name: str, days: int) -> str:
    """A token from the command line (the operator is trusted there)."""
    user = session.exec(select(User).where(User.account == account)).first()
    if user is None:
        raise ValidationFailed(f"账号 {account} 不存在", field="账号")
    return _issue(session, user, name, days)


def _status(token: PersonalToken) -> str:
    if token.revoked_at is not None:
        return "已吊销"
    return "已过期" if utcnow() >= token.expires_at else "有效"


def list_tokens(*, session: Session, actor: Actor) -> list[TokenRow]:
    """The actor's own tokens, newest first."""
    tokens = session.exec(
        select(PersonalToken)
        .where(PersonalToken.user_id == actor.user_id)
        .order_by(PersonalToken.id.desc())  # type: ignore[union-attr]
    ).all()
    return [
        TokenRow(
            token_id=t.token_id,
            name=t.name,
            created=to_local_text(t.created_at),
            expires=to_local_text(t.expires_at),
            last_used=to_local_text(t.last_used_at) if t.last_used_at else "从未使用",
            status=_status(t),
        )
        for t in tokens
    ]


def revoke_token(*, session: Session, actor: Actor, token_id: str) -> None:
    """Revoke one of the actor's own tokens; logged."""
    token = session.exec(
        select(PersonalToken).where(
            PersonalToken.token_id == token_id, PersonalToken.user_id == actor.user_id
        )
    ).first()
    if token is None:
        raise NotFound("令牌不存在")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        record(session, actor=actor, obj=OBJ, action="token_revoke", target=token.name)


TOKEN_ADDRESS_REFUSED = "访问令牌不允许从此地址使用（管理员登录地址限制）"


def resolve_token(*, session: Session, presented: str, client_ip: str = "") -> Actor:
    """The user a token acts for, with that user's current tenant and permissions.

    Raises:
        AuthenticationFailed: malformed, unknown, revoked or expired token; disabled owner;
            suspended tenant.
    """
    match = _FORMAT.match(presented.strip())
    if match is None:
        raise AuthenticationFailed("访问令牌格式不正确")
    token = session.exec(
        select(PersonalToken).where(PersonalToken.token_id == match.group(1))
    ).first()
    if token is None or not hmac.compare_digest(token.secret_digest, sm3_hex(match.group(2))):
        raise AuthenticationFailed("访问令牌无效")
    now = utcnow()
    if token.revoked_at is not None:
        raise AuthenticationFailed("访问令牌已吊销")
    if now >= token.expires_at:
        raise AuthenticationFailed("访问令牌已过期")
    owner = session.get(User, token.user_id)
    if owner is not None and owner.must_change_password and not owner.token_only:
        raise AuthenticationFailed(TOKENS_SUSPENDED)
    # An administrator's token is bound by the same networks as their sign-in.
    if admin_networks.refusal_for(session, user_id=token.user_id, address=client_ip):
        raise AuthenticationFailed(TOKEN_ADDRESS_REFUSED)
    if token.last_used_at is None or now - token.last_used_at >= _LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.add(token)
    return acting_user(session=session, user_id=token.user_id, client_ip=client_ip)


def acting_user(*, session: Session, user_id: int, client_ip: str = "") -> Actor:
    """An actor for a user outside a login session (a token, a scheduled job).

    The user's current tenant and permissions apply; a disabled account or a suspended
    tenant may not act.

    Raises:
        AuthenticationFailed: the account is gone or disabled, or its tenant is suspended.
    """
    from console.iam.user_service import display_label

    user = session.get(User, user_id)
    if user is None or user.status != UserStatus.ACTIVE:
        raise AuthenticationFailed("令牌所属账号已停用")
    if not tenant_is_active(session, user.tenant_code):
        raise AuthenticationFailed("令牌所属租户已停用")
    assert user.id is not None
    return Actor(
        user_id=user.id,
        account=user.account,
        display_name=display_label(user),
        tenant_code=user.tenant_code,
        session_id=0,
        client_ip=client_ip,
    )


def revoke_all_tokens(session: Session, *, user_id: int) -> int:
    """Revoke every live token of an account (it was disabled); return how many."""
    live = session.exec(
        select(PersonalToken).where(
            PersonalToken.user_id == user_id,
            PersonalToken.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    ).all()
    for token in live:
        token.revoked_at = utcnow()
        session.add(token)
    return len(live)
