"""``GET /api/v1/whoami``: a key's self-check of its tenant, streams, channel and rate limit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from console.api.deps import any_api_key
from console.api.gateway import Caller
from console.api.routing import secured_router

router = secured_router(tags=["gateway"])


@router.get(
    "/api/v1/whoami",
    summary="接入自检：密钥绑定的租户、范围、通道状态与限额",
    description="可带 tenant、business_code、interface_code 参数，检查该密钥能否代表该租户、"
    "提交该业务或经该接口调用；不能时返回 403 及原因。",
)
def whoami(caller: Annotated[Caller, Depends(any_api_key)]) -> dict[str, Any]:
    """What the key is bound to, once the gateway let the call through."""
    return {
        "key_id": caller.key_id,
        "tenant": caller.tenant_code,
        "scopes": sorted(caller.scopes),
        "channel_state": caller.channel_state,
        "rate_limit_per_minute": caller.rate_limit_per_minute,
    }
