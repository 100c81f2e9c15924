"""Readers see one consistent lake while sealing and rollup rebuilds rewrite the same days.

The API runs as in production (granian); a second process seals and rebuilds rollups (the
CLI), as the scheduler of another node would. Between pushes every answer must be exactly
the known totals: no 5xx, no day counted twice (its new part and its pending copy), none
missing (sealed but not yet rolled up), no file replaced under a reader.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

from console.core.clock import CHINA_TZ
from tests.api.test_log_durability import _console, _free_port, _start_api
from tests.support.server import ROOT, server_environment

DAYS = 4
CASES_PER_ROUND_AND_DAY = 40
ROUNDS = 3


def _days() -> list[str]:
    today = datetime.now(CHINA_TZ).date()
    return [(today - timedelta(days=back)).isoformat() for back in range(DAYS, 0, -1)]


def _push(port: int, key: str, round_number: int) -> int:
    lines = [
        json.dumps({
            "event_id": f"r{round_number}-{day}-{n}", "ts": f"{day}T10:00:00+08:00",
            "tenant": "330000", "case_no": f"SNAP-{round_number}-{day}-{n}",
            "business_code": "2000402", "registration_type": "200", "channel": "online",
            "step": "accept",
        })
        for day in _days()
        for n in range(CASES_PER_ROUND_AND_DAY)
    ]  # fmt: skip
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/logs/case_event",
        method="POST",
        data="\n".join(lines).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
        assert not answer.get("rejected"), answer["rejected"][:2]
        return answer["accepted"]


def _get(port: int, path: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {"body": error.read().decode(errors="replace")[:300]}


def _token(env: dict[str, str], account: str, role: str) -> str:
    _console(env, "user", "create", "--account", account, "--name", "快照测试",
             "--tenant", "330000", "--role", role, "--token-only")  # fmt: skip
    return _console(env, "token", "create", "--user", account).strip()


class _Hammer:
    """Readers in threads, each checking every answer against the expected total."""

    def __init__(self, port: int, auditor: str, supervisor: str) -> None:
        first, last = _days()[0], _days()[-1]
        self.reads = {
            "search": (f"/api/v1/logs/case_event?start={first}&end={last}&size=1", auditor,
                       lambda body: body["total"]),
            "stats": (f"/api/v1/stats/cases?from={first}&to={last}", supervisor,
                      lambda body: sum(row["received"] for row in body["rows"])),
            "trace": (f"/api/v1/cases/SNAP-0-{first}-0/trace", auditor,
                      lambda body: len(body["entries"])),
        }  # fmt: skip
        self.port = port
        self.expected: dict[str, int] = {}
        self.failures: list[str] = []
        self.answers = 0
        self.stop = threading.Event()

    def _run(self, name: str) -> None:
        path, token, measure = self.reads[name]
        while not self.stop.is_set():
            status, body = _get(self.port, path, token)
            self.answers += 1
            if status != 200:
                self.failures.append(f"{name}: {status} {body}")
            elif measure(body) != self.expected[name]:
                self.failures.append(f"{name}: {measure(body)} != {self.expected[name]}")

    def during(self, work: list[list[str]], env: dict[str, str]) -> None:
        """Hammer while each command of ``work`` runs as its own process, one after another."""
        self.stop.clear()
        threads = [threading.Thread(target=self._run, args=(name,)) for name in self.reads]
        for thread in threads:
            thread.start()
        try:
            for args in work:
                subprocess.run(
                    [sys.executable, "-m", "console", *args], env=env, cwd=ROOT, check=True,
                    capture_output=True, timeout=180,
                )  # fmt: skip
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(timeout=60)


def test_reads_stay_exact_while_sealing_and_rollups_rewrite_the_same_days(
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = server_environment(tmp_path / "data", port)
    env["BDC_SCHEDULER_ENABLED"] = "false"  # sealing is the other process's, below
    _console(env, "init")
    key = _console(env, "apikey", "create", "--tenant", "330000", "--streams",
                   "logs.case_event").strip()  # fmt: skip
    auditor = _token(env, "snap_auditor", "audit_admin")
    supervisor = _token(env, "snap_supervisor", "province_supervisor")
    process = _start_api(env, port)
    hammer = _Hammer(port, auditor, supervisor)
    try:
        for round_number in range(ROUNDS):
            accepted = _push(port, key, round_number)
            assert accepted == DAYS * CASES_PER_ROUND_AND_DAY
            total = (round_number + 1) * accepted
            hammer.expected = {"search": total, "stats": total, "trace": 1}
            # Each round adds a part to every day and rebuilds the same days' rollups.
            work = [["seal-logs"]] + ([["rebuild-rollups"]] if round_number == 1 else [])
            hammer.during(work, env)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    assert hammer.failures == [], hammer.failures[:5]
    assert hammer.answers > 30  # the readers really ran across the seals
    sealed_parts = sorted((tmp_path / "data" / "lake" / "case_event").glob("date=*/part-*.parquet"))
    assert len(sealed_parts) == DAYS * ROUNDS  # the same days rewritten each round
