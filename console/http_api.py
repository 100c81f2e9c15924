"""The HTTP API served alone, wired like the full app (granian's ``--factory`` target)."""

from __future__ import annotations

from console.api.app import create_api
from console.api.security_headers import ASGIApp, with_security_headers
from console.wiring import wire


def create_http_api() -> ASGIApp:
    """Wire the lake's sinks, then build the API with the security headers."""
    wire()
    return with_security_headers(create_api())
