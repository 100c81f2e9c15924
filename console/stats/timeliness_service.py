"""办理时效: time taken per business, the share within the promised limit, the late cases.

Late means completed after the limit, or still open beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlmodel import Session

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.errors import Forbidden, ValidationFailed
from console.core.settings import get_settings
from console.dictionaries import lookup
from console.logs.catalogue import snapshot
from console.logs.open_cases import open_cases
from console.stats.limits import judge, time_limits
from console.stats.service import CASE_KEY, OBJ, StatsQuery, lake_views
from console.tenancy.scope import restrict_frame, scope_of
from console.workflows import publish_service as workflows
from console.workflows.limits import keep_time_limit
from console.workflows.models import LEGAL_LIMIT_WORKDAYS, BusinessTimeLimit, Kind

LIMITS_OBJ = "workflows.definitions"  # limits belong to the business definitions
LIST_SIZE = 50


@dataclass(frozen=True)
class BusinessTime:
    """One business: its limit and how its completed cases of the period fared."""

    business_code: str
    label: str
    limit_workdays: int
    completed: int
    on_time: int
    on_time_rate: float | None
    p50_hours: float | None
    p90_hours: float | None
    q1_hours: float | None
    q3_hours: float | None
    min_hours: float | None
    max_hours: float | None


@dataclass(frozen=True)
class LateCase:
    """A case past its limit: completed late, or still open."""

    tenant: str
    case_no: str
    business_code: str
    accepted: str
    workdays: int
    limit_workdays: int


@dataclass(frozen=True)
class Timeliness:
    """The page: per business, the late completions, the overdue open cases, the text."""

    businesses: list[BusinessTime]
    late: list[LateCase]
    open_overdue: list[LateCase]
    sentences: list[str]


def _late(frame: pl.DataFrame) -> list[LateCase]:
    return [
        LateCase(
            r["tenant"],
            r["case_no"],
            r["business_code"],
            to_local_text(r["accepted_at"]),
            int(r["workdays_used"]),
            int(r["limit_workdays"]),
        )
        for r in frame.iter_rows(named=True)
    ]


def timeliness(
    *,
    session: Session,
    actor: Actor,
    query: StatsQuery,
    now: datetime | None = None,
    overdue: bool = True,
) -> Timeliness:
    """Completed cases of the period per business, and the cases past their limit (as of now).

    A 办结 row carries its case's 受理 time, so the period's rows alone judge its closes; only
    the open cases (``overdue``) need every day held.
    """
    authz.require(actor, OBJ, "read", target="timeliness")
    if query.end < query.start:
        raise ValidationFailed("结束日期不能早于开始日期", field="时间范围")
    now = now or utcnow()
    period = lake_views(actor, query, "case_steps")["case_steps"]
    if not period.collect_schema().names():
        return Timeliness([], [], [], ["所选期间没有办结的办件。"])
    limits = time_limits(session)
    closes = judge(
        period.filter(pl.col("step") == "close").select(_CLOSE_COLUMNS), limits
    ).collect()
    businesses = _per_business(closes)
    late = closes.filter(~pl.col("on_time")).sort("workdays_used", descending=True).head(LIST_SIZE)
    open_overdue = _open_overdue(actor, query.tenant, limits, now) if overdue else _NONE_OPEN
    return Timeliness(
        businesses=businesses,
        late=_late(late),
        open_overdue=_late(open_overdue),
        sentences=_sentences(businesses, closes, open_overdue),
    )


_CLOSE_COLUMNS = ("tenant", "case_no", "business_code", "ts", "accepted_at", "hours")
_NONE_OPEN = pl.DataFrame()


def _per_business(closes: pl.DataFrame) -> list[BusinessTime]:
    if closes.is_empty():
        return []
    grouped = (
        closes.group_by("business_code")
        .agg(
            pl.col("limit_workdays").first(),
            CASE_KEY.n_unique().alias("completed"),
            CASE_KEY.filter(pl.col("on_time")).n_unique().alias("on_time"),
            pl.col("on_time").drop_nulls().mean().alias("on_time_rate"),
            *[
                pl.col("hours").quantile(q, interpolation="nearest").alias(name)
                for name, q in (("q1", 0.25), ("p50", 0.5), ("q3", 0.75), ("p90", 0.9))
            ],
            pl.col("hours").min().alias("min"),
            pl.col("hours").max().alias("max"),
        )
        .sort("completed", descending=True)
    )
    labels = lookup.labels("business_code")
    return [
        BusinessTime(
            business_code=r["business_code"],
            label=labels.get(r["business_code"], r["business_code"]),
            limit_workdays=int(r["limit_workdays"]),
            completed=int(r["completed"]),
            on_time=int(r["on_time"] or 0),
            on_time_rate=r["on_time_rate"],
            p50_hours=r["p50"],
            p90_hours=r["p90"],
            q1_hours=r["q1"],
            q3_hours=r["q3"],
            min_hours=r["min"],
            max_hours=r["max"],
        )
        for r in grouped.iter_rows(named=True)
    ]


def _open_overdue(actor: Actor, tenant: str, limits: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Accepted, not yet closed, rejected or withdrawn, and past the limit as of ``now``."""
    with snapshot(get_settings().lake_dir) as snap:
        found = restrict_frame(open_cases(snap), actor)
    if tenant:
        found = found.filter(pl.col("tenant") == tenant)
    return (
        judge(found.with_columns(pl.lit(now).alias("ts")), limits)
        .filter(pl.col("workdays_used") > pl.col("limit_workdays"))
        .sort("workdays_used", descending=True)
        .head(LIST_SIZE)
        .collect()
    )


def _sentences(
    businesses: list[BusinessTime], closes: pl.DataFrame, open_overdue: pl.DataFrame
) -> list[str]:
    if not businesses:
        return ["所选期间没有办结的办件。"]
    judged = closes.get_column("on_time").drop_nulls()
    rate = judged.mean() if len(judged) else None
    sentences = [
        f"所选期间办结 {sum(b.completed for b in businesses):,} 件，"
        f"按时办结率 {'—' if rate is None else f'{rate:.1%}'}，"
        f"超期办结 {int((~judged).sum()):,} 件。"
    ]
    rated = [b for b in businesses if b.on_time_rate is not None]
    if rated:
        worst = min(rated, key=lambda b: (b.on_time_rate, -b.completed))
        sentences.append(
            f"按时办结率最低的业务是{worst.label}（{worst.on_time_rate:.1%}，"
            f"承诺 {worst.limit_workdays} 个工作日）。"
        )
    if not open_overdue.is_empty():
        sentences.append(
            f"另有 {open_overdue.height:,} 件{'以上' if open_overdue.height >= LIST_SIZE else ''}"
            "已超过承诺时限仍未办结，请督办。"
        )
    return sentences


def may_set_limits(actor: Actor) -> bool:
    """Whether ``set_time_limit`` would let the actor through (to offer the edit at all)."""
    rights = all(authz.can(actor, LIMITS_OBJ, act) for act in ("write", "approve"))
    return rights and scope_of(actor).all_tenants


def set_time_limit(
    *, session: Session, actor: Actor, business_code: str, workdays: int, basis: str
) -> None:
    """Set a business's promised limit (province-wide; part of the business definitions).

    Where the province has a business definition, the change is a new published version of
    it (so 流程配置 and 办理时效 never disagree); otherwise only the limit is kept.
    """
    authz.require(actor, LIMITS_OBJ, "write", target=business_code)
    if not scope_of(actor).all_tenants:
        raise Forbidden("承诺办结时限全省统一，由省级管理员维护")
    authz.require(actor, LIMITS_OBJ, "approve", target=business_code)
    if not lookup.is_known("business_code", business_code):
        raise ValidationFailed(f"业务代码 {business_code} 不在数据字典中", field="业务代码")
    if not 0 <= workdays <= LEGAL_LIMIT_WORKDAYS:
        raise ValidationFailed(
            f"应为 0 到 {LEGAL_LIMIT_WORKDAYS} 个工作日（《不动产登记暂行条例》第二十条）",
            field="承诺时限",
        )
    row = session.get(BusinessTimeLimit, business_code)
    before = None if row is None else {"workdays": row.workdays, "basis": row.basis}
    changed = row is None or row.workdays != workdays
    if changed and workflows.has_template(session, kind=Kind.BUSINESS, key=business_code):
        workflows.publish_time_limit(
            session=session,
            actor=actor,
            business_code=business_code,
            workdays=workdays,
            basis=basis,
        )
    row = keep_time_limit(
        session,
        business_code=business_code,
        workdays=workdays,
        basis=basis.strip(),
        account=actor.account,
    )
    record(
        session,
        actor=actor,
        obj=LIMITS_OBJ,
        action="write",
        target=f"time_limit:{business_code}",
        detail={"before": before, "after": {"workdays": workdays, "basis": row.basis}},
    )
