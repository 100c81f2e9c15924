"""FastAPI app behind ``/api/v1``: health now; ingestion and keys arrive with later issues."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from loguru import logger
from pydantic import BaseModel, Field
from sqlmodel import select

from console import __version__
from console.api.gateway import GatewayRefusal, authorize
from console.core.db import (
    backend_name,
    current_revision,
    get_engine,
    head_revision,
    session_scope,
)
from console.core.errors import Forbidden, UserError
from console.core.logging import request_context
from console.iam.sync_service import sync_users_by_key
from console.interfaces.models import ApiKey

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

    _mount_gateway_errors(api)
    _mount_whoami(api)
    _mount_iam_sync(api)
    return api


class SyncBody(BaseModel):
    """Body of ``POST /api/v1/iam/sync``."""

    records: list[dict[str, Any]] = Field(
        description="用户记录：account, real_name, tenant_code, "
        "id_type, id_number, phone, org_uscc, post, status"
    )


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=headers or None)


def _mount_gateway_errors(api: FastAPI) -> None:
    @api.exception_handler(GatewayRefusal)
    async def _refused(_request: Request, refusal: GatewayRefusal) -> JSONResponse:
        return _error(refusal.status, refusal.message, **refusal.headers)


def _mount_whoami(api: FastAPI) -> None:
    @api.get(
        "/api/v1/whoami",
        tags=["gateway"],
        summary="接入自检：密钥绑定的租户、范围、通道状态与限额",
        description="可带 tenant、business_code、interface_code 参数，检查该密钥能否代表该租户、"
        "提交该业务或经该接口调用；不能时返回 403 及原因。",
    )
    def whoami(
        request: Request,
        tenant: str | None = None,
        business_code: str | None = None,
        interface_code: str | None = None,
    ) -> dict[str, Any]:
        caller = authorize(
            request,
            scope=None,
            tenant=tenant,
            business_code=business_code,
            interface_code=interface_code,
        )
        return {
            "key_id": caller.key_id,
            "tenant": caller.tenant_code,
            "scopes": sorted(caller.scopes),
            "channel_state": caller.channel_state,
            "rate_limit_per_minute": caller.rate_limit_per_minute,
        }


def _mount_iam_sync(api: FastAPI) -> None:
    @api.post(
        "/api/v1/iam/sync",
        tags=["iam"],
        summary="一体化平台用户信息同步（需 iam.sync 范围的接入密钥）",
    )
    def iam_sync(body: SyncBody, request: Request) -> JSONResponse:
        caller = authorize(request, scope="iam.sync")
        try:
            with session_scope() as session:
                key = session.exec(select(ApiKey).where(ApiKey.key_id == caller.key_id)).one()
                report = sync_users_by_key(
                    session=session,
                    key=key,
                    records=body.records,
                    client_ip=caller.actor.client_ip,
                )
        except Forbidden as refused:
            return _error(403, refused.message)
        except UserError as refused:
            return _error(400, str(refused))
        return JSONResponse(report.as_dict())
