"""The interfaces domain's system jobs: health probes and the sharing tasks' schedules."""

from __future__ import annotations

from datetime import datetime

from loguru import logger

from console.core.db import session_scope
from console.core.errors import UserError
from console.core.settings import get_settings
from console.interfaces import probe_service, task_service
from console.jobs.registry import scheduled
from console.jobs.timing import every


@scheduled(
    name="interfaces.probes",
    label="共享接口健康探测",
    trigger=every(seconds=15),
    deadline_seconds=5 * 60,
    idempotent=True,
)
def probe_interfaces(now: datetime) -> str:
    """Probe every interface not probed within ``BDC_PROBE_INTERVAL_SECONDS``."""
    settings = get_settings()
    with session_scope() as session:
        probed = probe_service.probe_due(
            session=session,
            now=now,
            interval_seconds=settings.probe_interval_seconds,
            failure_threshold=settings.probe_failure_threshold,
        )
    return f"探测 {probed} 个接口"


@scheduled(
    name="interfaces.sharing_tasks",
    label="共享任务定时执行",
    trigger=every(seconds=15),
    deadline_seconds=60 * 60,
    idempotent=False,
)
def run_sharing_tasks(now: datetime) -> str:
    """Start and run each sharing task whose cron fire time has come (each fire time once)."""
    with session_scope() as session:
        due = task_service.due_tasks(session=session, now=now)
    runs = []
    for task_id in due:
        try:
            with session_scope() as session:
                runs.append(
                    task_service.start_run(
                        session=session, actor=None, task_id=task_id, trigger="schedule"
                    )
                )
        except UserError as refused:
            # Still running from its previous fire time, or disabled meanwhile: skip this one.
            logger.warning("scheduled task {} not started: {}", task_id, refused)
    for run_id in runs:
        task_service.execute_run(run_id=run_id)
    return f"到期任务 {len(due)} 个，执行 {len(runs)} 次" + (
        f"（执行记录 {', '.join(map(str, runs))}）" if runs else ""
    )
