"""The backend scheduler's tick: due probes and due sharing tasks, each exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from console.core.clock import CHINA_TZ
from console.core.db import session_scope
from console.interfaces import task_service
from console.interfaces.models import InterfaceDef, ProbeResult, SharingTask, TaskRun
from console.interfaces.scheduler import tick
from tests.support.receiver import Receiver
from tests.support.world import World


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def test_a_tick_probes_due_interfaces_and_runs_due_tasks_once(
    world: World, receiver: Receiver
) -> None:
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
    probed, runs = tick(night)
    assert (probed, len(runs)) == (1, 1)
    assert sorted(receiver.keys()) == ["c0", "c1", "c2"]
    assert tick(night + timedelta(minutes=1)) == (0, [])  # probed recently, already fired
    with session_scope() as session:
        run = session.exec(select(TaskRun)).one()
        probe = session.exec(select(ProbeResult)).one()
    assert (run.status, run.trigger, run.processed) == ("succeeded", "schedule", 3)
    assert probe.ok and probe.trigger == "schedule"
