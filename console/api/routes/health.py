"""``GET /api/v1/health`` (version and database state) and the leader's heartbeat, no key needed."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import datetime

import redis
import sqlalchemy as sa
from fastapi.responses import JSONResponse
from loguru import logger

from console import __version__
from console.alerts.models import Heartbeat
from console.api.routing import public_router
from console.core import dependencies
from console.core.clock import to_local_text, utcnow
from console.core.db import (
    backend_name,
    current_revision,
    get_engine,
    head_revision,
    session_scope,
)
from console.core.settings import get_settings

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


# Every open page polls the health check: one pooled client, and each answer kept a moment
# (the object store's longer: asking it costs a round trip).
REDIS_CHECK_SECONDS = 2.0
OBJECT_STORE_CHECK_SECONDS = 10.0
_checked: dict[tuple[str, str], tuple[float, bool]] = {}


@functools.cache
def _redis(url: str) -> redis.Redis:
    return dependencies.redis_client(url)


def _cached_status(
    name: str, where: str, seconds: float, answers: Callable[[], object]
) -> dict[str, str | bool]:
    """Whether an engine answers, asked at most once per ``seconds`` per address."""
    checked_at, ok = _checked.get((name, where), (0.0, False))
    if time.monotonic() - checked_at > seconds:
        try:
            ok = bool(answers())
        except Exception as error:  # any failure to answer is the same to the caller
            logger.error("health check: {} unreachable: {}", name, error)
            ok = False
        _checked[(name, where)] = (time.monotonic(), ok)
    if not ok:
        return {"ok": False, "error": dependencies.unavailable_message(name)}
    return {"ok": True}


def _redis_status() -> dict[str, str | bool] | None:
    """Whether the shared-state Redis answers (None when the console runs without one)."""
    url = get_settings().redis_url
    if not url:
        return None
    return _cached_status(dependencies.REDIS, url, REDIS_CHECK_SECONDS, _redis(url).ping)


def _store_answers() -> bool:
    store = next(d for d in dependencies.configured() if d.name == dependencies.OBJECT_STORE)
    store.check()
    return True


def _object_store_status() -> dict[str, str | bool] | None:
    """Whether the log tables' object store answers (None without a table lake)."""
    settings = get_settings()
    if not settings.lake_warehouse:
        return None
    where = f"{settings.lake_s3_endpoint} {settings.lake_warehouse}"
    return _cached_status(
        dependencies.OBJECT_STORE, where, OBJECT_STORE_CHECK_SECONDS, _store_answers
    )


@router.get(
    "/api/v1/health",
    summary="健康检查（无需密钥）",
    description="配置库可连接且已迁移到最新版本、（集群部署时）Redis 与日志表的对象存储可连接时"
    "返回 200（status 为 ok）；否则返回 503（status 为 degraded），"
    "unavailable 列出无法使用的依赖。",
)
def health() -> JSONResponse:
    """200 when every engine answers (database at the newest migration), else 503 naming it."""
    body: dict[str, object] = {"version": __version__, "database": _database_status()}
    redis_status = _redis_status()
    if redis_status is not None:
        body["redis"] = redis_status
    store_status = _object_store_status()
    if store_status is not None:
        body["object_store"] = store_status
    engines = (
        (dependencies.DATABASE, "database"),
        (dependencies.REDIS, "redis"),
        (dependencies.OBJECT_STORE, "object_store"),
    )
    failed = [
        name
        for name, key in engines
        if key in body and not body[key]["ok"]  # type: ignore[index]
    ]
    body["status"] = "degraded" if failed else "ok"
    body["unavailable"] = failed
    return JSONResponse(body, status_code=503 if failed else 200)


# The leader beats every minute; three missed beats mean the scheduler (or the console) is
# gone, and whoever polls this says so outside the console.
HEARTBEAT_STALE_SECONDS = 180


def _evaluating(evaluated_at: datetime | None) -> bool:
    """Alert evaluation ran within five of its cycles (or it has not had its first yet)."""
    if evaluated_at is None:
        return True
    return (utcnow() - evaluated_at).total_seconds() <= 5 * get_settings().alert_eval_seconds + 60


@router.get("/api/v1/health/heartbeat", include_in_schema=False)
def heartbeat() -> JSONResponse:
    """The dead-man's switch for outside monitoring: 200 while the leader beats, else 503."""
    try:
        with session_scope() as session:
            beat = session.get(Heartbeat, 1)
            session.expunge_all()
    except sa.exc.SQLAlchemyError:
        return JSONResponse({"status": "down", "reason": "配置库无法连接"}, status_code=503)
    if beat is None:
        body = {"status": "down", "reason": "尚无心跳：系统任务调度器未运行或刚刚启动"}
        return JSONResponse(body, status_code=503)
    age = (utcnow() - beat.beat_at).total_seconds()
    fresh = age <= HEARTBEAT_STALE_SECONDS
    body = {
        "status": "ok" if fresh else "down",
        "beat_at": to_local_text(beat.beat_at),
        "age_seconds": round(age),
        "evaluated_at": to_local_text(beat.evaluated_at),
        "evaluation_ms": beat.evaluation_ms,
        "pushed_at": to_local_text(beat.pushed_at),
    }
    if not fresh:
        body["reason"] = f"主节点已 {round(age)} 秒没有心跳（超过 {HEARTBEAT_STALE_SECONDS} 秒）"
    elif not _evaluating(beat.evaluated_at):
        fresh = False
        body["status"], body["reason"] = (
            "down",
            "告警规则评估已停止（请查看系统任务 alerts.evaluate）",
        )
    return JSONResponse(body, status_code=200 if fresh else 503)
