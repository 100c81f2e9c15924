"""The read API for auditors' and supervisors' own tools: personal access tokens only.

``GET /api/v1/logs/{stream}`` takes the same filters as the 日志审计 page and pages its JSON
(``…/export`` streams it as a file); ``GET /api/v1/cases/{case_no}/trace`` returns a case's
timeline; ``GET /api/v1/stats/cases`` and ``/api/v1/stats/interfaces`` give the dashboards'
figures. All act as the token's owner: that user's permissions and tenant scope, checked at
every call.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse

from console.api.gateway import GatewayRefusal, bearer
from console.audit.service import record_anonymous_denial
from console.core.actor import Actor
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden, NotFound, UserError
from console.core.paging import MAX_PAGE_SIZE, PageRequest
from console.core.tickets import open_ticket
from console.iam.token_service import resolve_token
from console.logs import search
from console.logs.contract import STREAMS
from console.logs.export import LogExport, export_logs, log_ticket_query
from console.reports import service as reports
from console.reports.service import ReportFile
from console.stats import service as stats
from console.stats.service import StatsQuery
from console.ui.actions import run_as


def _user(request: Request) -> Actor:
    client_ip = request.client.host if request.client else ""
    try:
        with session_scope() as session:
            return resolve_token(session=session, presented=bearer(request), client_ip=client_ip)
    except AuthenticationFailed as refused:
        record_anonymous_denial(
            reason=refused.message, client_ip=client_ip, target=request.url.path
        )
        raise GatewayRefusal(401, refused.message, {"WWW-Authenticate": "Bearer"}) from None


def _refusal(error: UserError) -> GatewayRefusal:
    """The HTTP answer to a service's refusal, its Chinese message kept."""
    if isinstance(error, AuthenticationFailed):
        return GatewayRefusal(401, error.message)
    if isinstance(error, Forbidden):
        return GatewayRefusal(403, error.message)
    if isinstance(error, NotFound):
        return GatewayRefusal(404, error.message)
    return GatewayRefusal(400, str(error))


def _as_user(request: Request, work: Any) -> Any:
    actor = _user(request)
    try:
        with session_scope() as session:
            return work(session, actor)
    except UserError as refused:
        raise _refusal(refused) from None


def _by_ticket(ticket: str, work: Any) -> Any:
    """Run ``work`` as the session a download ticket was sealed for (a browser download)."""
    try:
        token, payload = open_ticket(ticket, now=time.time())
        return run_as(token, lambda s, a: work(s, a, payload))
    except UserError as refused:
        raise _refusal(refused) from None


def log_query(
    stream: str,
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
    """The 日志审计 page's filters from the query string."""
    if stream not in STREAMS:
        raise GatewayRefusal(404, f"没有日志流 {stream}；可用：{'、'.join(STREAMS)}")
    return search.LogQuery(
        stream=stream, start=from_, end=to, tenant=tenant, actor=actor,
        interface_code=interface_code, department=department, result=result,
        case_no=case_no, trace_id=trace_id, text=text,
    )  # fmt: skip


def stats_query(
    from_: Annotated[date, Query(alias="from", description="开始日期（含，北京时间）")],
    to: Annotated[date, Query(description="结束日期（含）")],
    group_by: Annotated[
        list[str] | None, Query(description="分组维度，逗号分隔或重复给出，如 tenant,month")
    ] = None,
    tenant: Annotated[str, Query(description="只看一个区县（须在本人数据范围内）")] = "",
) -> StatsQuery:
    """Period, grouping and county of a statistics request."""
    groups = tuple(g.strip() for item in group_by or [] for g in item.split(",") if g.strip())
    return StatsQuery(start=from_, end=to, group_by=groups, tenant=tenant)


async def _stats(request: Request, compute: Any, query: StatsQuery) -> dict[str, Any]:
    frame = await run_in_threadpool(_as_user, request, lambda _s, a: compute(actor=a, query=query))
    return {
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "group_by": list(query.group_by),
        "rows": stats.rows_of(frame),
    }


def streamed(export: LogExport) -> StreamingResponse:
    """The export as a download, produced while it is sent."""
    disposition = f"attachment; filename=\"export\"; filename*=UTF-8''{quote(export.filename)}"
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={"Content-Disposition": disposition, "X-Export-Rows": str(export.rows)},
    )


def mount_read_api(api: FastAPI) -> None:
    """Add the read routes to the console's API."""

    @api.get(
        "/api/v1/logs/{stream}",
        tags=["logs"],
        summary="检索日志（个人访问令牌；本人权限与数据范围）",
    )
    async def read_logs(
        request: Request,
        query: Annotated[search.LogQuery, Depends(log_query)],
        page: Annotated[int, Query(ge=1)] = 1,
        size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    ) -> dict[str, Any]:
        found = await run_in_threadpool(
            _as_user,
            request,
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

    @api.get(
        "/api/v1/logs/{stream}/export",
        tags=["logs"],
        summary="导出检索结果：CSV、XLSX（超过 1,048,576 行分表）或 Parquet，流式下载",
        response_class=StreamingResponse,
    )
    async def export_log_search(
        request: Request,
        query: Annotated[search.LogQuery, Depends(log_query)],
        fmt: Annotated[str, Query(alias="format", description="csv、xlsx 或 parquet")] = "csv",
    ) -> StreamingResponse:
        export = await run_in_threadpool(
            _as_user,
            request,
            lambda s, a: export_logs(session=s, actor=a, query=query, fmt=fmt),
        )
        return streamed(export)

    @api.get(
        "/api/v1/stats/cases",
        tags=["stats"],
        summary="办件统计：受理、办结、驳回件数与平均办理时长（个人访问令牌）",
    )
    async def read_case_stats(
        request: Request, query: Annotated[StatsQuery, Depends(stats_query)]
    ) -> dict[str, Any]:
        return await _stats(request, stats.case_stats, query)

    @api.get(
        "/api/v1/stats/interfaces",
        tags=["stats"],
        summary="共享接口统计：调用量、失败数、成功率、p50/p95 时延（个人访问令牌）",
    )
    async def read_interface_stats(
        request: Request, query: Annotated[StatsQuery, Depends(stats_query)]
    ) -> dict[str, Any]:
        return await _stats(request, stats.interface_stats, query)

    @api.get("/api/v1/exports/logs", include_in_schema=False)
    async def export_by_ticket(ticket: str) -> StreamingResponse:
        """The 日志审计 page's download: a sealed ticket instead of a token in the URL."""

        def work(session: Any, actor: Actor, payload: dict[str, Any]) -> LogExport:
            query, fmt = log_ticket_query(payload)
            return export_logs(session=session, actor=actor, query=query, fmt=fmt)

        return streamed(await run_in_threadpool(_by_ticket, ticket, work))

    @api.get("/api/v1/reports/download", include_in_schema=False)
    async def download_report(ticket: str) -> FileResponse:
        """The 报表中心 page's download of one report file, by sealed ticket."""

        def work(session: Any, actor: Actor, payload: dict[str, Any]) -> ReportFile:
            return reports.report_file(
                session=session, actor=actor, report_id=int(payload["r"]), fmt=str(payload["f"])
            )

        found = await run_in_threadpool(_by_ticket, ticket, work)
        return FileResponse(found.path, media_type=found.media_type, filename=found.filename)

    @api.get(
        "/api/v1/reports/{report_id}/{fmt}",
        tags=["reports"],
        summary="下载报表文件（个人访问令牌；xlsx、html 或 pdf）",
        response_class=FileResponse,
    )
    async def read_report(report_id: int, fmt: str, request: Request) -> FileResponse:
        found: ReportFile = await run_in_threadpool(
            _as_user,
            request,
            lambda s, a: reports.report_file(session=s, actor=a, report_id=report_id, fmt=fmt),
        )
        return FileResponse(found.path, media_type=found.media_type, filename=found.filename)

    @api.get(
        "/api/v1/cases/{case_no}/trace",
        tags=["logs"],
        summary="办件追溯（个人访问令牌；本人权限与数据范围）",
    )
    async def read_trace(case_no: str, request: Request) -> dict[str, Any]:
        entries = await run_in_threadpool(
            _as_user, request, lambda s, a: search.trace_case(session=s, actor=a, case_no=case_no)
        )
        return {"case_no": case_no, "entries": [asdict(entry) for entry in entries]}
