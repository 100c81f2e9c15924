"""The guarded outbound client: nothing internal reached, a deadline that holds, a size cap."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.core import outbound
from console.core.outbound import OutboundPolicy, OutboundRefused, fetch

NOTHING_EXTRA = OutboundPolicy()
LOOPBACK_ALLOWED = OutboundPolicy.parse("127.0.0.1")


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(300):  # a byte every 0.1 s: each read is quick, the whole is not
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.1)
            return
        if self.path == "/big":
            body = b"y" * 1_000_000
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        else:
            body = b"secret internal page"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1", "fd12::1",
        "::ffff:127.0.0.1", "2002:7f00:1::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "::",
    ],
)  # fmt: skip
def test_internal_addresses_are_refused(address: str) -> None:
    assert not NOTHING_EXTRA.address_allowed("x.example", address)


@pytest.mark.parametrize("address", ["8.8.8.8", "223.5.5.5", "2400:3200::1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert NOTHING_EXTRA.address_allowed("x.example", address)


def test_the_allow_list_takes_networks_and_host_names() -> None:
    policy = OutboundPolicy.parse("10.20.0.0/16，gab.example.gov.cn\n.dept.example.gov.cn")
    assert policy.address_allowed("anything", "10.20.3.4")
    assert not policy.address_allowed("anything", "10.21.3.4")
    assert policy.address_allowed("gab.example.gov.cn", "192.168.9.9")
    assert policy.address_allowed("tax.dept.example.gov.cn", "192.168.9.9")
    assert not policy.address_allowed("dept.example.gov.cn.evil.example", "192.168.9.9")
    with pytest.raises(ValueError):
        OutboundPolicy.parse("10.0.0.0/33")


@pytest.mark.parametrize(
    "url",
    [
        "http://{server}/",
        "http://localhost:{port}/",
        "http://[::1]:{port}/",
        "http://127.1:{port}/",
        "http://2130706433:{port}/",  # 127.0.0.1 written as one number
    ],
)
def test_a_call_to_the_servers_own_network_is_refused_before_connecting(
    local_server: str, url: str
) -> None:
    port = local_server.rsplit(":", 1)[1]
    with pytest.raises(OutboundRefused) as refused:
        fetch("GET", url.format(server=local_server, port=port), policy=NOTHING_EXTRA,
              deadline_seconds=5)  # fmt: skip
    assert refused.value.category in {"地址不允许", "无法解析域名"}


def test_a_name_that_resolves_to_loopback_is_refused(
    local_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(local_server.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def rebinding(host: str, *args: object, **kwargs: object) -> list:
        if host == "innocent.example":
            return real("127.0.0.1", port, type=socket.SOCK_STREAM)
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", rebinding)
    with pytest.raises(OutboundRefused) as refused:
        fetch("GET", f"http://innocent.example:{port}/", policy=NOTHING_EXTRA, deadline_seconds=5)
    assert refused.value.category == "地址不允许"


def test_an_allowed_local_receiver_answers_and_its_body_is_capped(local_server: str) -> None:
    answer = fetch("GET", f"http://{local_server}/", policy=LOOPBACK_ALLOWED, deadline_seconds=5)
    assert (answer.status_code, answer.body) == (200, b"secret internal page")
    big = fetch(
        "GET", f"http://{local_server}/big", policy=LOOPBACK_ALLOWED, deadline_seconds=5,
        max_bytes=1000,
    )  # fmt: skip
    assert big.truncated and len(big.body) == 1000


def test_a_redirect_is_an_answer_not_followed(local_server: str) -> None:
    answer = fetch(
        "GET", f"http://{local_server}/redirect", policy=LOOPBACK_ALLOWED, deadline_seconds=5
    )
    assert answer.status_code == 302


def test_a_drip_feeding_server_is_cut_off_at_the_total_deadline(local_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(OutboundRefused) as refused:
        fetch("GET", f"http://{local_server}/drip", policy=LOOPBACK_ALLOWED, deadline_seconds=1)
    assert refused.value.category == "超时"
    assert time.monotonic() - started < 5  # the drip alone would take 30 s


def test_a_closed_port_reads_as_refused_connection() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OutboundRefused) as refused:
        fetch("GET", f"http://127.0.0.1:{port}/", policy=LOOPBACK_ALLOWED, deadline_seconds=5)
    assert refused.value.category == "拒绝连接"


def test_only_http_and_https_are_spoken() -> None:
    for url in ("file:///etc/passwd", "ftp://x.example/", "gopher://x.example/"):
        with pytest.raises(OutboundRefused):
            fetch("GET", url, policy=NOTHING_EXTRA, deadline_seconds=5)


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1",
     "::169.254.169.254", "64:ff9b:1::a9fe:a9fe", "100.100.100.200", "fd00:ec2::254",
     "0.0.0.0", "::", "fe80::1"],
)  # fmt: skip
def test_metadata_and_unspecified_addresses_are_never_allowed_whatever_the_list(
    address: str,
) -> None:
    listed = OutboundPolicy.parse(
        "169.254.0.0/16, 0.0.0.0/8, fe80::/10, 100.64.0.0/10, fd00::/8, gw.example.gov.cn"
    )
    assert not listed.address_allowed("gw.example.gov.cn", address)


def test_a_listed_host_name_never_reaches_loopback() -> None:
    by_name = OutboundPolicy.parse("gw.example.gov.cn")
    assert not by_name.address_allowed("gw.example.gov.cn", "127.0.0.1")
    assert not by_name.address_allowed("gw.example.gov.cn", "::127.0.0.1")
    assert by_name.address_allowed("gw.example.gov.cn", "10.20.1.5")  # its private address
    assert LOOPBACK_ALLOWED.address_allowed("anything", "127.0.0.1")  # a listed network may
