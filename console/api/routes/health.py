"""``GET /api/v1/health``: version and configuration-database state, no key needed."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.responses import JSONResponse
from loguru import logger

from console import __version__
from console.api.routing import public_router
from console.core.db import backend_name, current_revision, get_engine, head_revision

router = public_router(tags=["health"])


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


@router.get(
    "/api/v1/health",
    summary="健康检查（无需密钥）",
    description="配置库可连接且已迁移到最新版本时返回 200（status 为 ok），否则返回 503"
    "（status 为 degraded）。",
)
def health() -> JSONResponse:
    """200 when the database answers at the newest migration, 503 (degraded) otherwise."""
    database = _database_status()
    status = 200 if database["ok"] else 503
    body = {
        "status": "ok" if status == 200 else "degraded",
        "version": __version__,
        "database": database,
    }
    return JSONResponse(body, status_code=status)
