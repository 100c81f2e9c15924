"""FastAPI app behind ``/api/v1``: health now; ingestion and keys arrive with later issues."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from loguru import logger

from console import __version__
from console.core.db import backend_name, current_revision, get_engine, head_revision
from console.core.logging import request_context

REQUEST_ID_HEADER = "X-Request-ID"
API_PREFIX = "/api/"


def _database_status() -> dict[str, str | bool]:
    try:
        with get_engine().connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        revision = current_revision() or ""
    except sa.exc.SQLAlchemyError as error:
        logger.error("health check: database unreachable: {}", error)
        return {"ok": False, "backend": backend_name(), "error": "配置库无法连接"}
    return {
        "ok": revision == head_revision(),
        "backend": backend_name(),
        "revision": revision,
    }


def create_api() -> FastAPI:
    """Build the API app; FastAPI gives the OpenAPI document the interface issue requires."""
    api = FastAPI(
        title="BDC Console API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )

    @api.middleware("http")
    async def _request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")[:64] or None
        with request_context(incoming) as rid:
            started = time.perf_counter()
            response = await call_next(request)
            if request.url.path.startswith(API_PREFIX):
                elapsed_ms = (time.perf_counter() - started) * 1000
                logger.info(
                    "{} {} {} {:.1f}ms",
                    request.method,
                    request.url.path,
                    response.status_code,
                    elapsed_ms,
                )
        response.headers[REQUEST_ID_HEADER] = rid
        return response

    @api.get("/api/v1/health", tags=["health"], summary="健康检查（无需密钥）")
    def health() -> JSONResponse:
        database = _database_status()
        status = 200 if database["ok"] else 503
        body = {
            "status": "ok" if status == 200 else "degraded",
            "version": __version__,
            "database": database,
        }
        return JSONResponse(body, status_code=status)

    return api
