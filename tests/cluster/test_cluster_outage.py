"""Losing Redis while the cluster runs: 503 naming it, no 200 for unsaved records, a notice.

Redis is started again at the end (on the same port, empty), so the other cluster tests may
run before or after this one.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from email.message import Message

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in
from tests.support.cluster import Cluster
from tests.support.redis import RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _call(url: str, *, body: bytes | None = None, key: str = "") -> tuple[int, Message, dict]:
    headers = {"Content-Type": "application/x-ndjson"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        url, data=body, headers=headers, method="POST" if body else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_a_lost_redis_is_named_with_503_and_a_notice_then_recovers(
    page: Page, cluster: Cluster, cluster_user: str, redis_server: RedisServer
) -> None:
    key = cluster.console(
        "apikey", "create", "--tenant", "330000", "--name", "断连测试",
        "--streams", "logs.operation",
    ).strip()  # fmt: skip
    line = json.dumps({
        "event_id": "outage-1", "ts": "2026-12-01T10:00:00+08:00", "tenant": "330000",
        "actor": "clerk01", "action": "查询", "object": "不动产单元", "outcome": "success",
    }, ensure_ascii=False).encode()  # fmt: skip
    page.goto(f"{cluster.url}/login")
    log_in(page, cluster.url, cluster_user)
    expect(page).not_to_have_url(re.compile(r"/login"), timeout=30_000)
    page.goto(f"{cluster.url}/statistics")
    expect(page.get_by_role("heading", name="统计分析").first).to_be_visible(timeout=30_000)

    redis_server.stop()
    try:
        status, _, body = _call(f"{cluster.url}/api/v1/health")
        assert (status, body["status"], body["unavailable"]) == (503, "degraded", ["Redis"])
        status, headers, body = _call(f"{cluster.url}/api/v1/logs/operation", body=line, key=key)
        assert status == 503 and headers.get("Retry-After") == "5"
        assert body["detail"] == "Redis暂时无法连接，请稍后重试"
        # The page says so instead of hanging (its events wait for Redis; the banner does not).
        page.get_by_test_id("nav-interface_monitor").click()
        expect(page.get_by_test_id("dependency-banner")).to_contain_text(
            "Redis暂时无法连接", timeout=30_000
        )
    finally:
        redis_server.restart()
    deadline = time.monotonic() + 30
    while _call(f"{cluster.url}/api/v1/health")[0] != 200:
        assert time.monotonic() < deadline, "the cluster did not recover with Redis back"
        time.sleep(0.5)
    status, _, body = _call(f"{cluster.url}/api/v1/logs/operation", body=line, key=key)
    assert (status, body["accepted"]) == (200, 1)
    expect(page.get_by_test_id("dependency-banner")).to_have_count(0, timeout=30_000)
