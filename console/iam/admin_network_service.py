"""Administrators only from known places: the networks each of 三员 may sign in from.

GB/T 22239-2019 level 3 asks that administration be limited to known terminals or networks.
Each administrator (系统管理员, 安全管理员, 审计管理员 — or a custom role with their powers)
has a list of networks, edited on 系统设置 by whoever holds ``system.settings:write``; by
default loopback and the private ranges. A sign-in from elsewhere reads exactly like a wrong
password to the person (so it teaches a guesser nothing) and is logged with the address.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import ValidationFailed
from console.core.net import in_networks, parse_networks
from console.iam.models import AdminNetwork
from console.iam.separation import ADMIN_LABELS, THREE_ADMINS, duties_of

OBJ = "system.settings"
DEFAULT_NETWORKS = (
    "127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7, fe80::/10"
)
MAX_ENTRIES = 64
MAX_TEXT = 2000  # the column holds this much


@dataclass(frozen=True)
class AdminNetworks:
    """One administrator's allowed networks as the settings page shows them."""

    admin: str
    label: str
    networks: str
    is_default: bool


def allowed_networks(session: Session) -> dict[str, str]:
    """Each administrator's networks in force (stored, else the default)."""
    stored = {row.admin: row.networks for row in session.exec(select(AdminNetwork)).all()}
    return {admin: stored.get(admin, DEFAULT_NETWORKS) for admin in THREE_ADMINS}


def refusal_for(session: Session, *, user_id: int, address: str) -> str:
    """Why ``address`` may not sign in to this account ("" when it may).

    An empty address comes only from inside the server (the command line, tests); every
    HTTP sign-in has the peer's address.
    """
    if not address:
        return ""
    duties = duties_of(session, user_id)
    if not duties:
        return ""
    networks = allowed_networks(session)
    for admin in duties:
        if not in_networks(address, parse_networks(networks[admin])):
            return f"来源地址 {address} 不在{ADMIN_LABELS[admin]}允许登录的网段内"
    return ""


def read_admin_networks(*, session: Session, actor: Actor) -> list[AdminNetworks]:
    """The three lists as the settings page shows them."""
    authz.require(actor, OBJ, "read")
    stored = {row.admin for row in session.exec(select(AdminNetwork)).all()}
    return [
        AdminNetworks(admin, ADMIN_LABELS[admin], networks, admin not in stored)
        for admin, networks in allowed_networks(session).items()
    ]


def check_networks(text: str) -> str:
    """The list normalised (one network per entry, comma-separated), or a Chinese reason.

    Raises:
        ValidationFailed: an entry that is not an address or network, an empty list, too many.
    """
    try:
        networks = parse_networks(text)
    except ValueError as bad:
        raise ValidationFailed(f"无法识别的地址或网段：{bad}", field="允许的网段") from None
    if not networks:
        raise ValidationFailed("至少填写一个地址或网段", field="允许的网段")
    normalised = ", ".join(str(network) for network in networks)
    if len(networks) > MAX_ENTRIES or len(normalised) > MAX_TEXT:
        raise ValidationFailed(
            f"最多 {MAX_ENTRIES} 个地址或网段（合计不超过 {MAX_TEXT} 个字符）", field="允许的网段"
        )
    return normalised


def update_admin_networks(*, session: Session, actor: Actor, admin: str, networks: str) -> str:
    """Set one administrator's networks; the actor may not shut themselves out.

    Raises:
        ValidationFailed: an unknown administrator, a bad list, or one that leaves out the
            address the actor is signed in from while the actor acts as that administrator.
    """
    authz.require(actor, OBJ, "write", target=f"admin_networks:{admin}")
    if admin not in THREE_ADMINS:
        raise ValidationFailed("未知的管理员角色", field="管理员")
    normalised = check_networks(networks)
    own = actor.client_ip and admin in duties_of(session, actor.user_id)
    if own and not in_networks(actor.client_ip, parse_networks(normalised)):
        raise ValidationFailed(
            f"保存后您将无法从当前地址 {actor.client_ip} 登录，请把它包含在内", field="允许的网段"
        )
    before = allowed_networks(session)[admin]
    row = session.get(AdminNetwork, admin) or AdminNetwork(admin=admin, networks=normalised)
    row.networks, row.updated_by, row.updated_at = normalised, actor.account, utcnow()
    session.add(row)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="update",
        target=f"admin_networks:{admin}",
        detail={"before": before, "after": normalised},
    )
    return normalised
