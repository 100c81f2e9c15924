"""Network addresses: who is really calling, and whether an address is in a list of networks."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(text: str) -> tuple[Network, ...]:
    """Networks from ``10.0.0.0/8, ::1, 192.168.1.7`` (a bare address is a one-address network).

    Raises:
        ValueError: naming the entry that is not an address or network.
    """
    networks = []
    for raw in text.replace("，", ",").replace("\n", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"「{entry}」不是有效的 IP 地址或网段") from None
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """The address in ``text`` (IPv4-mapped IPv6 unwrapped), or None when it is not one."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def in_networks(address: str, networks: Iterable[Network]) -> bool:
    """True when ``address`` lies in one of ``networks`` (never for a non-address)."""
    parsed = parse_address(address)
    return parsed is not None and any(parsed in network for network in networks)


def client_address(peer: str, forwarded_for: str, *, trusted: Iterable[Network]) -> str:
    """The caller's address: the peer, unless the peer is a trusted proxy.

    Behind trusted proxies, ``X-Forwarded-For`` is read from the right, skipping addresses of
    trusted proxies; the first untrusted one is the client. A header from anyone else is
    ignored, since a client can write whatever it likes there.
    """
    trusted = tuple(trusted)
    if not trusted or not in_networks(peer, trusted):
        return peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if parse_address(hop) is None:
            return peer  # a malformed chain is not evidence of anything
        if not in_networks(hop, trusted):
            return str(parse_address(hop))
    return peer
