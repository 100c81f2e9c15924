"""Every HTTP response of the console, page or API, success or refusal, carries the headers."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

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
