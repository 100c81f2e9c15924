"""The HTTP API served alone, wired like the full app (granian's ``--factory`` target)."""

from __future__ import annotations

from fastapi import FastAPI

from console.api.app import create_api
from console.wiring import wire


def create_http_api() -> FastAPI:
    """Wire the lake's sinks, then build the API."""
    wire()
    return create_api()
