"""Report files: ``GET /api/v1/reports/{id}/{fmt}`` by access token, or the page's ticket link."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from sqlmodel import Session

from console.api.deps import TicketHolder, permitted, run_as, ticket_holder
from console.api.routing import secured_router
from console.core.actor import Actor
from console.reports import service as reports
from console.reports.service import ReportFile

router = secured_router(tags=["reports"])
Downloader = Annotated[Actor, Depends(permitted(reports.OBJ, "export", target_param="report_id"))]


def _sent(found: ReportFile) -> FileResponse:
    return FileResponse(found.path, media_type=found.media_type, filename=found.filename)


@router.get("/api/v1/reports/download", include_in_schema=False)
async def download_report(holder: Annotated[TicketHolder, Depends(ticket_holder)]) -> FileResponse:
    """The 报表中心 page's download of one report file, by sealed ticket."""
    payload = holder.payload

    def work(session: Session, actor: Actor) -> ReportFile:
        return reports.report_file(
            session=session, actor=actor, report_id=int(payload["r"]), fmt=str(payload["f"])
        )

    return _sent(await run_as(holder.actor, work))


@router.get(
    "/api/v1/reports/{report_id}/{fmt}",
    summary="下载报表文件（个人访问令牌；xlsx、html 或 pdf）",
    description="报表须在本人数据范围内；报表不存在或没有该格式的文件时返回 404。",
    response_class=FileResponse,
)
async def read_report(
    actor: Downloader,
    report_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    fmt: Annotated[str, PathParam(json_schema_extra={"enum": ["xlsx", "html", "pdf"]})],
) -> FileResponse:
    """One generated report file, if the token's owner may see that report."""
    found = await run_as(
        actor,
        lambda s, a: reports.report_file(session=s, actor=a, report_id=report_id, fmt=fmt),
    )
    return _sent(found)
