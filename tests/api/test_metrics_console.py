"""GET /metrics of the real console: its backend processes share the folder ``serve`` set up."""

from __future__ import annotations

import secrets
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

from tests.api.test_metrics import INGEST_ROUTE, Samples, parse, value
from tests.support.server import ConsoleServer


def _get(server: ConsoleServer, path: str) -> str:
    with urllib.request.urlopen(f"{server.base_url}{path}", timeout=30) as response:
        return response.read().decode()


def _eventually(check: Callable[[], Samples | None], timeout: float = 90) -> Samples:
    end = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        assert time.monotonic() < end, "the console's metrics never showed it"
        time.sleep(1)


def test_the_real_console_sums_its_processes_into_one_scrape(console_server: ConsoleServer) -> None:
    key = console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "指标测试", "--streams",
        "logs.operation",
    ).strip()  # fmt: skip
    operation = {
        "event_id": f"metrics-{secrets.token_hex(4)}", "ts": datetime.now(UTC).isoformat(),
        "tenant": "330000", "actor": "tester", "action": "read", "object": "audit.logs",
        "outcome": "success",
    }  # fmt: skip
    before = parse(_get(console_server, "/metrics"))  # from 127.0.0.1: allowed by default
    assert console_server.push_logs(key, "operation", [operation])["accepted"] == 1
    accepted = {"stream": "operation", "tenant": "330000", "outcome": "accepted"}

    def settled() -> Samples | None:
        found = parse(_get(console_server, "/metrics"))
        pushed = value(found, "bdc_ingest_events_total", **accepted) - value(
            before, "bdc_ingest_events_total", **accepted
        )
        sealing_runs = [k for k in found if k[0] == "bdc_job_runs_total" and
                        ("job", "logs.seal") in k[1]]  # fmt: skip
        return found if pushed == 1 and sealing_runs else None

    found = _eventually(settled)  # the sealing job runs every 15 s in the scheduler's worker
    timed = {"route": INGEST_ROUTE, "method": "POST", "status_class": "2xx"}
    assert value(found, "bdc_http_request_duration_seconds_count", **timed) >= 1
    for source in ("sealing", "chain", "backup"):
        assert value(found, "bdc_metrics_source_ok", source=source) == 1
    folder = console_server.data_dir / ".metrics"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert list(folder.glob("counter_*.db")) and list(folder.glob("histogram_*.db"))
