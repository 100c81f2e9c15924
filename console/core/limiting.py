"""Where rate-limit counts live: in this process by default, in Redis when the console scales out.

Every limit (the gateway's per-key call rate, the sign-in attempts per address) counts through
``limiter()``, so with ``BDC_REDIS_URL`` set a limit is per key or per address across every
process and node, never per process. ``limits`` keeps the moving windows; its Redis storage
does each hit atomically in a Lua script.
"""

from __future__ import annotations

import functools

from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from console.core.dependencies import CONNECT_TIMEOUT_S
from console.core.settings import get_settings


@functools.cache
def _storage_for(url: str) -> Storage:
    if not url:
        return MemoryStorage()
    # limits spells Redis over a Unix socket redis+unix://
    scheme_fixed = f"redis+{url}" if url.startswith("unix://") else url
    return storage_from_string(
        scheme_fixed,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=CONNECT_TIMEOUT_S,
        key_prefix="bdc-limits",
    )


def limiter() -> MovingWindowRateLimiter:
    """The moving-window limiter over this configuration's storage."""
    return _limiter_for(get_settings().redis_url)


@functools.cache
def _limiter_for(url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(_storage_for(url))


def shared() -> bool:
    """True when counts are shared by every process (Redis)."""
    return bool(get_settings().redis_url)
