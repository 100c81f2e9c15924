"""The backend's scheduler: probes, sharing tasks, sealing and purging log days, reports."""

from __future__ import annotations

import asyncio
from datetime import datetime

from loguru import logger

from console.core.clock import local_day, utcnow
from console.core.db import session_scope
from console.core.errors import UserError
from console.core.settings import get_settings
from console.interfaces import probe_service, task_service
from console.logs.open_cases import sealed_open_cases
from console.logs.retention import purge_expired
from console.logs.store import store_for
from console.reports import service as report_service

TICK_SECONDS = 15


def tick(now: datetime | None = None) -> tuple[int, list[int]]:
    """One round: probe the interfaces that are due, start and run the tasks that are due.

    Returns:
        (how many interfaces were probed, ids of the task runs started).
    """
    settings = get_settings()
    now = now or utcnow()
    with session_scope() as session:
        probed = probe_service.probe_due(
            session=session,
            now=now,
            interval_seconds=settings.probe_interval_seconds,
            failure_threshold=settings.probe_failure_threshold,
        )
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
    store_for(settings.lake_dir).seal(lake=settings.lake_dir, now=now)
    # Bring the kept open cases up to the newly sealed day now, not at a reader's first look.
    sealed_open_cases(settings.lake_dir)
    with session_scope() as session:
        purge_expired(
            session=session,
            lake=settings.lake_dir,
            today=local_day(now),
            retention_days=settings.log_retention_days,
        )
    # After sealing, so a report of the period that just ended reads its last day sealed.
    report_service.enqueue_scheduled(today=local_day(now))
    report_service.run_queued(limit=1, now=now)
    return probed, runs


async def run_scheduler() -> None:
    """Tick forever in a worker thread (lifespan task of the backend)."""
    if not get_settings().scheduler_enabled:
        logger.info("scheduler disabled (BDC_SCHEDULER_ENABLED=0)")
        return
    while True:
        try:
            await asyncio.to_thread(tick)
        except Exception:  # the loop must outlive any one failure; the error is logged
            logger.exception("scheduler tick failed")
        await asyncio.sleep(TICK_SECONDS)
