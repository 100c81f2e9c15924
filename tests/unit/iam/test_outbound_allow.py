"""对外访问白名单: kept by the system administrator, checked as typed, in force at the next call."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import Forbidden, ValidationFailed
from console.core.settings import get_settings
from console.iam import outbound_service
from console.interfaces.probe_service import probe_endpoint
from tests.support.world import World


class _Hello(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def departmental_endpoint() -> Iterator[str]:
    """A 'departmental gateway' on a private address (loopback stands in for it)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("10.0.0.0/8, not a host!", "无法识别的地址、网段或域名"),
        ("169.254.169.254", "元数据"),
        ("fe80::1", "元数据"),
        ("0.0.0.0/0", "过大"),
        ("0.0.0.0", "未指定"),
        ("::", "未指定"),
        ("::ffff:169.254.169.254", "IPv4"),
        ("2002:a9fe:a9fe::/48", "IPv4"),
        ("64:ff9b::a9fe:a9fe", "IPv4"),
        ("::169.254.169.254", "IPv4"),
        ("100.100.100.200", "元数据"),
        ("localhost", "不是具体的部门域名"),
        ("metadata.google.internal", "不是具体的部门域名"),
        (".io", "不是具体的部门域名"),
        ("::/0", "过大"),
        (", ".join(f"10.0.{n}.1" for n in range(65)), "最多 64 项"),
    ],
)
def test_a_list_that_would_undo_the_guard_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason):
        outbound_service.check_entries(text)


def test_entries_are_normalised() -> None:
    text = "10.20.0.0/16，192.168.8.15\nGAB.example.gov.cn, .dept.example.gov.cn"
    assert outbound_service.check_entries(text) == (
        "10.20.0.0/16, 192.168.8.15/32, .dept.example.gov.cn, gab.example.gov.cn"
    )


def test_only_the_system_administrator_keeps_the_list(world: World) -> None:
    for role in ("sec_admin", "audit_admin", "county_admin"):
        with pytest.raises(Forbidden), session_scope() as session:
            outbound_service.update_outbound(
                session=session, actor=world.actor(role), entries="10.0.0.1"
            )
    with session_scope() as session:
        saved = outbound_service.update_outbound(
            session=session, actor=world.actor("sys_admin"), entries="10.20.0.0/16"
        )
    assert saved == "10.20.0.0/16"
    with session_scope() as session:
        logged = session.exec(
            select(OperationLog).where(OperationLog.object == outbound_service.OBJ)
        ).all()
    assert [(row.action, row.outcome) for row in logged][-1] == ("update", "success")
    assert any(row.outcome == "denied" for row in logged)


def test_a_private_endpoint_is_reached_only_once_it_is_on_the_list(
    world: World, departmental_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_OUTBOUND_ALLOW", "")  # no deployment baseline
    get_settings.cache_clear()
    refused = probe_endpoint(url=departmental_endpoint, method="GET", timeout_ms=2000)
    assert not refused.ok and "地址不允许" in refused.error

    with session_scope() as session:
        outbound_service.update_outbound(
            session=session, actor=world.actor("sys_admin"), entries="127.0.0.1"
        )
    reached = probe_endpoint(url=departmental_endpoint, method="GET", timeout_ms=2000)
    assert reached.ok and reached.status_code == 200

    with session_scope() as session:  # emptied again: refused again, at the next call
        outbound_service.update_outbound(
            session=session, actor=world.actor("sys_admin"), entries=""
        )
    assert not probe_endpoint(url=departmental_endpoint, method="GET", timeout_ms=2000).ok
