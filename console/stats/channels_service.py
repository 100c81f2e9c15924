"""机构通道统计: each institution's cases and rejections, each channel's calls and refusals.

Institutions (banks, developers, brokers, agencies) are named in the case events they push;
channels are the console's own 机构通道 with their refused calls. Rates over the configured
thresholds are flagged — they feed the 开通/限流观察/关闭 decisions on the channel page.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlmodel import Session, col, func, select

from console.authz import service as authz
from console.core.actor import Actor
from console.core.settings import get_settings
from console.interfaces.models import Channel, ChannelCounter
from console.stats.service import CHANNEL_LABELS, OBJ, StatsQuery, case_stats
from console.tenancy.scope import restrict

MIN_CASES_TO_FLAG = 20  # a rate over a handful of cases says little


@dataclass(frozen=True)
class InstitutionFigures:
    """One institution's cases in the period."""

    channel: str
    institution: str
    received: int
    completed: int
    rejected: int
    rejection_rate: float | None
    avg_hours: float | None
    flagged: bool


@dataclass(frozen=True)
class ChannelFigures:
    """One 机构通道's calls through the gateway in the period."""

    tenant_code: str
    name: str
    kind: str
    state: str
    calls: int
    refusals: int
    refusal_rate: float | None
    flagged: bool


@dataclass(frozen=True)
class ChannelStats:
    """The page: institutions, channels and what they say."""

    institutions: list[InstitutionFigures]
    channels: list[ChannelFigures]
    sentences: list[str]


def _institutions(actor: Actor, query: StatsQuery, threshold: float) -> list[InstitutionFigures]:
    grouped = StatsQuery(query.start, query.end, ("channel", "institution"), query.tenant)
    frame = case_stats(actor=actor, query=grouped).filter(pl.col("institution") != "")
    rows = []
    for row in frame.iter_rows(named=True):
        rate = row["rejected"] / row["received"] if row["received"] else None
        rows.append(
            InstitutionFigures(
                channel=CHANNEL_LABELS.get(row["channel"], row["channel"]),
                institution=row["institution"],
                received=row["received"],
                completed=row["completed"],
                rejected=row["rejected"],
                rejection_rate=rate,
                avg_hours=row["avg_hours"],
                flagged=rate is not None
                and rate > threshold
                and row["received"] >= MIN_CASES_TO_FLAG,
            )
        )
    return sorted(rows, key=lambda r: (-r.received, r.institution))


def _channels(
    session: Session, actor: Actor, query: StatsQuery, threshold: float
) -> list[ChannelFigures]:
    # Each channel in scope with its calls and refusals of the period (calls include refusals).
    in_period = (
        (ChannelCounter.channel_id == Channel.id)
        & (col(ChannelCounter.day) >= query.start)
        & (col(ChannelCounter.day) <= query.end)
    )
    statement = (
        select(Channel, func.sum(ChannelCounter.calls), func.sum(ChannelCounter.refusals))
        .join(ChannelCounter, in_period, isouter=True)
        .group_by(Channel.id)
        .order_by(Channel.tenant_code, Channel.name)
    )
    if query.tenant:
        statement = statement.where(Channel.tenant_code == query.tenant)
    found = session.exec(restrict(statement, Channel.tenant_code, actor)).all()  # type: ignore[arg-type]
    rows = []
    for channel, summed_calls, summed_refusals in found:
        calls, refusals = int(summed_calls or 0), int(summed_refusals or 0)
        rate = refusals / calls if calls else None
        rows.append(
            ChannelFigures(
                tenant_code=channel.tenant_code,
                name=channel.name,
                kind=CHANNEL_LABELS.get(channel.kind, channel.kind),
                state=channel.state,
                calls=calls,
                refusals=refusals,
                refusal_rate=rate,
                flagged=rate is not None and rate > threshold,
            )
        )
    return sorted(rows, key=lambda r: (-(r.refusal_rate or 0), -r.calls))


def channel_stats(*, session: Session, actor: Actor, query: StatsQuery) -> ChannelStats:
    """Institutions' cases and channels' calls in the period, flagged against the thresholds."""
    authz.require(actor, OBJ, "read", target="channels")
    settings = get_settings()
    institutions = _institutions(actor, query, settings.channel_alert_rejection_rate)
    channels = _channels(session, actor, query, settings.channel_alert_refusal_rate)
    sentences = _sentences(institutions, channels, settings.channel_alert_rejection_rate)
    return ChannelStats(institutions, channels, sentences)


def _sentences(
    institutions: list[InstitutionFigures], channels: list[ChannelFigures], threshold: float
) -> list[str]:
    if not institutions and not channels:
        return ["所选期间没有机构通道办件或调用记录。"]
    sentences = []
    if institutions:
        total = sum(i.received for i in institutions)
        top = institutions[0]
        sentences.append(
            f"所选期间经机构通道受理 {total:,} 件，来自 {len(institutions)} 家机构；"
            f"最多的是{top.institution}（{top.received:,} 件）。"
        )
        flagged = [i for i in institutions if i.flagged]
        if flagged:
            names = "、".join(f"{i.institution}（{i.rejection_rate:.1%}）" for i in flagged[:3])
            sentences.append(
                f"受理 {MIN_CASES_TO_FLAG} 件以上的机构中，驳回率超过 {threshold:.0%} 的 "
                f"{len(flagged)} 家：{names}，建议核查。"
            )
        else:
            # Rates over a handful of cases are not judged: say so, or a small institution's
            # high rate in the table would seem to contradict the sentence.
            sentences.append(
                f"受理 {MIN_CASES_TO_FLAG} 件以上的机构中，没有驳回率超过 {threshold:.0%} 的。"
            )
    refused = [c for c in channels if c.flagged]
    if refused:
        names = "、".join(f"{c.name}（{c.refusal_rate:.1%}）" for c in refused[:3])
        sentences.append(f"调用被拒率超标的通道：{names}，可在「机构通道」中调整为限流观察或关闭。")
    return sentences
