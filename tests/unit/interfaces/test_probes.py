"""Health probes against a real HTTP server on loopback: up, slow, failing and closed ports."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.errors import Forbidden, ValidationFailed
from console.interfaces import probe_service as probes
from console.interfaces import registry_service as registry
from console.interfaces.models import InterfaceDef
from console.interfaces.registry_service import InterfaceDraft
from tests.support.world import World

# The slow endpoint holds far longer than any bound below, so finishing under the
# bound proves the probe's timeout cut it, even on a loaded two-core CI machine.
SLOW_SECONDS = 12
GAVE_UP_WITHIN = 6.0


class _Handler(BaseHTTPRequestHandler):
    """/up → 200, /slow → 200 after 12 s, /fail → 503, anything else → 404."""

    def _answer(self) -> None:
        if self.path == "/slow":
            time.sleep(SLOW_SECONDS)
        status = {"/up": 200, "/slow": 200, "/fail": 503}.get(self.path, 404)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """The slow handler writes to a client that gave up: expected, not an error."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Base URL of a real HTTP server on a free loopback port."""
    httpd = _QuietServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def closed_url() -> str:
    """A loopback URL nothing listens on (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/up"


def _register(world: World, code: str, endpoint: str, **changes: object) -> int:
    draft = InterfaceDraft(
        code=code,
        name=f"测试接口 {code}",
        department="公安部",
        sharing_class="身份核验类",
        endpoint_url=endpoint,
        **changes,  # type: ignore[arg-type]
    )
    with session_scope() as session:
        row = registry.create_interface(
            session=session, actor=world.actor("sys_admin"), draft=draft
        )
    return row.id


def _interface(interface_id: int) -> InterfaceDef:
    with session_scope() as session:
        interface = session.get(InterfaceDef, interface_id)
        assert interface is not None
        return interface


def _test_connection(world: World, interface_id: int, **options: int) -> probes.ProbeRow:
    with session_scope() as session:
        return probes.test_connection(
            session=session, actor=world.actor("sys_admin"), interface_id=interface_id, **options
        )


def test_probe_endpoint_reports_up_failing_closed_and_slow(server: str, closed_url: str) -> None:
    up = probes.probe_endpoint(url=f"{server}/up", method="POST", timeout_ms=2000)
    assert (up.ok, up.status_code, up.error) == (True, 200, "")
    missing = probes.probe_endpoint(url=f"{server}/nothing", method="GET", timeout_ms=2000)
    assert (missing.ok, missing.status_code) == (True, 404)  # reachable, just not this path
    failing = probes.probe_endpoint(url=f"{server}/fail", method="GET", timeout_ms=2000)
    assert (failing.ok, failing.status_code) == (False, 503)
    assert failing.error == "服务端错误：状态码 503"
    closed = probes.probe_endpoint(url=closed_url, method="GET", timeout_ms=2000)
    assert not closed.ok and closed.status_code is None
    assert closed.error == "无法连接：拒绝连接"  # a category, never the remote's text
    started = time.perf_counter()
    slow = probes.probe_endpoint(url=f"{server}/slow", method="POST", timeout_ms=300)
    assert time.perf_counter() - started < GAVE_UP_WITHIN
    assert not slow.ok and slow.error == "超时（超过 300 毫秒）"
    assert slow.latency_ms >= 300


def test_a_probe_of_the_servers_own_network_is_refused_unless_allowed(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.core.settings import get_settings

    monkeypatch.setenv("BDC_OUTBOUND_ALLOW", "")
    get_settings.cache_clear()
    for url in (f"{server}/up", server.replace("127.0.0.1", "localhost") + "/up"):
        refused = probes.probe_endpoint(url=url, method="GET", timeout_ms=2000)
        assert not refused.ok and refused.status_code is None
        assert refused.error.startswith("地址不允许")
    metadata = probes.probe_endpoint(
        url="http://169.254.169.254/latest/meta-data/", method="GET", timeout_ms=2000
    )
    assert metadata.error.startswith("地址不允许")


def test_connection_to_a_live_endpoint_is_stored_logged_and_heals(
    world: World, server: str
) -> None:
    interface_id = _register(world, "gab.up", f"{server}/up")
    row = _test_connection(world, interface_id)
    assert row.ok and row.status_code == 200 and row.trigger == "manual"
    assert row.actor == "u_sys_admin" and 0 <= row.latency_ms < 2000
    interface = _interface(interface_id)
    assert interface.health == "ok" and interface.consecutive_failures == 0
    assert interface.last_probe_at is not None and interface.last_latency_ms == row.latency_ms
    with session_scope() as session:
        history = probes.probe_history(
            session=session, actor=world.actor("sharing_user"), interface_id=interface_id
        )
        logged = session.exec(
            select(OperationLog).where(
                OperationLog.object == registry.OBJ,
                OperationLog.action == "test",
                OperationLog.target == "gab.up",
            )
        ).all()
    assert [(h.id, h.ok) for h in history] == [(row.id, True)]
    assert len(logged) == 1 and json.loads(logged[0].detail)["status_code"] == 200


def test_connection_past_the_timeout_gives_up_in_time(world: World, server: str) -> None:
    interface_id = _register(world, "gab.slow", f"{server}/slow", timeout_ms=300)
    started = time.perf_counter()
    row = _test_connection(world, interface_id)
    assert time.perf_counter() - started < GAVE_UP_WITHIN
    assert not row.ok and "超时" in row.error and row.status_code is None
    interface = _interface(interface_id)
    assert interface.consecutive_failures == 1 and interface.health == "unknown"


def test_connection_to_a_failing_or_closed_endpoint_is_not_ok(
    world: World, server: str, closed_url: str
) -> None:
    failing = _test_connection(world, _register(world, "gab.fail", f"{server}/fail"))
    assert (failing.ok, failing.status_code) == (False, 503)
    closed = _test_connection(world, _register(world, "gab.closed", closed_url))
    assert not closed.ok and "无法连接" in closed.error


def test_the_failure_threshold_is_a_parameter(world: World, server: str) -> None:
    interface_id = _register(world, "gab.fail", f"{server}/fail")
    _test_connection(world, interface_id, failure_threshold=1)
    assert _interface(interface_id).health == "down"


def test_testing_needs_an_endpoint_and_the_write_permission(world: World, server: str) -> None:
    blank = _register(world, "gab.blank", "")
    with pytest.raises(ValidationFailed) as refused:
        _test_connection(world, blank)
    assert refused.value.field == "接口地址"
    live = _register(world, "gab.up", f"{server}/up")
    with pytest.raises(Forbidden), session_scope() as session:
        probes.test_connection(
            session=session, actor=world.actor("sharing_user"), interface_id=live
        )
    with pytest.raises(Forbidden), session_scope() as session:
        probes.probe_history(session=session, actor=world.actor("audit_admin"), interface_id=live)
    assert _interface(live).last_probe_at is None


def test_three_scheduled_failures_mark_an_interface_down_and_one_success_heals_it(
    world: World, server: str
) -> None:
    interface_id = _register(world, "gab.flaky", f"{server}/fail")
    start = utcnow()
    seen = []
    for minute in (0, 1, 2):
        with session_scope() as session:
            probed = probes.probe_due(
                session=session, now=start + timedelta(minutes=minute), interval_seconds=60
            )
        interface = _interface(interface_id)
        seen.append((probed, interface.health, interface.consecutive_failures))
    assert seen == [(1, "unknown", 1), (1, "unknown", 2), (1, "down", 3)]
    admin = world.actor("sys_admin")
    with session_scope() as session:
        detail = registry.get_interface(session=session, actor=admin, interface_id=interface_id)
        draft = detail.to_draft()
        registry.update_interface(
            session=session,
            actor=admin,
            interface_id=interface_id,
            draft=replace(draft, endpoint_url=f"{server}/up"),
        )
    with session_scope() as session:
        probes.probe_due(session=session, now=start + timedelta(minutes=3), interval_seconds=60)
        history = probes.probe_history(session=session, actor=admin, interface_id=interface_id)
    interface = _interface(interface_id)
    assert (interface.health, interface.consecutive_failures) == ("ok", 0)
    assert [h.ok for h in history] == [True, False, False, False]
    assert {(h.trigger, h.actor) for h in history} == {("schedule", "")}


def test_probe_due_skips_disabled_blank_and_recently_probed_interfaces(
    world: World, server: str
) -> None:
    due = _register(world, "gab.due", f"{server}/up")
    disabled = _register(world, "gab.off", f"{server}/up")
    blank = _register(world, "gab.blank", "")
    with session_scope() as session:
        registry.set_enabled(
            session=session, actor=world.actor("sys_admin"), interface_id=disabled, enabled=False
        )
    start = utcnow()

    def run(after_seconds: int) -> int:
        with session_scope() as session:
            return probes.probe_due(
                session=session, now=start + timedelta(seconds=after_seconds), interval_seconds=60
            )

    assert run(0) == 1
    assert run(30) == 0  # probed within the interval
    assert run(61) == 1
    assert _interface(due).last_probe_at == start + timedelta(seconds=61)
    assert _interface(disabled).last_probe_at is None
    assert _interface(blank).last_probe_at is None
