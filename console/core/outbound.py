"""The console's one way out: HTTP only to allowed addresses, within a deadline and a size cap.

County administrators type the addresses the console calls (interface probes, 测试连接,
sharing-task pushes), so without a guard the console is a port scanner for the network it
sits in: loopback, the configuration database, cloud metadata at 169.254.169.254. Every
outbound call goes through ``fetch``:

- The host is resolved once and **each address is checked before connecting**, and the
  connection goes to that checked address (the TLS name check still uses the host name), so a
  DNS answer that changes between check and connect gets nowhere. Redirects are not followed;
  a redirect is an answer like any other.
- Refused: every address that is not globally routable (loopback, private, link-local,
  shared, reserved, multicast, unspecified; IPv6 unique-local, site-local, mapped forms) —
  unless the province allows it: ``BDC_OUTBOUND_ALLOW`` lists networks and host names
  (``.example.gov.cn`` for a domain and its subdomains) for the real departmental endpoints,
  which often sit at private addresses.
- Environment proxies are ignored (a proxy would hide the real destination).
- One **total deadline** covers connecting and every read: a watchdog shuts the sockets when it
  passes, so a server dripping a byte at a time cannot hold a worker.
- At most ``max_bytes`` of a response are read.
- A failure is a category (超时, 拒绝连接, 证书错误, 地址不允许 …), never the remote's text.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from console.core.net import Address, Network, parse_address, parse_networks

DEFAULT_MAX_BYTES = 64 * 1024


class OutboundRefused(Exception):
    """The call was not made or did not finish; ``category`` is what a page may show."""

    def __init__(self, category: str, detail: str = "") -> None:
        super().__init__(f"{category}：{detail}" if detail else category)
        self.category = category
        self.detail = detail


@dataclass(frozen=True)
class OutboundPolicy:
    """Which destinations are allowed beyond the public internet."""

    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> OutboundPolicy:
        """From ``10.20.0.0/16, 192.168.1.7, gab.example.gov.cn, .dept.example.gov.cn``.

        Raises:
            ValueError: naming an entry that is neither an address, a network nor a host name.
        """
        networks: list[str] = []
        hosts: set[str] = set()
        for raw in text.replace("，", ",").replace("\n", ",").split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            if any(char.isalpha() for char in entry) and ":" not in entry:
                if not all(part.isalnum() or "-" in part for part in entry.strip(".").split(".")):
                    raise ValueError(entry)
                hosts.add(entry)
            else:
                networks.append(entry)
        return cls(parse_networks(",".join(networks)), frozenset(hosts))

    def host_allowed(self, host: str) -> bool:
        """True when the host name itself is on the list (exactly, or under a ``.domain``)."""
        host = host.lower().rstrip(".")
        return any(
            host == allowed or (allowed.startswith(".") and host.endswith(allowed))
            for allowed in self.hosts
        )

    def address_allowed(self, host: str, address: str) -> bool:
        """May the console connect to ``address`` (which ``host`` resolved to)?

        Link-local (cloud metadata), unspecified and multicast addresses never, whatever the
        list says; loopback only when a listed network holds it, never through a host name.
        """
        parsed = parse_address(address)
        if parsed is None:
            return False
        inner = embedded_ipv4(parsed) or parsed
        if inner.is_link_local or inner.is_unspecified or inner.is_multicast:
            return False
        if parsed in METADATA or inner in METADATA:
            return False
        if any(parsed in network or inner in network for network in self.networks):
            return True
        if self.host_allowed(host) and not inner.is_loopback:
            return True
        return _public(parsed)


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.ip_network("::/96")  # the deprecated IPv4-compatible form ::a.b.c.d
# Cloud metadata services outside link-local (Alibaba Cloud, AWS over IPv6).
METADATA = tuple(ipaddress.ip_address(a) for a in ("100.100.100.200", "fd00:ec2::254"))


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), or None."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in prefix for prefix in _NAT64) or (
        address in _COMPATIBLE and int(address) > 1  # not :: or ::1
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _public(address: Address) -> bool:
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return False
    embedded = embedded_ipv4(address)
    if embedded is not None:
        return _public(embedded)
    if isinstance(address, ipaddress.IPv6Address) and address.teredo is not None:
        return False
    return address.is_global


def configured_policy() -> OutboundPolicy:
    """The policy ``BDC_OUTBOUND_ALLOW`` describes."""
    from console.core.settings import get_settings

    return OutboundPolicy.parse(get_settings().outbound_allow)


@dataclass
class _GuardedBackend(httpcore.SyncBackend):
    """Resolves, checks every address, connects only to a checked one; remembers its sockets."""

    policy: OutboundPolicy
    sockets: list[socket.socket] = field(default_factory=list)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect to the first allowed address of ``host``."""
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise OutboundRefused("无法解析域名", host) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        allowed = [a for a in addresses if self.policy.address_allowed(host, a)]
        if not allowed:
            raise OutboundRefused("地址不允许", f"{host} → {'、'.join(addresses[:4])}")
        failure: Exception | None = None
        for address in allowed:
            try:
                stream = super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
                continue
            sock = stream.get_extra_info("socket")
            if sock is not None:
                self.sockets.append(sock)
            return stream
        assert failure is not None
        raise failure

    def shut(self) -> None:
        """End every connection now (the deadline passed): a blocked read returns at once."""
        for sock in self.sockets:
            with contextlib.suppress(OSError):  # already closed: nothing to end
                sock.shutdown(socket.SHUT_RDWR)


@dataclass(frozen=True)
class OutboundResponse:
    """What came back: the status, at most ``max_bytes`` of the body, and how long it took."""

    status_code: int
    body: bytes
    truncated: bool
    elapsed_ms: int

    @property
    def is_success(self) -> bool:
        """2xx."""
        return 200 <= self.status_code < 300


def _client(backend: _GuardedBackend, deadline: float) -> httpx.Client:
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx builds its pool without a way to pass a network backend; build the same pool
    # with ours (httpx is pinned below 0.29, and a test proves the guard is in force).
    context = transport._pool._ssl_context  # type: ignore[attr-defined]
    transport._pool = httpcore.ConnectionPool(  # type: ignore[attr-defined]
        ssl_context=context, max_connections=4, network_backend=backend
    )
    return httpx.Client(
        transport=transport, timeout=httpx.Timeout(deadline), follow_redirects=False
    )


def _category(error: Exception, timed_out: bool) -> OutboundRefused:
    if isinstance(error, OutboundRefused):
        return error
    if isinstance(error, httpx.ConnectError) and "refused" in str(error).lower():
        return OutboundRefused("拒绝连接")  # an answer, however late a busy machine saw it
    if timed_out or isinstance(error, httpx.TimeoutException):
        return OutboundRefused("超时")
    if isinstance(error, httpx.ConnectError):
        text = str(error).lower()
        if "certificate" in text or isinstance(error.__context__, ssl.SSLError):
            return OutboundRefused("证书错误")
        if "refused" in text:
            return OutboundRefused("拒绝连接")
        return OutboundRefused("连接失败")
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return OutboundRefused("地址无效")
    return OutboundRefused("通信失败")


def fetch(
    method: str,
    url: str,
    *,
    policy: OutboundPolicy,
    deadline_seconds: float,
    max_bytes: int = DEFAULT_MAX_BYTES,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> OutboundResponse:
    """One call, checked and bounded (see the module's docstring).

    Raises:
        OutboundRefused: with the category a page may show.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise OutboundRefused("地址无效", "只支持 http 与 https")
    backend = _GuardedBackend(policy)
    started = time.monotonic()
    watchdog = threading.Timer(deadline_seconds, backend.shut)
    watchdog.daemon = True
    watchdog.start()
    try:
        with (
            _client(backend, deadline_seconds) as client,
            client.stream(method, url, json=json, headers=headers) as response,
        ):
            body, truncated = _read(response, max_bytes, started + deadline_seconds)
    except Exception as error:  # every failure becomes a category
        timed_out = time.monotonic() - started >= deadline_seconds
        if isinstance(error, OutboundRefused) and error.category == "超时":
            raise
        raise _category(error, timed_out) from None
    finally:
        watchdog.cancel()
    elapsed = round((time.monotonic() - started) * 1000)
    return OutboundResponse(response.status_code, body, truncated, elapsed)


def _read(response: httpx.Response, max_bytes: int, ends_at: float) -> tuple[bytes, bool]:
    """At most ``max_bytes`` of the body, and whether there was more; the deadline holds."""
    kept = bytearray()
    for chunk in response.iter_raw():
        if time.monotonic() >= ends_at:
            raise OutboundRefused("超时")
        kept += chunk
        if len(kept) > max_bytes:
            return bytes(kept[:max_bytes]), True
    return bytes(kept), False
