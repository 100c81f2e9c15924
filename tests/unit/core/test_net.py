"""Who is really calling: a proxy's header counts only when a trusted proxy sent it."""

from __future__ import annotations

import pytest

from console.core.net import client_address, in_networks, parse_networks

PROXIES = parse_networks("10.0.0.0/24, fd00::/64")


def test_a_direct_caller_is_its_peer_whatever_it_writes_in_the_header() -> None:
    assert client_address("203.0.113.7", "198.51.100.1", trusted=PROXIES) == "203.0.113.7"
    assert client_address("2001:db8::7", "198.51.100.1", trusted=PROXIES) == "2001:db8::7"


def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() -> None:
    chain = "198.51.100.1, 203.0.113.9, 10.0.0.4"  # a forged first entry, the client, a proxy
    assert client_address("10.0.0.5", chain, trusted=PROXIES) == "203.0.113.9"
    assert client_address("fd00::2", "2001:db8::9", trusted=PROXIES) == "2001:db8::9"


def test_without_configured_proxies_the_header_is_ignored() -> None:
    assert client_address("10.0.0.5", "203.0.113.9", trusted=()) == "10.0.0.5"


def test_a_malformed_or_empty_chain_leaves_the_peer() -> None:
    assert client_address("10.0.0.5", "203.0.113.9, not-an-ip", trusted=PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", "", trusted=PROXIES) == "10.0.0.5"


def test_networks_hold_ipv4_ipv6_and_mapped_addresses() -> None:
    networks = parse_networks("127.0.0.0/8，::1\n192.168.0.0/16")
    assert in_networks("127.0.0.1", networks) and in_networks("::1", networks)
    assert in_networks("::ffff:192.168.3.4", networks)
    assert not in_networks("8.8.8.8", networks) and not in_networks("garbage", networks)


def test_a_bad_entry_is_named() -> None:
    with pytest.raises(ValueError, match=r"「10\.0\.0\.300」"):
        parse_networks("10.0.0.0/8, 10.0.0.300")
