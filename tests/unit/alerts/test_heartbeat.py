"""The dead-man's switch: the leader's beat pushed to the outside monitor, and the endpoint that
answers 503 once the beats stop."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.alerts import scheduled
from console.alerts.models import Heartbeat
from console.api.routes.health import heartbeat as heartbeat_endpoint
from console.core.db import session_scope
from console.core.settings import get_settings
from console.jobs.registry import JobFailed
from tests.support.world import World

# SQLite only: one row read and written; the rules' tests cover PostgreSQL.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def monitor() -> Iterator[list[str]]:
    """An outside monitor's ping URL on 127.0.0.1 (healthchecks.io-style): the paths it got."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seen.append(f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def _configure(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("BDC_HEARTBEAT_URL", url)
    monkeypatch.setenv("BDC_OUTBOUND_ALLOW", "127.0.0.1")
    get_settings.cache_clear()


def test_the_leader_pings_the_outside_monitor_every_beat(
    seeded_db: str, monitor: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, f"{monitor[0]}/ping/bdc-console")
    assert scheduled.heartbeat(datetime.now(UTC)) == "心跳已发送"
    assert monitor[1:] == ["/ping/bdc-console"]
    with session_scope() as session:
        beat = session.get(Heartbeat, 1)
        assert beat is not None and beat.pushed_at is not None and beat.push_error == ""


def test_a_monitor_address_outside_the_allow_list_fails_the_job_visibly(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, "http://169.254.169.254/latest/meta-data")
    with pytest.raises(JobFailed, match="心跳发送失败"):
        scheduled.heartbeat(datetime.now(UTC))
    with session_scope() as session:
        beat = session.get(Heartbeat, 1)
        assert beat is not None and beat.push_error.startswith("心跳发送失败")


def test_the_endpoint_answers_503_once_the_beats_stop(seeded_db: str, world: World) -> None:
    answer = heartbeat_endpoint()
    assert answer.status_code == 503  # no beat yet
    with session_scope() as session:
        session.add(Heartbeat(id=1, beat_at=datetime.now(UTC) - timedelta(seconds=30)))
    assert heartbeat_endpoint().status_code == 200
    with session_scope() as session:
        beat = session.get(Heartbeat, 1)
        assert beat is not None
        beat.beat_at = datetime.now(UTC) - timedelta(minutes=10)
        session.add(beat)
    stale = heartbeat_endpoint()
    assert stale.status_code == 503
    assert "没有心跳" in json.loads(stale.body)["reason"]
