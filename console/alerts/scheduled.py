"""The alert jobs, on the scheduler's leader: evaluate, send, beat, tidy the minute counters."""

from __future__ import annotations

from datetime import datetime

from console.alerts import dispatch, engine
from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.outbound import OutboundRefused, fetch
from console.core.settings import get_settings
from console.iam.outbound_service import policy as outbound_policy
from console.jobs.registry import JobFailed, scheduled
from console.jobs.timing import every
from console.logs.store import store_for


@scheduled(
    name="alerts.evaluate",
    label="告警规则评估",
    trigger=every(seconds=get_settings().alert_eval_seconds),
    deadline_seconds=5 * 60,
    idempotent=True,
)
def evaluate_rules(now: datetime) -> str:
    """Every enabled rule once: new alerts fire, persisting ones stay one, cleared ones resolve."""
    cycle = engine.evaluate(now=now)
    if cycle.failed_rules:
        raise JobFailed(cycle.text())
    return cycle.text()


@scheduled(
    name="alerts.dispatch",
    label="告警通知发送",
    trigger=every(seconds=15),
    deadline_seconds=10 * 60,
    idempotent=True,
)
def send_notifications(now: datetime) -> str:
    """Send the queued notifications that are due (retries included)."""
    return dispatch.send_due(now=utcnow(), policy=outbound_policy()).text()


@scheduled(
    name="alerts.heartbeat",
    label="心跳（死信开关）",
    trigger=every(minutes=1),
    deadline_seconds=60,
    idempotent=True,
)
def heartbeat(now: datetime) -> str:
    """Record the leader's beat, and push it to the external monitor when one is configured."""
    url = get_settings().heartbeat_url.strip()
    error = ""
    if url:
        try:
            answer = fetch(
                "GET", url, policy=outbound_policy(), deadline_seconds=10, max_bytes=4096
            )
            if not answer.is_success:
                error = f"心跳地址答复 HTTP {answer.status_code}"
        except OutboundRefused as refused:
            error = f"心跳发送失败：{refused.category}"
    with session_scope() as session:
        beat = engine.heartbeat_row(session)
        beat.beat_at = utcnow()
        if url and not error:
            beat.pushed_at = beat.beat_at
        beat.push_error = error
        session.add(beat)
    if error:
        raise JobFailed(error)
    return "心跳已发送" if url else "心跳已记录（未配置外部心跳地址，由外部监控轮询健康检查接口）"


@scheduled(
    name="alerts.prune_counters",
    label="分钟计数清理",
    trigger=every(hours=1),
    deadline_seconds=5 * 60,
    idempotent=True,
)
def prune_counters(now: datetime) -> str:
    """Drop the minute counters older than the alert rules can look back."""
    dropped = store_for(get_settings().lake_dir).prune_minutes(utcnow())
    return f"清理分钟计数 {dropped} 行"
