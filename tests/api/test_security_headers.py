"""Every HTTP response of the console, page or API, success or refusal, carries the headers."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from console.api.security_headers import content_security_policy, inline_script_hashes
from tests.support.server import ConsoleServer

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _headers(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/health", 200),
        ("/api/v1/logs/case_event", 401),  # a refusal
        ("/login", 200),  # a page of the built frontend
        ("/", 200),
    ],
)
def test_security_headers_on_pages_and_api(
    console_server: ConsoleServer, path: str, status: int
) -> None:
    answered, headers = _headers(f"{console_server.base_url}{path}")
    assert answered == status
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, name
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "unsafe-eval" not in policy and "*" not in policy
    assert "strict-transport-security" not in headers  # plain HTTP on loopback


def _directives(policy: str) -> dict[str, list[str]]:
    parts = [part.split() for part in policy.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


@pytest.mark.parametrize("path", ["/login", "/users", "/statistics"])
def test_every_inline_script_of_a_built_page_is_allowed_by_its_hash(
    console_server: ConsoleServer, path: str
) -> None:
    with urllib.request.urlopen(f"{console_server.base_url}{path}", timeout=30) as response:
        html = response.read().decode()
        script_src = _directives(response.headers["content-security-policy"])["script-src"]
    inline = inline_script_hashes(html)
    assert inline, "a built page has inline scripts (hydration context)"
    assert inline <= set(script_src)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert _directives(response.headers["content-security-policy"])["connect-src"] == ["'self'"]


def test_a_changed_inline_script_is_not_in_the_policy() -> None:
    allowed = inline_script_hashes("<script>window.a = 1;</script>")
    policy = content_security_policy(allowed)
    assert inline_script_hashes("<script>window.a = 2;</script>").isdisjoint(
        _directives(policy)["script-src"]
    )
    assert inline_script_hashes('<script src="/x.js"></script>') == set()


def test_signing_out_without_the_cookie_ends_nothing_and_clears_nothing(
    console_server: ConsoleServer,
) -> None:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"{console_server.base_url}/api/v1/session/end", timeout=30)
        raise AssertionError("no redirect")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303 and "/login" in answer.headers["location"]
        assert answer.headers.get("set-cookie") is None
