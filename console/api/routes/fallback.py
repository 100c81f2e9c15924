"""Any other path under ``/api/``: the caller is authenticated before being told it is unknown.

So an anonymous scan learns nothing about which routes exist (401 everywhere), while a caller
with a valid key or token gets a plain 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from console.api.deps import any_caller
from console.api.gateway import GatewayRefusal
from console.api.routing import secured_router

router = secured_router(tags=["fallback"])
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route("/api/{rest:path}", methods=METHODS, include_in_schema=False)
def unknown(rest: str, _caller: Annotated[str, Depends(any_caller)]) -> None:
    """404 for an authenticated caller."""
    raise GatewayRefusal(404, f"接口不存在：/api/{rest[:80]}")
