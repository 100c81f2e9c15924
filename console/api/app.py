"""The console's HTTP API behind ``/api/v1``, mounted into the Reflex backend.

``create_api()`` only assembles it: the request-id middleware, the JSON answer to a refused
call, and one router per domain (``console.api.routes``): health, the gateway's self-check,
user sync, workflow reads, log ingestion and reads, statistics and report downloads, and
``/metrics`` for Prometheus. Who may call each route is declared by the route itself
(``console.api.deps``); the OpenAPI document is served at ``/api/v1/openapi.json``. Every
request is timed into ``bdc_http_request_duration_seconds`` by its route template.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from loguru import logger

from console import __version__
from console.api.gateway import GatewayRefusal
from console.api.openapi import describe_error, document
from console.api.routes import (
    fallback,
    health,
    iam,
    logs,
    metrics,
    reports,
    session,
    sharing,
    stats,
    whoami,
    workflows,
)
from console.core import dependencies
from console.core import metrics as core_metrics
from console.core.logging import request_context

REQUEST_ID_HEADER = "X-Request-ID"
INTERNAL_ERROR = "服务器内部错误"
API_PREFIX = "/api/"
# Inclusion order is matching order.
ROUTERS = (health, session, whoami, iam, workflows, logs, sharing, stats, reports, metrics)
UNMATCHED = "unmatched"
UI = "ui"  # handed on to the Reflex app mounted below the API (pages, assets, uploads)


def route_label(request: Request) -> str:
    """The route template that answered (``/api/v1/logs/{stream}``), never the raw path."""
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        return UNMATCHED if route.endpoint is fallback.unknown else route.path
    return UI if request.scope.get("endpoint") is not None else UNMATCHED


async def _request_id(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Bind the caller's (or a new) request id to the call's log lines and echo it back."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")[:64] or None
    with request_context(incoming) as rid:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as error:  # the caller gets JSON and the id; the trace goes to the log
            response = _failure_response(request, error, rid)
        elapsed = time.perf_counter() - started  # until the headers (a stream goes on after)
        core_metrics.observe_request(
            route=route_label(request),
            method=request.method,
            status=response.status_code,
            seconds=elapsed,
        )
        if request.url.path.startswith(API_PREFIX):
            logger.info(
                "{} {} {} {:.1f}ms",
                request.method,
                request.url.path,
                response.status_code,
                elapsed * 1000,
            )
    response.headers[REQUEST_ID_HEADER] = rid
    return response


def _failure_response(request: Request, error: Exception, rid: str) -> JSONResponse:
    """503 with ``Retry-After`` when a shared engine did not answer, else 500."""
    engine = dependencies.unavailable(error)
    if engine is not None:
        logger.warning("{} {}: {} unavailable: {}", request.method, request.url.path, engine, error)
        return JSONResponse(
            {"detail": dependencies.unavailable_message(engine), "request_id": rid},
            status_code=503,
            headers={"Retry-After": str(dependencies.RETRY_AFTER_S)},
        )
    logger.opt(exception=error).error("{} {} failed", request.method, request.url.path)
    return JSONResponse({"detail": INTERNAL_ERROR, "request_id": rid}, status_code=500)


async def _invalid(_request: Request, invalid: RequestValidationError) -> JSONResponse:
    """A bad parameter as ``{"detail": <Chinese reason>, "errors": [...]}`` with 422."""
    reasons = [describe_error(error) for error in invalid.errors()]
    return JSONResponse({"detail": "；".join(reasons[:5]), "errors": reasons}, status_code=422)


async def _refused(_request: Request, refusal: GatewayRefusal) -> JSONResponse:
    """A refused call as ``{"detail": <Chinese reason>}`` with its status and headers."""
    return JSONResponse(
        {"detail": refusal.message}, status_code=refusal.status, headers=refusal.headers or None
    )


def create_api() -> FastAPI:
    """Build the API app; FastAPI gives the OpenAPI document the interface issue requires."""
    api = FastAPI(
        title="BDC Console API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.middleware("http")(_request_id)
    api.add_exception_handler(GatewayRefusal, _refused)  # type: ignore[arg-type]
    api.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    for module in ROUTERS:
        api.include_router(module.router)
    api.include_router(fallback.router)  # last: any other /api/ path, authenticated first
    api.openapi = functools.partial(document, api)  # type: ignore[method-assign]
    return api
