"""``POST /api/v1/iam/sync``: the 一体化平台 pushes user records with an ``iam.sync`` key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from console.api.deps import api_key, key_scope, refusal
from console.api.gateway import Caller
from console.api.routing import secured_router
from console.core.db import session_scope
from console.core.errors import UserError
from console.iam.sync_service import SyncReport, sync_users_from_platform

router = secured_router(tags=["iam"])


class SyncBody(BaseModel):
    """Body of ``POST /api/v1/iam/sync``."""

    records: list[dict[str, Any]] = Field(
        description="用户记录：account, real_name, tenant_code, "
        "id_type, id_number, phone, org_uscc, post, status, "
        "category（staff 业务人员 / applicant 申请人 / sharing_contact 共享部门联系人，缺省 staff）"
    )


def _sync(caller: Caller, records: list[dict[str, Any]]) -> SyncReport:
    try:
        with session_scope() as session:
            return sync_users_from_platform(
                session=session, actor=caller.actor, scope=key_scope(caller), records=records
            )
    except UserError as refused:
        raise refusal(refused) from None


@router.post(
    "/api/v1/iam/sync",
    summary="一体化平台用户信息同步（需 iam.sync 范围的接入密钥）",
    description="逐条处理：合格的记录新建、更新或停用账号（不改动本地角色），不合格的逐条列出原因。"
    "省级密钥可同步各区县的账号，区县密钥只能同步本区县的账号。",
)
def iam_sync(
    caller: Annotated[Caller, Depends(api_key("iam.sync"))], body: SyncBody
) -> JSONResponse:
    """Apply the batch record by record within the key's tenants; the outcome of each."""
    report = _sync(caller, body.records)
    return JSONResponse(report.as_dict())
