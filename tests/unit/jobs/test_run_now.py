"""立即运行 and the 系统任务 page: the system administrator may, others are refused and logged."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.jobs import service
from console.jobs.models import JobRequest
from console.jobs.scheduler import Scheduler
from console.jobs.state import JobsState, fetch
from tests.support.world import World
from tests.unit.jobs.sample_jobs import CLUSTER
from tests.unit.jobs.support import job_runs, quick_settings

JOBS = CLUSTER.subset(["sample.ticker"])


def _job_log() -> list[tuple[str, str, str, str]]:
    with session_scope() as session:
        entries = session.exec(
            select(OperationLog)
            .where(OperationLog.object == service.OBJ)
            .order_by(col(OperationLog.id))
        ).all()
    return [(e.actor_account, e.action, e.outcome, e.target) for e in entries]


@pytest.mark.slow
def test_the_system_administrator_runs_a_job_now_and_sees_it_on_the_page(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick_settings(monkeypatch)
    admin = world.actor("sys_admin")
    with session_scope() as session:
        request_id = service.request_run(
            session=session, actor=admin, job="sample.ticker", registry=JOBS
        )
    with pytest.raises(ValidationFailed), session_scope() as session:
        service.request_run(session=session, actor=admin, job="sample.ticker", registry=JOBS)
    with pytest.raises(NotFound), session_scope() as session:
        service.request_run(session=session, actor=admin, job="no.such.job", registry=JOBS)

    scheduler = Scheduler(JOBS)  # any process may take the request; the leader runs it
    try:
        scheduler.step()
        scheduler.drain()
    finally:
        scheduler.close()
    (manual,) = [run for run in job_runs("sample.ticker") if run.trigger == "manual"]
    assert (manual.outcome, manual.requested_by, manual.summary) == (
        "succeeded",
        "u_sys_admin",
        "tick",
    )
    with session_scope() as session:
        request = session.get(JobRequest, request_id)
    assert request is not None and request.picked_at is not None
    assert request.run_id == manual.id
    assert _job_log() == [("u_sys_admin", "execute", "success", "sample.ticker")]

    with session_scope() as session:
        listing = fetch("*", "*", 1)(session, admin)
        only_failures = fetch("*", "failed", 1)(session, admin)
    state = JobsState()
    state._show(listing)
    assert state.can_execute and state.total == len(job_runs())
    (shown,) = [row for row in state.rows if row.id == manual.id]
    assert (shown.trigger_label, shown.outcome_label) == ("立即运行（u_sys_admin）", "成功")
    assert {job.name for job in state.jobs} == {job.name for job in service.REGISTRY}
    assert only_failures.runs.total == 0


def test_others_may_neither_see_nor_run_jobs_and_each_refusal_is_logged(world: World) -> None:
    refused = ("sec_admin", "audit_admin", "province_supervisor", "county_admin")
    for role in refused:
        actor = world.actor(role)
        assert not service.may_execute(actor)
        with pytest.raises(Forbidden), session_scope() as session:
            service.request_run(session=session, actor=actor, job="sample.ticker", registry=JOBS)
        with pytest.raises(Forbidden), session_scope() as session:
            fetch("*", "*", 1)(session, actor)
    with session_scope() as session:
        assert session.exec(select(JobRequest)).all() == []
    denials = {(account, action, outcome) for account, action, outcome, _ in _job_log()}
    for role in refused:
        assert (f"u_{role}", "execute", "denied") in denials
        assert (f"u_{role}", "read", "denied") in denials
