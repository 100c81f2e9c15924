"""Sign-in attempts per source address: the main defence against guessing.

Account lockout alone lets a guesser walk across many accounts and lets anyone keep an
administrator locked; a moving-window limit per address stops the loop itself. The counts
live in ``limits`` storage (``console.core.limiting``): in this process by default, in Redis
(``BDC_REDIS_URL``) across every process and node of a cluster.
"""

from __future__ import annotations

import ipaddress

from limits import RateLimitItem, RateLimitItemPerMinute

from console.core.limiting import limiter
from console.core.net import client_address, parse_address, parse_networks
from console.core.settings import get_settings

WINDOW_MINUTES = 10
TOO_MANY_ATTEMPTS = "登录尝试过于频繁，请稍后再试；多次失败请联系安全管理员"


def _rate() -> RateLimitItem:
    return RateLimitItemPerMinute(get_settings().login_attempts_per_address, WINDOW_MINUTES)


def _bucket(address: str) -> str:
    """IPv6 callers are counted by /64: one host owns a whole /64 and could rotate within it."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address or "?"


def allow_attempt(address: str) -> bool:
    """Count one sign-in attempt from ``address``; False once the window's quota is used."""
    return limiter().hit(_rate(), "login", _bucket(address))


def reset() -> None:
    """Forget every count (tests; an operator restarting the limiter)."""
    limiter().storage.reset()


def source_address(peer: str, forwarded_for: str) -> str:
    """The signing-in address; a proxy header counts only when a trusted proxy sent it."""
    return client_address(
        peer, forwarded_for, trusted=parse_networks(get_settings().trusted_proxies)
    )
