"""FastAPI app behind ``/api/v1``: health now; ingestion and keys arrive with later issues."""

from __future__ import annotations

import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from loguru import logger
from pydantic import BaseModel, Field
from sqlmodel import select

from console import __version__
from console.api.gateway import GatewayRefusal, authorize
from console.api.read_routes import mount_read_api
from console.core.db import (
    backend_name,
    current_revision,
    get_engine,
    head_revision,
    session_scope,
)
from console.core.errors import Forbidden, NotFound, UserError
from console.core.logging import request_context
from console.core.settings import get_settings
from console.iam.sync_service import sync_users_by_key
from console.interfaces.models import ApiKey
from console.logs.contract import STREAMS
from console.logs.ingest import IngestReport, Sender, ingest_batch
from console.workflows.service import served_business

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
    _mount_workflows(api)
    _mount_log_ingestion(api)
    mount_read_api(api)
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


def _mount_workflows(api: FastAPI) -> None:
    @api.get(
        "/api/v1/workflows/{business_code}",
        tags=["workflows"],
        summary="读取业务的已发布流程、表单、材料与意见模板（需 workflows.read 范围的接入密钥）",
        description="返回对密钥所属租户生效的版本：租户有已发布的本地覆盖时为覆盖，否则为省级模板。"
        "省级密钥可带 tenant 参数读取某区县生效的版本。",
    )
    def read_workflow(
        business_code: str, request: Request, tenant: str | None = None
    ) -> JSONResponse:
        caller = authorize(
            request, scope="workflows.read", tenant=tenant, business_code=business_code
        )
        try:
            with session_scope() as session:
                served = served_business(
                    session=session,
                    tenant=tenant or caller.tenant_code,
                    business_code=business_code,
                )
        except NotFound as missing:
            return _error(404, missing.message)
        return JSONResponse(jsonable_encoder(served))


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, gunzipped if sent so; 413 past ``limit`` bytes either way."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise GatewayRefusal(413, f"请求体超过上限 {limit // 1024 // 1024} MB，请分批推送")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise GatewayRefusal(413, f"请求体超过上限 {limit // 1024 // 1024} MB，请分批推送")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() != "gzip":
        return body
    # Bounded decompression: a small gzip bomb cannot grow past the limit in memory.
    inflater = zlib.decompressobj(wbits=31)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise GatewayRefusal(400, "请求体不是有效的 gzip 数据") from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise GatewayRefusal(413, f"解压后的请求体超过上限 {limit // 1024 // 1024} MB，请分批推送")
    return plain


def _mount_log_ingestion(api: FastAPI) -> None:
    @api.post(
        "/api/v1/logs/{stream}",
        tags=["logs"],
        summary="推送日志（NDJSON，每行一个 JSON 对象；可 gzip）",
        description="stream：operation、interface_call、exception、case_event。"
        "逐行校验：合格的记录写入磁盘（fsync）后才返回 200，不合格的逐行列出原因；"
        "同一发送方重复的 event_id 计为 duplicates，不会重复保存。",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            }
        },
    )
    async def ingest(stream: str, request: Request) -> JSONResponse:
        if stream not in STREAMS:
            return _error(404, f"没有日志流 {stream}；可用：{'、'.join(STREAMS)}")
        caller = await run_in_threadpool(authorize, request, scope=f"logs.{stream}")
        body = await _read_body(request, get_settings().ingest_max_body_mb * 1024 * 1024)
        sender = Sender(
            identity=caller.sender,
            tenant_code=caller.tenant_code,
            channel_business_codes=caller.channel_business_codes if caller.channel_id else None,
        )

        def work() -> IngestReport:
            with session_scope() as session:
                return ingest_batch(session=session, stream=stream, body=body, sender=sender)

        report = await run_in_threadpool(work)
        return JSONResponse(report.as_dict())
