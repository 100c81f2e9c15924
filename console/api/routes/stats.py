"""``GET /api/v1/stats/cases`` and ``/interfaces``: the dashboards' figures, by access token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import polars as pl
from fastapi import Depends, Query

from console.api.deps import permitted, run_as
from console.api.routing import secured_router
from console.core.actor import Actor
from console.stats import service as stats
from console.stats.service import StatsQuery

router = secured_router(tags=["stats"])
CaseReader = Annotated[Actor, Depends(permitted(stats.OBJ, "read", target="cases"))]
InterfaceReader = Annotated[Actor, Depends(permitted(stats.OBJ, "read", target="interfaces"))]


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


async def _stats(
    actor: Actor, compute: Callable[..., pl.DataFrame], query: StatsQuery
) -> dict[str, Any]:
    frame = await run_as(actor, lambda _s, a: compute(actor=a, query=query))
    return {
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "group_by": list(query.group_by),
        "rows": stats.rows_of(frame),
    }


@router.get(
    "/api/v1/stats/cases",
    summary="办件统计：受理、办结、驳回件数与平均办理时长（个人访问令牌）",
    description="统计 from 至 to 期间（含），可按 group_by 分组；只含本人数据范围内的区县。",
)
async def read_case_stats(
    query: Annotated[StatsQuery, Depends(stats_query)], actor: CaseReader
) -> dict[str, Any]:
    """Received, completed and rejected cases and average hours per group, in the token's scope."""
    return await _stats(actor, stats.case_stats, query)


@router.get(
    "/api/v1/stats/interfaces",
    summary="共享接口统计：调用量、失败数、成功率、p50/p95 时延（个人访问令牌）",
    description="统计 from 至 to 期间（含），可按 group_by 分组；只含本人数据范围内的区县。",
)
async def read_interface_stats(
    query: Annotated[StatsQuery, Depends(stats_query)], actor: InterfaceReader
) -> dict[str, Any]:
    """Calls, failures, success rate and latency per group, in the token's scope."""
    return await _stats(actor, stats.interface_stats, query)
