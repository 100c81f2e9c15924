"""With Redis configured, a limit is per address or key across processes, not per process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.core import limiting
from console.core.settings import get_settings
from console.iam import throttle
from tests.support.redis import RedisServer

ROOT = Path(__file__).resolve().parents[3]
ADDRESS = "198.51.100.7"


def _attempts_in_another_process(count: int) -> int:
    """How many of ``count`` sign-in attempts another process was allowed."""
    code = (
        "from console.iam.throttle import allow_attempt; "
        f"print(sum(allow_attempt({ADDRESS!r}) for _ in range({count})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ),
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return int(result.stdout.strip())


def test_sign_in_attempts_counted_by_another_process_count_here(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_server.flush()
    monkeypatch.setenv("BDC_REDIS_URL", redis_server.url)
    monkeypatch.setenv("BDC_LOGIN_ATTEMPTS_PER_ADDRESS", "5")
    get_settings.cache_clear()
    assert limiting.shared()
    assert _attempts_in_another_process(4) == 4
    assert throttle.allow_attempt(ADDRESS)  # the fifth, here
    assert not throttle.allow_attempt(ADDRESS)  # the quota was used by both processes
    assert _attempts_in_another_process(1) == 0
    assert throttle.allow_attempt("198.51.100.8")  # another address has its own count


def test_without_redis_the_counts_are_kept_in_this_process() -> None:
    assert not limiting.shared()
    for _ in range(get_settings().login_attempts_per_address):
        assert throttle.allow_attempt(ADDRESS)
    assert not throttle.allow_attempt(ADDRESS)
