"""API keys: create (shown once), verify on every call, revoke."""

from __future__ import annotations

import hmac
import re
import secrets

from sqlmodel import Session, select

from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.crypto import sm3_hex
from console.core.errors import AuthenticationFailed, ValidationFailed
from console.interfaces.models import ApiKey
from console.tenancy.models import Tenant

KEY_PREFIX = "bdc"
KNOWN_SCOPES = {"iam.sync": "一体化平台用户同步"}
_KEY_FORMAT = re.compile(rf"^{KEY_PREFIX}_([a-z0-9]{{12}})_([A-Za-z0-9_-]{{43}})$")


def create_key(
    session: Session,
    *,
    name: str,
    tenant_code: str,
    scopes: set[str],
    created_by: str,
    org_id: int | None = None,
) -> str:
    """Create a key and return it in full: the only time it is ever shown.

    Raises:
        ValidationFailed: unknown tenant or scope.
    """
    if session.get(Tenant, tenant_code) is None:
        raise ValidationFailed(f"租户 {tenant_code} 不存在", field="租户")
    unknown = scopes - set(KNOWN_SCOPES)
    if unknown or not scopes:
        raise ValidationFailed(f"可用范围：{'、'.join(KNOWN_SCOPES)}", field="范围")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            key_id=key_id,
            secret_digest=sm3_hex(secret),
            name=name.strip(),
            tenant_code=tenant_code,
            org_id=org_id,
            scopes=",".join(sorted(scopes)),
            created_by=created_by,
        )
    )
    return f"{KEY_PREFIX}_{key_id}_{secret}"


def verify_key(session: Session, presented: str) -> ApiKey:
    """The key behind a presented secret; records its use.

    Raises:
        AuthenticationFailed: malformed, unknown, wrong secret or revoked.
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
    key.last_used_at = utcnow()
    session.add(key)
    return key


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


def revoke_key(session: Session, *, key_id: str) -> None:
    """Revoke a key at once.

    Raises:
        ValidationFailed: no such key.
    """
    key = session.exec(select(ApiKey).where(ApiKey.key_id == key_id)).first()
    if key is None:
        raise ValidationFailed(f"密钥 {key_id} 不存在", field="密钥")
    key.revoked_at = utcnow()
    session.add(key)
