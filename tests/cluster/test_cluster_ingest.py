"""Pushing through nginx while a backend is killed and restarted: nothing lost, nothing doubled.

Three senders push batches of case events through nginx the way a registration system does:
a batch without a 200 is sent again until it gets one. Meanwhile one backend is SIGKILLed and
started again. Afterwards every event is found exactly once by the read API, and the case
statistics equal the truth the test kept.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta

import pytest

from console.core.clock import CHINA_TZ
from tests.support.cluster import Cluster
from tests.support.push import post_batch

pytestmark = pytest.mark.slow

SENDERS = 3
BATCH = 100


def _batch(sender: int, number: int, ts: str) -> bytes:
    lines = [
        json.dumps({
            "event_id": f"s{sender}-b{number}-{n}", "ts": ts, "tenant": "330000",
            "case_no": f"S{sender}B{number}N{n}", "business_code": "2000402",
            "registration_type": "200", "channel": "online", "step": "accept",
        })
        for n in range(BATCH)
    ]  # fmt: skip
    return "\n".join(lines).encode()


def _get(cluster: Cluster, path: str, token: str, **params: str) -> dict:
    url = f"{cluster.url}{path}?{urllib.parse.urlencode(params)}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_pushes_through_nginx_survive_a_killed_backend_exactly_once(cluster: Cluster) -> None:
    port = int(cluster.url.rsplit(":", 1)[1])
    keys = [
        cluster.console(
            "apikey", "create", "--tenant", "330000", "--name", f"集群推送{sender}",
            "--streams", "logs.case_event", "--rate-limit", "100000",
        ).strip()
        for sender in range(SENDERS)
    ]  # fmt: skip
    now = datetime.now(CHINA_TZ).replace(microsecond=0) - timedelta(minutes=1)
    ts = now.isoformat()
    acknowledged: list[int] = [0] * SENDERS
    retried: list[int] = [0] * SENDERS
    stop = threading.Event()

    def sender(index: int) -> None:
        number = 0
        while not stop.is_set():
            body = _batch(index, number, ts)
            while post_batch(port, keys[index], body, timeout=20) is None:
                retried[index] += 1  # no 200: the sender keeps the batch and tries again
                time.sleep(0.2)
            acknowledged[index] += 1
            number += 1

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        victim = cluster.backends[0]
        victim.kill()  # mid-stream: batches are in flight to it
        time.sleep(3)
        victim.start()
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    sent = sum(acknowledged) * BATCH
    assert sum(acknowledged) >= SENDERS * 3, "the senders got through"

    account = "cluster_reader"
    cluster.console(
        "user", "create", "--account", account, "--name", "集群读取", "--tenant", "330000",
        "--role", "province_supervisor", "--token-only",
    )  # fmt: skip
    token = cluster.console("token", "create", "--user", account).strip()
    day = now.date().isoformat()
    found = _get(cluster, "/api/v1/logs/case_event", token, **{"from": day, "to": day, "size": "1"})
    assert found["total"] == sent
    stats = _get(cluster, "/api/v1/stats/cases", token, **{"from": day, "to": day})
    assert [row["received"] for row in stats["rows"]] == [sent]
