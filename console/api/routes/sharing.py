"""``POST /api/v1/sharing-tasks/{task}/records``: a county system hands over what a task pushes.

NDJSON (one ``{"record_id": …, "data": {…}}`` per line, gzip allowed) with a key holding
``sharing.records``. Per-line rules as for log pushes: the good lines are queued (committed
before the answer), each bad one is listed with its number and reason, a record id already
queued for the task is a duplicate.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from console.api.bodies import read_body
from console.api.deps import api_key, refusal
from console.api.gateway import Caller
from console.api.routing import secured_router
from console.core.db import session_scope
from console.core.errors import UserError
from console.core.settings import get_settings
from console.interfaces.queue_service import RECORDS_SCOPE, HandOverReport, hand_over

router = secured_router(tags=["sharing"])


def _hand_over(caller: Caller, task: str, body: bytes) -> HandOverReport:
    try:
        with session_scope() as session:
            return hand_over(
                session=session,
                caller=caller.actor,
                key_id=caller.key_id,
                key_tenant=caller.tenant_code,
                task_code=task,
                body=body,
            )
    except UserError as refused:
        raise refusal(refused) from None


@router.post(
    "/api/v1/sharing-tasks/{task}/records",
    summary="向共享任务移交待推送记录（NDJSON，每行一条；可 gzip）",
    description="每行一个 JSON 对象："
    '{"record_id": "记录标识（1–128 字符）", "data": {推送给部门的内容}}。'
    "合格的记录入队后才返回 200，不合格的逐行列出原因；该任务已有的 record_id 计为 duplicates，"
    "不会重复推送。密钥需含范围 sharing.records，且只能移交本租户的任务或全省任务。",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {
                    "schema": {"type": "string"},
                    "example": '{"record_id": "330106-2026-000123", "data": {"bdcdyh": "…"}}\n',
                }
            },
        }
    },
)
async def hand_over_records(
    task: str,
    request: Request,
    caller: Annotated[Caller, Depends(api_key(RECORDS_SCOPE))],
) -> JSONResponse:
    """Queue the batch's good lines for the task; list the bad ones by line."""
    body = await read_body(request, get_settings().ingest_max_body_mb * 1024 * 1024)
    report = await run_in_threadpool(_hand_over, caller, task, body)
    return JSONResponse(report.as_dict())
