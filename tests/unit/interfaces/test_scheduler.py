"""The interfaces' system jobs on the scheduler: due probes and due sharing tasks, once per slot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

import console.interfaces.scheduled  # noqa: F401  (registers the interfaces' jobs)
from console.core.clock import CHINA_TZ
from console.core.db import session_scope
from console.interfaces import task_service
from console.interfaces.models import InterfaceDef, ProbeResult, SharingTask, TaskRun
from console.jobs.models import JobRun
from console.jobs.registry import REGISTRY
from console.jobs.scheduler import Scheduler
from tests.support.receiver import Receiver
from tests.support.world import World

JOBS = ("interfaces.probes", "interfaces.sharing_tasks")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def _runs() -> list[tuple[str, str, str]]:
    with session_scope() as session:
        runs = session.exec(select(JobRun).order_by(col(JobRun.id))).all()
    return [(run.job, run.outcome, run.summary) for run in runs]


@pytest.mark.slow
def test_due_probes_and_due_tasks_run_once_per_slot(world: World, receiver: Receiver) -> None:
    night = datetime(2026, 11, 27, 2, 30, tzinfo=CHINA_TZ)
    with session_scope() as session:
        interface = InterfaceDef(
            code="tax.push",
            name="契税推送",
            direction="outbound",
            department="税务",
            sharing_class="业务协同类",
            endpoint_url=receiver.url,
        )
        session.add(interface)
        session.flush()
        session.add(
            SharingTask(
                code="nightly",
                name="夜间推送",
                interface_id=interface.id,
                schedule="0 2 * * *",
                created_at=night - timedelta(days=1),
            )
        )
        session.flush()
        task_service.enqueue(
            session=session,
            task_code="nightly",
            records=[(f"c{n}", {"key": f"c{n}"}) for n in range(3)],
        )
    scheduler = Scheduler(REGISTRY.subset(JOBS))
    try:
        scheduler.step(night)  # becomes the leader: both jobs are due at 02:30:00
        scheduler.drain()
        assert sorted(receiver.keys()) == ["c0", "c1", "c2"]
        assert sorted(_runs()) == [
            ("interfaces.probes", "succeeded", "探测 1 个接口"),
            ("interfaces.sharing_tasks", "succeeded", "到期任务 1 个，执行 1 次（执行记录 1）"),
        ]
        scheduler.step(night + timedelta(minutes=1))  # probed recently, already fired
        scheduler.drain()
    finally:
        scheduler.close()
    assert sorted(_runs()[2:]) == [
        ("interfaces.probes", "succeeded", "探测 0 个接口"),
        ("interfaces.sharing_tasks", "succeeded", "到期任务 0 个，执行 0 次"),
    ]
    assert sorted(receiver.keys()) == ["c0", "c1", "c2"]
    with session_scope() as session:
        run = session.exec(select(TaskRun)).one()
        probe = session.exec(select(ProbeResult)).one()
    assert (run.status, run.trigger, run.processed) == ("succeeded", "schedule", 3)
    assert probe.ok and probe.trigger == "schedule"
