"""对外访问白名单: where the console may call besides the public internet, kept by 系统管理员.

Departmental endpoints (公安, 民政, 税务 gateways) often sit at private addresses, which the
guarded client (``core.outbound``) refuses by default. ``BDC_OUTBOUND_ALLOW`` is the
deployment's fixed baseline; this list is what the system administrator adds on 系统设置,
in force from the next call, every change in the operation log with before and after.
Cloud metadata (link-local) and whole-internet ranges cannot be added: they would undo
the guard.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from loguru import logger
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.db import session_scope
from console.core.errors import ValidationFailed
from console.core.net import Network
from console.core.outbound import OutboundPolicy, configured_policy
from console.core.settings import get_settings
from console.iam.outbound_models import OutboundAllowList

OBJ = "system.outbound"
FIELD = "白名单"
MAX_ENTRIES = 64
MAX_TEXT = 2000
_SHORTEST_PREFIX = {4: 8, 6: 32}  # wider than a /8 (IPv6 /32) is no longer a list
_NEVER = tuple(
    ipaddress.ip_network(n)
    for n in ("169.254.0.0/16", "0.0.0.0/8", "224.0.0.0/4", "fe80::/10", "::/128", "ff00::/8")
)
_IPV4_IN_IPV6 = tuple(
    ipaddress.ip_network(n)
    for n in ("::ffff:0:0/96", "2002::/16", "64:ff9b::/96", "64:ff9b:1::/48", "::/96")
)
_METADATA = tuple(ipaddress.ip_network(n) for n in ("100.100.100.200/32", "fd00:ec2::254/128"))
_LOCAL_SUFFIXES = frozenset({"localhost", "local", "internal", "localdomain", "arpa"})


@dataclass(frozen=True)
class OutboundAllow:
    """The list as 系统设置 shows it."""

    baseline: str  # from BDC_OUTBOUND_ALLOW, not editable here
    entries: str
    updated: str  # who and when, "" before the first change


def check_entries(text: str) -> str:
    """The list normalised (comma-separated), or a Chinese reason naming the bad entry.

    Raises:
        ValidationFailed: an entry that is no address, network or host name; a metadata or
            too wide network; too many entries.
    """
    try:
        policy = OutboundPolicy.parse(text)
    except ValueError as bad:
        raise ValidationFailed(f"无法识别的地址、网段或域名：{bad}", field=FIELD) from None
    for network in policy.networks:
        _check_network(network)
    for host in policy.hosts:
        labels = [label for label in host.strip(".").split(".") if label]
        if len(labels) < 2 or labels[-1] in _LOCAL_SUFFIXES:
            raise ValidationFailed(
                f"域名 {host} 不是具体的部门域名（至少两级，且不能是 localhost 或内部域名）",
                field=FIELD,
            )
    entries = [str(n) for n in policy.networks] + sorted(policy.hosts)
    normalised = ", ".join(entries)
    if len(entries) > MAX_ENTRIES or len(normalised) > MAX_TEXT:
        raise ValidationFailed(
            f"最多 {MAX_ENTRIES} 项（合计不超过 {MAX_TEXT} 个字符）", field=FIELD
        )
    return normalised


def _check_network(network: Network) -> None:
    if network.prefixlen < _SHORTEST_PREFIX[network.version]:
        raise ValidationFailed(f"网段 {network} 过大，请填写具体的部门网段", field=FIELD)
    never = (*_NEVER, *_METADATA)
    if any(network.overlaps(n) for n in never if n.version == network.version):
        raise ValidationFailed(
            f"{network} 含链路本地、未指定或组播地址（如云平台元数据服务），不能加入白名单",
            field=FIELD,
        )
    if network.version == 6 and any(network.overlaps(wrapper) for wrapper in _IPV4_IN_IPV6):
        raise ValidationFailed(f"{network} 内含 IPv4 地址，请直接填写 IPv4 地址", field=FIELD)


def stored_entries(session: Session) -> str:
    """What the system administrator has added ("" when nothing)."""
    row = session.get(OutboundAllowList, 1)
    return row.entries if row else ""


def policy() -> OutboundPolicy:
    """What the guarded client may reach now: the baseline plus the kept list."""
    try:
        with session_scope() as session:
            kept = stored_entries(session)
    except SQLAlchemyError:  # no configuration database to ask: the baseline alone (closed)
        logger.warning("无法读取对外访问白名单，仅使用部署时固定的白名单")
        return configured_policy()
    try:
        return OutboundPolicy.parse(f"{get_settings().outbound_allow}, {kept}")
    except ValueError:  # checked when saved; a row edited by hand falls back to the baseline
        logger.error("对外访问白名单无法解析，仅使用部署时固定的白名单")
        return configured_policy()


def read_outbound(*, session: Session, actor: Actor) -> OutboundAllow:
    """The baseline and the kept list."""
    authz.require(actor, OBJ, "read")
    row = session.get(OutboundAllowList, 1)
    updated = f"{row.updated_by} 于 {to_local_text(row.updated_at)} 修改" if row else ""
    return OutboundAllow(get_settings().outbound_allow, row.entries if row else "", updated)


def update_outbound(*, session: Session, actor: Actor, entries: str) -> str:
    """Replace the kept list (an empty list removes every addition); returns it normalised."""
    authz.require(actor, OBJ, "write")
    normalised = check_entries(entries)
    row = session.get(OutboundAllowList, 1) or OutboundAllowList()
    before = row.entries
    row.entries, row.updated_by, row.updated_at = normalised, actor.account, utcnow()
    session.add(row)
    record(session, actor=actor, obj=OBJ, action="update", target="outbound_allow",
           detail={"before": before, "after": normalised})  # fmt: skip
    return normalised
