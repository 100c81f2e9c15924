"""Every /api/v1 route declares who may call it; a route that forgets cannot be added."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from console.api.app import create_api
from console.api.deps import is_authenticated, permitted
from console.api.routing import secured_router
from console.core.actor import Actor

# Anyone may call these: the health checks (the outside monitor polls the heartbeat) and the
# OpenAPI document.
PUBLIC = {"/api/v1/health", "/api/v1/health/heartbeat", "/api/v1/openapi.json"}


def _routes(api: FastAPI) -> Iterator[BaseRoute]:
    """The app's routes, included routers flattened (FastAPI ≥ 0.165 includes them lazily)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:
        yield from api.routes
        return
    for context in iter_route_contexts(api.routes):
        yield context.original_route


def _path(route: BaseRoute) -> str:
    return str(getattr(route, "path", ""))


def _unguarded(api: FastAPI) -> list[str]:
    """/api/v1 routes (other than the public ones) that declare no key, token or ticket."""
    return [
        _path(route)
        for route in _routes(api)
        if _path(route).startswith("/api/v1/")
        and _path(route) not in PUBLIC
        and not (isinstance(route, APIRoute) and is_authenticated(route.dependant))
    ]


def test_every_api_route_but_health_and_the_document_declares_how_its_caller_is_known() -> None:
    api = create_api()
    paths = {_path(route) for route in _routes(api)}
    assert {"/api/v1/whoami", "/api/v1/exports/logs", "/api/v1/reports/download"} <= paths
    assert _unguarded(api) == []


def test_the_walk_finds_a_route_that_forgot_its_caller() -> None:
    api = create_api()
    leak = APIRouter()

    @leak.get("/api/v1/leak")
    def leaked() -> dict:
        return {}

    api.include_router(leak)
    assert _unguarded(api) == ["/api/v1/leak"]


def test_a_secured_router_refuses_a_route_without_a_key_token_or_ticket() -> None:
    router = secured_router(tags=["test"])
    with pytest.raises(TypeError, match="/api/v1/forgotten"):

        @router.get("/api/v1/forgotten")
        def forgotten() -> dict[str, str]:
            return {}

    @router.get("/api/v1/checked")
    def checked(actor: Annotated[Actor, Depends(permitted("audit.logs", "read"))]) -> dict:
        return {}

    assert [_path(route) for route in router.routes][-1] == "/api/v1/checked"
