"""Log routes: registration systems push with API keys, auditors read with access tokens.

``POST /api/v1/logs/{stream}`` takes NDJSON batches (API key with ``logs.<stream>``).
``GET /api/v1/logs/{stream}`` takes the same filters as the 日志审计 page and pages its JSON
(``…/export`` streams it as a file); ``GET /api/v1/cases/{case_no}/trace`` returns a case's
timeline — both as the token's owner, with that user's permissions and tenant scope checked
at every call. ``GET /api/v1/exports/logs`` is the 日志审计 page's download by sealed ticket.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from sqlmodel import Session

from console.api.bodies import read_body
from console.api.deps import (
    TicketHolder,
    known_stream,
    log_sender,
    permitted,
    run_as,
    ticket_holder,
)
from console.api.gateway import Caller, GatewayRefusal
from console.api.routing import secured_router
from console.core import metrics
from console.core.actor import Actor
from console.core.db import session_scope
from console.core.logging import request_id_var
from console.core.paging import MAX_PAGE, MAX_PAGE_SIZE, PageRequest
from console.core.settings import get_settings
from console.logs import search
from console.logs.export import LogExport, export_logs, log_ticket_query
from console.logs.ingest import IngestReport, Sender, ingest_batch
from console.logs.quarantine_service import keep_rejected_lines

router = secured_router(tags=["logs"])
Reader = Annotated[
    Actor, Depends(permitted(search.OBJ, "read", target_param="stream", known=known_stream))
]
Exporter = Annotated[
    Actor, Depends(permitted(search.OBJ, "export", target_param="stream", known=known_stream))
]
Tracer = Annotated[Actor, Depends(permitted(search.OBJ, "read", target_param="case_no"))]


def _ingest(stream: str, body: bytes, sender: Sender, caller: Caller, rid: str) -> IngestReport:
    with session_scope() as session:
        report = ingest_batch(session=session, stream=stream, body=body, sender=sender)
    if report.kept:  # its own transaction: the accepted lines are already on disk
        with session_scope() as session:
            keep_rejected_lines(
                session=session,
                stream=stream,
                key_id=caller.key_id,
                key_tenant=caller.tenant_code,
                request_id=rid,
                lines=report.kept,
            )
    return report


@router.post(
    "/api/v1/logs/{stream}",
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
async def ingest(
    stream: str, request: Request, caller: Annotated[Caller, Depends(log_sender)]
) -> JSONResponse:
    """Check every line; the good ones are on disk before the answer, each bad one listed."""
    body = await read_body(request, get_settings().ingest_max_body_mb * 1024 * 1024)
    sender = Sender(
        identity=caller.sender,
        tenant_code=caller.tenant_code,
        channel_business_codes=caller.channel_business_codes if caller.channel_id else None,
    )
    rid = request_id_var.get()
    report = await run_in_threadpool(_ingest, stream, body, sender, caller, rid)
    # Labelled with the key's tenant: the report has no per-tenant split (bounded either way).
    metrics.record_ingest(
        stream=stream,
        tenant=caller.tenant_code,
        accepted=report.accepted,
        rejected=report.rejected_total,
        duplicate=report.duplicates,
    )
    if report.only_foreign:
        raise GatewayRefusal(
            403, f"密钥属于租户 {caller.tenant_code}，本批没有该租户的日志（已逐行记入拒收记录）"
        )
    return JSONResponse(report.as_dict())


def log_query(
    stream: Annotated[str, Depends(known_stream)],
    from_: Annotated[
        date | None, Query(alias="from", description="开始日期（含，北京时间）")
    ] = None,
    to: Annotated[date | None, Query(description="结束日期（含）")] = None,
    tenant: str = "",
    actor: str = "",
    interface_code: str = "",
    department: str = "",
    result: str = "",
    case_no: str = "",
    trace_id: str = "",
    text: str = "",
) -> search.LogQuery:
    """The 日志审计 page's filters from the query string (an unknown stream is 404)."""
    return search.LogQuery(
        stream=stream, start=from_, end=to, tenant=tenant, actor=actor,
        interface_code=interface_code, department=department, result=result,
        case_no=case_no, trace_id=trace_id, text=text,
    )  # fmt: skip


def streamed(export: LogExport) -> StreamingResponse:
    """The export as a download, produced while it is sent."""
    disposition = f"attachment; filename=\"export\"; filename*=UTF-8''{quote(export.filename)}"
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={"Content-Disposition": disposition, "X-Export-Rows": str(export.rows)},
    )


# The query comes before the actor in each signature: an unknown stream is 404 first.
@router.get(
    "/api/v1/logs/{stream}",
    summary="检索日志（个人访问令牌；本人权限与数据范围）",
    description="条件与“日志审计”页相同，按时间倒序分页返回；只含本人数据范围内租户的记录。",
)
async def read_logs(
    actor: Reader,  # first: who asks, before anything about the stream is told
    query: Annotated[search.LogQuery, Depends(log_query)],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    """One page of the events matching the filters, newest first."""
    found = await run_as(
        actor,
        lambda s, a: search.search_logs(
            session=s, actor=a, query=query, page=PageRequest(page, size)
        ),
    )
    return {
        "total": found.total,
        "page": found.page,
        "size": found.size,
        "items": [asdict(row) for row in found.items],
    }


@router.get(
    "/api/v1/logs/{stream}/export",
    summary="导出检索结果：CSV、XLSX（超过 1,048,576 行分表）或 Parquet，流式下载",
    description="条件与检索相同；文件边生成边下载，个人信息按页面规则脱敏，每次导出记入操作日志。",
    response_class=StreamingResponse,
)
async def export_log_search(
    actor: Exporter,
    query: Annotated[search.LogQuery, Depends(log_query)],
    fmt: Annotated[str, Query(alias="format", description="csv、xlsx 或 parquet")] = "csv",
) -> StreamingResponse:
    """Every matching event as a file, streamed."""
    export = await run_as(actor, lambda s, a: export_logs(session=s, actor=a, query=query, fmt=fmt))
    return streamed(export)


@router.get("/api/v1/exports/logs", include_in_schema=False)
async def export_by_ticket(
    holder: Annotated[TicketHolder, Depends(ticket_holder)],
) -> StreamingResponse:
    """The 日志审计 page's download: a sealed ticket instead of a token in the URL."""

    def work(session: Session, actor: Actor) -> LogExport:
        query, fmt = log_ticket_query(holder.payload)
        return export_logs(session=session, actor=actor, query=query, fmt=fmt)

    return streamed(await run_as(holder.actor, work))


@router.get(
    "/api/v1/cases/{case_no}/trace",
    summary="办件追溯（个人访问令牌；本人权限与数据范围）",
    description="按时间顺序返回该办件的各环节、共享接口调用、操作与异常；只含本人数据范围内的记录。",
)
async def read_trace(case_no: str, actor: Tracer) -> dict[str, Any]:
    """Every step, sharing call, operator action and exception of one case, in time order."""
    entries = await run_as(
        actor, lambda s, a: search.trace_case(session=s, actor=a, case_no=case_no)
    )
    return {"case_no": case_no, "entries": [asdict(entry) for entry in entries]}
