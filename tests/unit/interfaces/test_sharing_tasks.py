"""Sharing tasks against a real HTTP receiver: batches, failures, re-runs, schedules, scope."""

from __future__ import annotations

import socket
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.authz import service as authz
from console.core.db import session_scope
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.interfaces import task_service as tasks
from console.interfaces.models import InterfaceDef, SharingOutbox, SharingTask, TaskRun
from console.interfaces.outbox import open_payload
from tests.support.receiver import Receiver
from tests.support.world import BINJIANG, XIHU, World

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _interface(endpoint: str, *, code: str = "tax.share", direction: str = "outbound") -> int:
    with session_scope() as session:
        interface = InterfaceDef(
            code=code,
            name=f"税务共享 {code}",
            direction=direction,
            endpoint_url=endpoint,
            timeout_ms=2000,
        )
        session.add(interface)
        session.flush()
        return interface.id


def _create(world: World, interface: int, **fields: object) -> int:
    """Create a task (fields override a valid draft) as sys_admin, or a county admin for XIHU."""
    values = {"code": "tax.deeds", "name": "不动产登记结果推送税务", "interface_id": interface}
    draft = tasks.TaskDraft(**(values | fields))
    actor = world.actor("county_admin" if draft.tenant_code else "sys_admin")
    with session_scope() as session:
        return tasks.create_task(session=session, actor=actor, draft=draft).id


def _records(start: int, count: int) -> list[tuple[str, dict]]:
    return [
        (f"r{i:04d}", {"key": f"r{i:04d}", "证书号": f"浙(2026)第{i}号"})
        for i in range(start, start + count)
    ]


def _enqueue(records: list[tuple[str, dict]], code: str = "tax.deeds") -> int:
    with session_scope() as session:
        return tasks.enqueue(session=session, task_code=code, records=records)


def _start(world: World, task_id: int) -> int:
    with session_scope() as session:
        return tasks.start_run(session=session, actor=world.actor("sys_admin"), task_id=task_id)


def _run(run_id: int) -> TaskRun:
    with session_scope() as session:
        return session.get(TaskRun, run_id)


def _pending(task_id: int) -> list[str]:
    with session_scope() as session:
        return list(
            session.exec(
                select(SharingOutbox.record_key).where(
                    SharingOutbox.task_id == task_id, SharingOutbox.delivered_at.is_(None)
                )
            ).all()
        )


def _log_actions(target: str) -> list[tuple[str, str, str]]:
    with session_scope() as session:
        rows = session.exec(
            select(OperationLog)
            .where(OperationLog.object == tasks.OBJ, OperationLog.target == target)
            .order_by(OperationLog.id)
        ).all()
    return [(r.action, r.actor_account, r.outcome) for r in rows]


def test_invalid_drafts_are_refused_naming_the_field(world: World, tax: int) -> None:
    inbound = _interface("http://127.0.0.1:9/in", code="deeds.in", direction="inbound")
    no_endpoint = _interface("", code="trade.share")
    cases = [
        ({"code": "Tax Deeds"}, "编码", "小写字母"),
        ({"name": ""}, "名称", "1 到 128"),
        ({"name": "名" * 129}, "名称", "1 到 128"),
        ({"interface_id": 999999}, "接口", "不存在"),
        ({"interface_id": inbound}, "接口", "接入接口"),
        ({"interface_id": no_endpoint}, "接口", "接口未登记地址，无法推送"),
        ({"schedule": "0 2 * *"}, "执行计划", tasks.CRON_HINT),
        ({"schedule": "0 0 2 * * *"}, "执行计划", tasks.CRON_HINT),
        ({"schedule": "61 2 * * *"}, "执行计划", tasks.CRON_HINT),
        ({"batch_size": 0}, "每批条数", "1 到 5000"),
        ({"batch_size": 5001}, "每批条数", "1 到 5000"),
    ]
    for fields, field, message in cases:
        with pytest.raises(ValidationFailed) as refused:
            _create(world, tax, **fields)
        assert refused.value.field == field, fields
        assert message in refused.value.message, fields
    _create(world, tax)
    with pytest.raises(ValidationFailed) as duplicate:
        _create(world, tax, name="另一个")
    assert duplicate.value.field == "编码"


def test_enqueue_is_idempotent(world: World, tax: int) -> None:
    task_id = _create(world, tax)
    assert _enqueue([*_records(1, 3), ("r0001", {"key": "r0001", "again": True})]) == 3
    assert _enqueue(_records(2, 4)) == 2  # r0002, r0003 are already queued
    with session_scope() as session:
        keys = session.exec(
            select(SharingOutbox.record_key).where(SharingOutbox.task_id == task_id)
        ).all()
        first = session.exec(select(SharingOutbox).where(SharingOutbox.record_key == "r0001")).one()
    assert sorted(keys) == [f"r{i:04d}" for i in range(1, 6)]
    assert "again" not in open_payload(first.payload)
    with pytest.raises(NotFound):
        _enqueue(_records(1, 1), code="no.such-task")


def test_250_records_go_in_three_batches_each_exactly_once(
    world: World, tax: int, receiver: Receiver
) -> None:
    task_id = _create(world, tax, batch_size=100)
    _enqueue(_records(1, 250))
    run_id = _start(world, task_id)
    assert _run(run_id).total == 250

    tasks.execute_run(run_id=run_id)

    assert [len(body["records"]) for body in receiver.bodies] == [100, 100, 50]
    assert {body["task"] for body in receiver.bodies} == {"tax.deeds"}
    assert sorted(receiver.keys()) == [f"r{i:04d}" for i in range(1, 251)]
    assert len(set(receiver.keys())) == 250
    run = _run(run_id)
    assert (run.status, run.processed, run.total, run.error) == ("succeeded", 250, 250, "")
    assert run.finished_at is not None and run.duration_ms is not None
    assert _pending(task_id) == []
    with session_scope() as session:
        admin = world.actor("sys_admin")
        row = tasks.list_runs(session=session, actor=admin, task_id=task_id).items[0]
        listed = tasks.list_tasks(session=session, actor=admin, search="deeds").items[0]
    assert (row.status_label, row.progress, row.trigger_label) == ("成功", 100, "手动")
    assert (listed.last_status_label, listed.pending, listed.interface_name) == (
        "成功",
        0,
        "税务共享 tax.share",
    )
    assert _log_actions("tax.deeds") == [
        ("create", "u_sys_admin", "success"),
        ("execute", "u_sys_admin", "success"),
        ("run", "u_sys_admin", "success"),
    ]


def test_a_failed_batch_fails_the_run_and_rerun_delivers_only_the_rest(
    world: World, tax: int, receiver: Receiver
) -> None:
    task_id = _create(world, tax, batch_size=100)
    _enqueue(_records(1, 250))
    receiver.fail_from = 2
    run_id = _start(world, task_id)

    tasks.execute_run(run_id=run_id)

    failed = _run(run_id)
    assert failed.status == "failed" and failed.processed == 100
    assert "第 2 批" in failed.error and "状态码 500" in failed.error  # no receiver text
    assert failed.finished_at is not None and failed.duration_ms is not None
    assert len(_pending(task_id)) == 150
    assert receiver.keys() == [f"r{i:04d}" for i in range(1, 101)]
    with session_scope() as session:
        row = tasks.list_runs(session=session, actor=world.actor("sys_admin"), status="failed")
    assert [(r.id, r.status_label, r.progress) for r in row.items] == [(run_id, "失败", 40)]
    assert ("run", "u_sys_admin", "failure") in _log_actions("tax.deeds")

    receiver.fail_from = None
    with session_scope() as session:
        second = tasks.rerun(session=session, actor=world.actor("sys_admin"), run_id=run_id)
    assert _run(second).total == 150
    tasks.execute_run(run_id=second)

    rerun = _run(second)
    assert (rerun.status, rerun.trigger, rerun.rerun_of, rerun.processed) == (
        "succeeded",
        "rerun",
        run_id,
        150,
    )
    assert len(receiver.keys()) == 250
    assert sorted(receiver.keys()) == [f"r{i:04d}" for i in range(1, 251)]
    assert _pending(task_id) == []
    with pytest.raises(ValidationFailed, match="只有失败的执行"), session_scope() as session:
        tasks.rerun(session=session, actor=world.actor("sys_admin"), run_id=second)


def test_progress_shows_while_running_and_a_second_start_is_refused(
    world: World, tax: int, receiver: Receiver
) -> None:
    task_id = _create(world, tax, batch_size=100)
    _enqueue(_records(1, 250))
    receiver.hold_from = 2  # the second batch waits until the test lets it through
    run_id = _start(world, task_id)
    worker = threading.Thread(target=tasks.execute_run, kwargs={"run_id": run_id})
    worker.start()
    try:
        for _ in range(200):
            if receiver.pushes >= 2:
                break
            threading.Event().wait(0.02)
        with session_scope() as session:
            row = tasks.list_runs(session=session, actor=world.actor("sys_admin")).items[0]
        assert (row.status_label, row.processed, row.progress) == ("运行中", 100, 40)
        with pytest.raises(ValidationFailed, match="任务正在执行，请等待完成"):
            _start(world, task_id)
    finally:
        receiver.release.set()
        worker.join(10)
    assert _run(run_id).status == "succeeded"
    assert _start(world, task_id) > run_id  # finished: the task can start again


def test_a_timeout_or_an_unreachable_receiver_fails_the_run(
    world: World, tax: int, receiver: Receiver
) -> None:
    with session_scope() as session:
        session.get(InterfaceDef, tax).timeout_ms = 300
    task_id = _create(world, tax)
    _enqueue(_records(1, 5))
    receiver.hold_from = 1  # never released within the timeout
    run_id = _start(world, task_id)
    tasks.execute_run(run_id=run_id)
    assert "第 1 批（5 条）推送失败：接口超时" in _run(run_id).error

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with session_scope() as session:
        session.get(InterfaceDef, tax).endpoint_url = f"http://127.0.0.1:{closed}/share"
    with session_scope() as session:
        again = tasks.rerun(session=session, actor=world.actor("sys_admin"), run_id=run_id)
    tasks.execute_run(run_id=again)
    run = _run(again)
    assert run.status == "failed" and "无法连接接口" in run.error
    assert len(_pending(task_id)) == 5


def test_a_disabled_task_does_not_start(world: World, tax: int) -> None:
    task_id = _create(world, tax)
    with session_scope() as session:
        tasks.set_enabled(
            session=session, actor=world.actor("sys_admin"), task_id=task_id, enabled=False
        )
    with pytest.raises(ValidationFailed, match="已停用"):
        _start(world, task_id)
    assert ("disable", "u_sys_admin", "success") in _log_actions("tax.deeds")


def _shanghai(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def test_a_nightly_task_is_due_once_after_two_oclock(world: World, tax: int) -> None:
    nightly = _create(world, tax, schedule="0 2 * * *")
    _create(world, tax, code="tax.by-hand")
    _create(world, tax, code="tax.off", schedule="0 2 * * *", enabled=False)
    with session_scope() as session:
        for task in session.exec(select(SharingTask)).all():
            task.created_at = _shanghai(9, 12, 0)

    def due(at: datetime) -> list[int]:
        with session_scope() as session:
            return tasks.due_tasks(session=session, now=at)

    assert due(_shanghai(10, 1, 59)) == []
    assert due(_shanghai(10, 2, 0)) == [nightly]
    assert due(_shanghai(10, 2, 1)) == []
    assert due(_shanghai(10, 23, 30)) == []
    assert due(_shanghai(11, 2, 5)) == [nightly]
    with session_scope() as session:
        run_id = tasks.start_run(session=session, actor=None, task_id=nightly, trigger="schedule")
    tasks.execute_run(run_id=run_id)
    assert _run(run_id).status == "succeeded"
    assert ("run", "system", "success") in _log_actions("tax.deeds")


def _grant_tasks_to_county_admins() -> None:
    with session_scope() as session:
        granted = authz.role_permissions(session, role_code="county_admin")
        authz.set_role_permissions(
            session,
            role_code="county_admin",
            permissions=granted
            | {(tasks.OBJ, "read"), (tasks.OBJ, "write"), (tasks.OBJ, "execute")},
        )


def test_a_county_sees_province_tasks_and_its_own_never_another_countys(
    world: World, tax: int
) -> None:
    _grant_tasks_to_county_admins()
    _create(world, tax, code="tax.province")
    xihu_task = _create(world, tax, code="xihu.deeds", tenant_code=XIHU)
    binjiang = world.actor("binjiang_admin")
    with session_scope() as session:
        seen = [r.code for r in tasks.list_tasks(session=session, actor=binjiang).items]
        mine = [
            r.code
            for r in tasks.list_tasks(session=session, actor=world.actor("county_admin")).items
        ]
    assert seen == ["tax.province"]
    assert mine == ["tax.province", "xihu.deeds"]
    run_id = _start(world, xihu_task)
    with session_scope() as session:
        assert tasks.list_runs(session=session, actor=binjiang).items == []
        assert tasks.list_runs(session=session, actor=binjiang, task_id=xihu_task).total == 0
    with pytest.raises(NotFound), session_scope() as session:
        tasks.start_run(session=session, actor=binjiang, task_id=xihu_task)
    with pytest.raises(ValidationFailed) as province_only, session_scope() as session:
        tasks.create_task(
            session=session,
            actor=binjiang,
            draft=tasks.TaskDraft(code="bj.all", name="全省", interface_id=tax),
        )
    assert province_only.value.field == "适用范围"
    with pytest.raises(NotFound), session_scope() as session:
        tasks.create_task(
            session=session,
            actor=binjiang,
            draft=tasks.TaskDraft(code="bj.xihu", name="西湖", interface_id=tax, tenant_code=XIHU),
        )
    with session_scope() as session:
        tasks.create_task(
            session=session,
            actor=binjiang,
            draft=tasks.TaskDraft(
                code="bj.own", name="滨江", interface_id=tax, tenant_code=BINJIANG
            ),
        )
    assert _run(run_id).status == "running"


def test_roles_without_the_permission_are_forbidden(world: World, tax: int) -> None:
    task_id = _create(world, tax)
    auditor = world.actor("audit_admin")
    with pytest.raises(Forbidden), session_scope() as session:
        tasks.list_tasks(session=session, actor=auditor)
    with pytest.raises(Forbidden), session_scope() as session:
        tasks.list_runs(session=session, actor=auditor)
    with pytest.raises(Forbidden), session_scope() as session:
        tasks.start_run(session=session, actor=auditor, task_id=task_id)
    assert ("execute", "u_audit_admin", "denied") in _log_actions("tax.deeds")


def test_editing_a_stopped_task_does_not_start_it(world: World, tax: int) -> None:
    task_id = _create(world, tax, batch_size=100)
    admin = world.actor("sys_admin")
    with session_scope() as session:
        tasks.set_enabled(session=session, actor=admin, task_id=task_id, enabled=False)
    with session_scope() as session:
        task = session.get(SharingTask, task_id)
        assert task is not None
        draft = tasks.TaskDraft(
            code=task.code, name="改了名字", interface_id=task.interface_id, batch_size=50
        )
        row = tasks.update_task(session=session, actor=admin, task_id=task_id, draft=draft)
    assert (row.name, row.enabled) == ("改了名字", False)
