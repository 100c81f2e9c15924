"""Two console backends behind nginx, sharing PostgreSQL and Redis, survive losing either one.

Started by the test itself (``tests/support/cluster.py``): the shipped nginx template, the
frontend built once with ``build-frontend``, two ``serve --backend-only`` processes.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.cluster.conftest import KEY_RATE_PER_MINUTE, LOGIN_ATTEMPTS
from tests.e2e.conftest import log_in, wait_until_ready
from tests.support.cluster import Backend, Cluster
from tests.support.redis import RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _leader_pids(cluster: Cluster, since: datetime) -> set[int]:
    """The scheduler PIDs that have run alert evaluation since ``since`` (UTC)."""
    engine = sa.create_engine(cluster.db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT DISTINCT pid FROM job_run "
                    "WHERE job = 'alerts.evaluate' AND started_at >= :since"
                ),
                {"since": since.replace(tzinfo=None)},
            )
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def _backend_of(cluster: Cluster, pid: int) -> Backend:
    return next(backend for backend in cluster.backends if pid in backend.pids())


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _open_section(page: Page, cluster: Cluster, route: str, heading: str) -> None:
    page.goto(f"{cluster.url}{route}")
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=30_000)
    expect(page).not_to_have_url(re.compile(r"/login"))


def test_a_signed_in_browser_keeps_working_when_either_backend_is_killed(
    page: Page, cluster: Cluster, cluster_user: str
) -> None:
    page.goto(f"{cluster.url}/login")
    log_in(page, cluster.url, cluster_user)
    expect(page).to_have_url(re.compile(r"/(\?.*)?$|/overview"), timeout=30_000)
    _open_section(page, cluster, "/statistics", "统计分析")
    for victim in list(cluster.backends):
        victim.kill()  # SIGKILL: its websocket and its workers die at once
        # The same page keeps working: its next event goes to the other backend, whose copy
        # of the page state and session comes from Redis and PostgreSQL.
        page.get_by_role("link", name="共享接口监测").first.click()
        expect(page.get_by_role("heading", name="共享接口监测").first).to_be_visible(timeout=30_000)
        _open_section(page, cluster, "/statistics", "统计分析")
        expect(page).not_to_have_url(re.compile(r"/login"))
        victim.start()
    # Both backends served this browser's websocket at some point.
    assert {f"127.0.0.1:{b.port}" for b in cluster.backends} <= cluster.upstreams_of("/_event")


def _forget_sign_in_counts(redis_server: RedisServer) -> None:
    """The other browser tests sign in from the same address later."""
    with redis_server.client() as client:
        keys = list(client.scan_iter("bdc-limits*"))
        if keys:
            client.delete(*keys)


def test_the_sign_in_throttle_counts_per_address_across_both_backends(
    page: Page, cluster: Cluster, redis_server: RedisServer
) -> None:
    """Each fresh page opens its websocket on the next backend (round robin); both count."""
    try:  # an account nobody has: lockout of a real one would not be the throttle's doing
        refused_at = _attempt_until_refused(page, cluster, "no_such_account")
    finally:
        _forget_sign_in_counts(redis_server)
    # The browser's own sign-in above counted too; per process it would take twice as many.
    assert refused_at is not None and refused_at <= LOGIN_ATTEMPTS
    assert {f"127.0.0.1:{b.port}" for b in cluster.backends} <= cluster.upstreams_of("/_event")


def _attempt_until_refused(page: Page, cluster: Cluster, account: str) -> int | None:
    """Sign in with a wrong password on fresh pages until refused; the attempt that was."""
    for attempt in range(1, 2 * LOGIN_ATTEMPTS + 2):
        page.goto(f"{cluster.url}/login")
        wait_until_ready(page)
        page.get_by_test_id("login-account").fill(account)
        page.get_by_test_id("login-password").fill("Wrong#Password1")
        page.get_by_test_id("login-submit").click()
        message = page.get_by_text(re.compile("登录尝试过于频繁|账号或密码错误|账号已锁定"))
        expect(message.first).to_be_visible(timeout=15_000)
        if "过于频繁" in message.first.inner_text():
            return attempt
    return None


def _push(url: str, key: str, line: dict) -> int:
    request = urllib.request.Request(
        f"{url}/api/v1/logs/operation",
        method="POST",
        data=json.dumps(line, ensure_ascii=False).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_keys_rate_limit_holds_across_both_backends(cluster: Cluster) -> None:
    key = cluster.console(
        "apikey", "create", "--tenant", "330000", "--name", "限流测试",
        "--streams", "logs.operation", "--rate-limit", str(KEY_RATE_PER_MINUTE),
    ).strip()  # fmt: skip
    statuses = []
    for number in range(KEY_RATE_PER_MINUTE + 2):
        backend = cluster.backends[number % 2]  # straight to each backend in turn
        line = {"event_id": f"rl-{number}", "ts": "2026-12-01T10:00:00+08:00"}
        statuses.append(_push(backend.url, key, line))
    assert statuses[:KEY_RATE_PER_MINUTE].count(429) == 0
    assert statuses[KEY_RATE_PER_MINUTE:] == [429, 429]


def test_scheduled_jobs_run_on_one_leader_and_move_when_it_dies(cluster: Cluster) -> None:
    """Evaluation runs every 10 s: over a few runs, one scheduler ran it; then the other."""
    since = datetime.now(UTC)
    _wait(lambda: bool(_leader_pids(cluster, since)), 60, "a first alert evaluation")
    time.sleep(12)
    leaders = _leader_pids(cluster, since)
    assert len(leaders) == 1, "only the leader runs jobs"
    (leader_pid,) = leaders
    leader = _backend_of(cluster, leader_pid)
    leader.kill()
    _wait(lambda: len(_leader_pids(cluster, since)) == 2, 90, "the other backend to take over")
    (successor_pid,) = _leader_pids(cluster, since) - {leader_pid}
    assert _backend_of(cluster, successor_pid) is not leader
    leader.start()
    engine = sa.create_engine(cluster.db_url)
    try:
        with engine.connect() as connection:
            doubled = connection.execute(
                sa.text("SELECT job, slot FROM job_run GROUP BY job, slot HAVING count(*) > 1")
            ).all()
    finally:
        engine.dispose()
    assert doubled == []
