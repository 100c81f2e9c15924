"""``GET /api/v1/workflows/{business_code}``: the flow, forms and materials a tenant is served."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from console.api.deps import acting_tenant, api_key_for_business, refusal
from console.api.gateway import Caller
from console.api.routing import secured_router
from console.core.db import session_scope
from console.core.errors import NotFound
from console.workflows.service import served_business

router = secured_router(tags=["workflows"])


def _served(tenant: str, business_code: str) -> dict[str, Any]:
    try:
        with session_scope() as session:
            return served_business(session=session, tenant=tenant, business_code=business_code)
    except NotFound as missing:
        raise refusal(missing) from None


@router.get(
    "/api/v1/workflows/{business_code}",
    summary="读取业务的已发布流程、表单、材料与意见模板（需 workflows.read 范围的接入密钥）",
    description="返回对密钥所属租户生效的版本：租户有已发布的本地覆盖时为覆盖，否则为省级模板。"
    "省级密钥可带 tenant 参数读取某区县生效的版本。",
)
def read_workflow(
    business_code: str,
    caller: Annotated[Caller, Depends(api_key_for_business("workflows.read"))],
    tenant: str | None = None,
) -> JSONResponse:
    """The version in force for the key's tenant, or for the county a province key names."""
    served = _served(acting_tenant(caller, tenant), business_code)
    return JSONResponse(jsonable_encoder(served))
