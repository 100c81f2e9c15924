"""共享任务的队列: records handed over line by line, kept sealed, failures named, re-queued."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.interfaces import queue_service as queue
from console.interfaces import task_service as tasks
from tests.support.receiver import Receiver
from tests.support.world import BINJIANG, XIHU, World
from tests.unit.interfaces.test_sharing_tasks import (
    _create,
    _grant_tasks_to_county_admins,
    _start,
)


def _ndjson(*items: object) -> bytes:
    return b"\n".join(
        item if isinstance(item, bytes) else json.dumps(item, ensure_ascii=False).encode()
        for item in items
    )


def _hand_over(world: World, body: bytes, *, key_tenant: str = "330000", task: str = "tax.deeds"):
    with session_scope() as session:
        return queue.hand_over(
            session=session,
            caller=world.actor("sys_admin"),
            key_id="k0000000001",
            key_tenant=key_tenant,
            task_code=task,
            body=body,
        )


def _record(n: int) -> dict:
    return {
        "record_id": f"330106-{n:04d}",
        "data": {"证书号": f"浙(2026)西湖区不动产权第{n:07d}号"},
    }


def test_good_lines_are_queued_and_each_bad_one_is_refused_with_its_number(
    world: World, tax: int
) -> None:
    _create(world, tax)
    body = _ndjson(
        _record(1),
        b"{not json",
        [1, 2],
        {"data": {}},
        {"record_id": "", "data": {}},
        {"record_id": "x" * 129, "data": {}},
        {"record_id": "330106-0002"},
        {"record_id": "330106-0002", "data": "文本"},
        {"record_id": "330106-0002", "data": {}, "extra": 1},
        b"\xff\xfe",
        _record(3),
        _record(1),  # twice in one batch
        {"record_id": "big", "data": {"x": "字" * 30000}},
    )
    report = _hand_over(world, body)
    assert (report.accepted, report.duplicates) == (2, 1)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (2, "不是有效的 JSON"),
        (3, "应为 JSON 对象"),
        (4, "缺少 record_id"),
        (5, "record_id 应为 1 到 128 个字符的字符串"),
        (6, "record_id 应为 1 到 128 个字符的字符串"),
        (7, "缺少 data"),
        (8, "data 应为 JSON 对象（推送给部门的一条记录）"),
        (9, "不认识的字段 extra（只允许 record_id 和 data）"),
        (10, "不是 UTF-8 文本"),
        (13, "记录超过 64 KB"),
    ]
    again = _hand_over(world, _ndjson(_record(1), _record(4)))
    assert (again.accepted, again.duplicates, again.rejected) == (1, 1, [])
    with session_scope() as session:
        logged = session.exec(
            select(OperationLog.detail).where(OperationLog.action == "hand_over")
        ).all()
    assert [json.loads(d) for d in logged] == [
        {
            "task_tenant": "全省",
            "key": "k0000000001",
            "accepted": 2,
            "duplicates": 1,
            "rejected": 10,
        },
        {
            "task_tenant": "全省",
            "key": "k0000000001",
            "accepted": 1,
            "duplicates": 1,
            "rejected": 0,
        },
    ]


def test_handed_over_records_are_sealed_at_rest_and_pushed_as_sent(
    world: World, tax: int, receiver: Receiver
) -> None:
    task_id = _create(world, tax)
    _hand_over(world, _ndjson(_record(1), _record(2)))
    with session_scope() as session:
        stored = session.execute(sa.text("SELECT payload FROM sharing_outbox")).scalars().all()
    assert stored and all(p.startswith("sm4gcm1:") and "不动产权" not in p for p in stored)
    run_id = _start(world, task_id)
    tasks.execute_run(run_id=run_id)
    assert [r["证书号"] for r in receiver.bodies[0]["records"]] == [
        "浙(2026)西湖区不动产权第0000001号",
        "浙(2026)西湖区不动产权第0000002号",
    ]


def test_a_key_hands_over_only_to_its_own_tenants_tasks(world: World, tax: int) -> None:
    _grant_tasks_to_county_admins()
    _create(world, tax, code="xihu.tax", tenant_code=XIHU)
    with pytest.raises(Forbidden) as refused:
        _hand_over(world, _ndjson(_record(1)), key_tenant=BINJIANG, task="xihu.tax")
    assert "不能向其他租户的共享任务移交记录" in refused.value.message
    assert _hand_over(world, _ndjson(_record(1)), key_tenant=XIHU, task="xihu.tax").accepted == 1
    with pytest.raises(NotFound):
        _hand_over(world, _ndjson(_record(1)), task="no.such.task")


def test_a_failed_push_names_its_reason_on_each_record_and_requeue_sends_again(
    world: World, tax: int, receiver: Receiver
) -> None:
    task_id = _create(world, tax, batch_size=2)
    _hand_over(world, _ndjson(*[_record(n) for n in range(1, 6)]))
    receiver.fail_from = 2
    tasks.execute_run(run_id=_start(world, task_id))
    admin = world.actor("sys_admin")
    with session_scope() as session:
        counts = queue.status_counts(session=session, actor=admin, task_id=task_id)
        failed = queue.list_queue(session=session, actor=admin, task_id=task_id, status="failed")
        delivered = queue.list_queue(
            session=session, actor=admin, task_id=task_id, status="delivered"
        )
    assert counts == {"waiting": 1, "delivered": 2, "failed": 2}
    assert [(r.record_id, r.status_label, r.attempts) for r in failed.items] == [
        ("330106-0004", "推送失败", 1),
        ("330106-0003", "推送失败", 1),
    ]
    assert {r.last_error for r in failed.items} == {"接口返回状态码 500"}
    assert {r.source for r in failed.items} == {"接入密钥 k0000000001"}

    receiver.fail_from = None
    with session_scope() as session:
        assert (
            queue.requeue(
                session=session,
                actor=admin,
                task_id=task_id,
                record_ids=[delivered.items[0].id, failed.items[0].id],
            )
            == 2
        )
    with session_scope() as session:
        counts = queue.status_counts(session=session, actor=admin, task_id=task_id)
    assert counts == {"waiting": 3, "delivered": 1, "failed": 1}
    receiver.bodies.clear()
    tasks.execute_run(run_id=_start(world, task_id))
    pushed = sorted(
        k for body in receiver.bodies for k in (r["证书号"][-9:] for r in body["records"])
    )
    assert pushed == ["第0000002号", "第0000003号", "第0000004号", "第0000005号"]
    with session_scope() as session:
        logged = session.exec(
            select(OperationLog.action).where(OperationLog.target == "tax.deeds")
        ).all()
    assert "requeue" in logged


def test_a_reader_sees_the_queue_but_cannot_requeue(world: World, tax: int) -> None:
    task_id = _create(world, tax)
    _hand_over(world, _ndjson(_record(1)))
    reader = world.actor("province_supervisor")
    with session_scope() as session:
        page = queue.list_queue(session=session, actor=reader, task_id=task_id, search="0001")
    assert [r.status_label for r in page.items] == ["等待推送"]
    with pytest.raises(Forbidden), session_scope() as session:
        queue.requeue(session=session, actor=reader, task_id=task_id, record_ids=[1])
    with pytest.raises(ValidationFailed), session_scope() as session:
        queue.requeue(
            session=session, actor=world.actor("sys_admin"), task_id=task_id, record_ids=[]
        )


def test_lines_json_cannot_carry_or_that_would_crash_are_refused_by_line(
    world: World, tax: int
) -> None:
    _create(world, tax)
    body = _ndjson(
        b'{"record_id": "n1", "data": {"x": NaN}}',
        b'{"record_id": "n2", "data": {"x": Infinity}}',
        b"[" * 30000,
        _record(1),
    )
    report = _hand_over(world, body)
    assert report.accepted == 1
    assert [(r.line, r.reason) for r in report.rejected] == [
        (1, "不是有效的 JSON"),
        (2, "不是有效的 JSON"),
        (3, "JSON 嵌套层数过深"),
    ]


def test_a_county_sees_only_its_own_records_in_a_province_wide_queue(
    world: World, tax: int
) -> None:
    task_id = _create(world, tax)  # province-wide
    _hand_over(world, _ndjson(_record(1)), key_tenant=XIHU)
    _hand_over(world, _ndjson(_record(2)), key_tenant=BINJIANG)
    _grant_tasks_to_county_admins()
    county = world.actor("county_admin")  # of 西湖区
    with session_scope() as session:
        page = queue.list_queue(session=session, actor=county, task_id=task_id)
        counts = queue.status_counts(session=session, actor=county, task_id=task_id)
        province = queue.list_queue(
            session=session, actor=world.actor("sys_admin"), task_id=task_id
        )
    assert [r.record_id for r in page.items] == ["330106-0001"]
    assert counts["waiting"] == 1
    assert len(province.items) == 2


def test_handing_over_to_another_countys_task_is_a_logged_denial(world: World, tax: int) -> None:
    _grant_tasks_to_county_admins()
    _create(world, tax, code="xihu.tax", tenant_code=XIHU)
    with pytest.raises(Forbidden):
        _hand_over(world, _ndjson(_record(1)), key_tenant=BINJIANG, task="xihu.tax")
    with session_scope() as session:
        denied = session.exec(
            select(OperationLog).where(
                OperationLog.action == "hand_over", OperationLog.outcome == "denied"
            )
        ).all()
    assert [(d.target, d.tenant_code) for d in denied] == [("xihu.tax", BINJIANG)]


def test_values_no_receiver_or_database_can_take_are_refused_by_line(
    world: World, tax: int
) -> None:
    _create(world, tax)
    body = _ndjson(
        b'{"record_id": "a", "data": {"n": ' + b"1" * 5000 + b"}}",
        b'{"record_id": "b", "data": {"x": 1e400}}',
        b'{"record_id": "c", "record_id": "d", "data": {}}',
        b'{"record_id": "\\ud800", "data": {}}',
        b'{"record_id": "e\\u0000f", "data": {}}',
        b'{"record_id": "\\u200b", "data": {}}',
        b'{"record_id": "g", "data": {"x": "\\udc00"}}',
        _record(1),
    )
    report = _hand_over(world, body)
    assert report.accepted == 1
    assert [r.reason for r in report.rejected] == [
        "不是有效的 JSON",
        "不是有效的 JSON",
        "字段 record_id 重复出现",
        "record_id 含控制字符或不可见字符",
        "record_id 含控制字符或不可见字符",
        "record_id 含控制字符或不可见字符",
        "data 含无法编码的字符（孤立的代理项）",
    ]
