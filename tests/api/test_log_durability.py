"""Durability: kill -9 the API mid-ingestion; every acknowledged event is there exactly once."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from console.logs.pending import ingest_path
from tests.support.push import post_batch
from tests.support.server import ROOT, server_environment

BATCH = 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _console(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "console", *args], env=env, cwd=ROOT, capture_output=True,
        text=True, check=True, timeout=120,
    )  # fmt: skip
    return done.stdout


def _start_api(env: dict[str, str], port: int) -> subprocess.Popen:
    """Only the HTTP API (the same app Reflex mounts), served by granian as in production."""
    process = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "console.http_api:create_http_api"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: kill -9 reaches the workers too
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("API did not start")


def _batch(number: int) -> bytes:
    lines = [
        json.dumps({
            "event_id": f"b{number}-{n}", "ts": "2026-11-27T09:00:00+08:00", "tenant": "330000",
            "case_no": f"C{number}-{n}", "business_code": "2000402", "registration_type": "200",
            "channel": "online", "step": "apply",
        })
        for n in range(BATCH)
    ]  # fmt: skip
    return "\n".join(lines).encode()


def _push(port: int, key: str, number: int) -> bool:
    answer = post_batch(port, key, _batch(number), timeout=10)
    return answer is not None and answer["accepted"] >= 0


def test_acknowledged_events_survive_kill_9_exactly_once(tmp_path: Path) -> None:
    port = _free_port()
    env = server_environment(tmp_path / "data", port)
    _console(env, "init")
    key = _console(
        env, "apikey", "create", "--tenant", "330000", "--streams", "logs.case_event"
    ).strip()
    process = _start_api(env, port)
    acknowledged: list[int] = []
    stop = threading.Event()

    def sender() -> None:
        number = 0
        while not stop.is_set():
            if _push(port, key, number):
                acknowledged.append(number)
            number += 1

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 5:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # mid-stream: batches are in flight
    process.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=20)

    process = _start_api(env, port)  # restart: the store opens its write-ahead log again
    try:
        for number in acknowledged:  # re-sending what was acknowledged stores nothing twice
            assert _push(port, key, number)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    database = sqlite3.connect(ingest_path(tmp_path / "data" / "lake"))
    rows = dict(database.execute("SELECT event_id, count(*) FROM pending GROUP BY event_id"))
    database.close()
    expected = {f"b{number}-{n}" for number in acknowledged for n in range(BATCH)}
    assert expected <= set(rows)
    assert set(rows.values()) == {1}
