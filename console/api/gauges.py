"""Gauges computed when ``/metrics`` is scraped: sealing lag, chain check, backup ages.

Each source is a function from "now" to metric families, read from the configuration
database and the pending store by indexed look-ups only (a scrape stays well under 100 ms and
never scans the lake). ``SOURCES`` is the list the scrape walks: another domain's gauges
(alert counts, say) are one more entry. A source that fails is logged and left out of that
scrape; ``bdc_metrics_source_ok`` tells which.

An age is ``+Inf`` while there has never been a success, so an alert on the age fires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import sqlalchemy as sa
from loguru import logger
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import col

from console.alerts.models import SEVERITIES, Alert, Heartbeat
from console.backup.models import BackupRun
from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs import pending
from console.logs.lag import oldest_unsealed
from console.logs.models import Verification

Source = Callable[[datetime], Iterable[Metric]]
NEVER = float("inf")


def _age(now: datetime, then: datetime | None) -> float:
    return NEVER if then is None else max(0.0, (now - then).total_seconds())


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


# --- sealing ----------------------------------------------------------------------------


def sealing_gauges(now: datetime) -> Iterable[Metric]:
    """How far sealing is behind: 0 when no closed day waits in the pending store."""
    waiting = oldest_unsealed(pending.ingest_path(get_settings().lake_dir), now)
    lag = 0.0 if waiting is None else _age(now, waiting[1])
    text = "Seconds the longest-waiting closed day has been sealable but not sealed (0: none)."
    return [_gauge("bdc_sealing_lag_seconds", text, lag)]


# --- log chain and backups ----------------------------------------------------------------


def chain_gauges(now: datetime) -> Iterable[Metric]:
    """The newest integrity check of the sealed logs (daily job or auditor): result and age."""
    with session_scope() as session:
        newest = session.execute(
            sa.select(Verification.checked_at, Verification.breaks)
            .order_by(col(Verification.checked_at).desc())
            .limit(1)
        ).first()
    age = _gauge(
        "bdc_chain_verification_age_seconds",
        "Seconds since the newest log chain verification (+Inf: never verified).",
        _age(now, newest[0] if newest else None),
    )
    if newest is None:
        return [age]  # no result yet: no "ok" to state
    ok = _gauge(
        "bdc_chain_verification_ok",
        "1 when the newest log chain verification found no break, else 0.",
        1.0 if newest[1] == 0 else 0.0,
    )
    return [ok, age]


def _newest_success(kind: str) -> datetime | None:
    with session_scope() as session:
        return session.execute(
            sa.select(sa.func.max(BackupRun.finished_at)).where(
                col(BackupRun.kind) == kind, col(BackupRun.outcome) == "succeeded"
            )
        ).scalar_one_or_none()


def backup_gauges(now: datetime) -> Iterable[Metric]:
    """Ages of the newest successful backup and of the newest passed restore verification."""
    return [
        _gauge(
            "bdc_backup_age_seconds",
            "Seconds since the newest successful backup finished (+Inf: none yet).",
            _age(now, _newest_success("backup")),
        ),
        _gauge(
            "bdc_backup_verified_age_seconds",
            "Seconds since the newest passed restore verification of a backup (+Inf: none yet).",
            _age(now, _newest_success("verify")),
        ),
    ]


# --- alerts and the leader's heartbeat ------------------------------------------------------


def alert_gauges(now: datetime) -> Iterable[Metric]:
    """Open alerts per severity, and the age of the scheduler leader's last beat."""
    with session_scope() as session:
        counts = dict(
            session.execute(
                sa.select(Alert.severity, sa.func.count())
                .where(col(Alert.state) != "resolved")
                .group_by(Alert.severity)
            ).all()
        )
        beat = session.execute(sa.select(Heartbeat.beat_at).where(Heartbeat.id == 1)).first()
    open_alerts = GaugeMetricFamily(
        "bdc_alerts_open", "Alerts not yet resolved, by severity.", labels=["severity"]
    )
    for severity in SEVERITIES:
        open_alerts.add_metric([severity], float(counts.get(severity, 0)))
    heartbeat = _gauge(
        "bdc_leader_heartbeat_age_seconds",
        "Seconds since the scheduler leader's last beat (+Inf: none yet).",
        _age(now, beat[0] if beat else None),
    )
    return [open_alerts, heartbeat]


# --- the collector --------------------------------------------------------------------------

# Name and function of every scrape-time source; a new one is one more line here.
SOURCES: list[tuple[str, Source]] = [
    ("sealing", sealing_gauges),
    ("chain", chain_gauges),
    ("backup", backup_gauges),
    ("alerts", alert_gauges),
]


class ConsoleGauges:
    """A prometheus_client collector over ``SOURCES`` (read at every scrape)."""

    def __init__(self, sources: Iterable[tuple[str, Source]] | None = None) -> None:
        self.sources = list(SOURCES if sources is None else sources)

    def collect(self) -> Iterator[Metric]:
        """Every source's families, then whether each source answered."""
        now = utcnow()
        answered = GaugeMetricFamily(
            "bdc_metrics_source_ok",
            "1 when the scrape-time source answered, 0 when it failed (see the console log).",
            labels=["source"],
        )
        for name, source in self.sources:
            try:
                families = list(source(now))
            except Exception:  # one broken source must not take the others (or the scrape) down
                logger.opt(exception=True).warning(f"监控指标来源 {name} 读取失败")
                answered.add_metric([name], 0.0)
                continue
            yield from families
            answered.add_metric([name], 1.0)
        yield answered
