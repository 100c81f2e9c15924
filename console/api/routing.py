"""Router factories: a domain's routes either declare who may call them or are public by name.

``secured_router`` builds an ``APIRouter`` that refuses, when a route is added (that is, at
import time), any route declaring none of ``deps``' authenticating dependencies, so a new
route cannot forget its key, token or ticket check. ``public_router`` is for the few routes
anyone may call (health).

FastAPI publishes an endpoint's docstring as its OpenAPI description unless the route states
one: every published route here states its ``description`` in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute

from console.api.deps import is_authenticated


class _SecuredRouter(APIRouter):
    """A router whose every route must declare an authenticating dependency."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        """Add the route, then refuse it if nothing in its dependencies identifies the caller."""
        super().add_api_route(path, endpoint, **kwargs)
        route = self.routes[-1]
        if isinstance(route, APIRoute) and not is_authenticated(route.dependant):
            raise TypeError(
                f"{path}: declare a key, token or ticket dependency from console.api.deps"
            )


def secured_router(*, tags: list[str]) -> APIRouter:
    """A router for routes that identify their caller (API key, access token or ticket)."""
    return _SecuredRouter(tags=list(tags))


def public_router(*, tags: list[str]) -> APIRouter:
    """A router for routes anyone may call; keep it to health and the like."""
    return APIRouter(tags=list(tags))
