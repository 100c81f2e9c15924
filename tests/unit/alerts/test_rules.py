"""Each rule kind fires on the data it watches, names its subject, and resolves when it clears."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from console.alerts import engine
from console.alerts.models import NotifyChannel
from console.backup.models import BackupRun, BackupTarget
from console.core.clock import CHINA_TZ
from console.core.db import session_scope
from console.core.settings import get_settings
from console.iam.models import Organization
from console.interfaces.models import (
    Channel,
    ChannelCounter,
    InterfaceDef,
    SharingOutbox,
    SharingTask,
    TaskRun,
)
from console.logs import minutes, pending
from console.logs.contract import check_line
from console.logs.models import Verification
from console.logs.store import store_for
from tests.support.world import BINJIANG, XIHU, World
from tests.unit.alerts.conftest import add_rule, alerts_of, call, failure, push


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_failing_interface_fires_once_and_resolves_when_its_calls_recover(
    province: World,
) -> None:
    rule = add_rule("interface_health", interface="", minutes=10, min_success=90, p95_ms=0,
                    min_calls=10)  # fmt: skip
    push("interface_call", [call("GA_ID", tenant=XIHU, ok=n % 2 == 0) for n in range(20)])
    push("interface_call", [call("SW_TAX", tenant=XIHU, ok=True) for _ in range(20)])

    first = engine.evaluate(now=_now())
    again = engine.evaluate(now=_now())

    found = alerts_of(rule)
    assert [a.subject for a in found] == ["GA_ID"]  # the healthy interface is not named
    assert "成功率 50.0%" in found[0].summary and found[0].state == "firing"
    assert len(first.fired) == 1 and again.fired == []  # persisting: still one alert
    assert "interface_code=GA_ID" in found[0].link

    later = _now() + timedelta(minutes=11)  # the failing minute has left the window
    push("interface_call", [call("GA_ID", tenant=XIHU, ok=True, ts=_now()) for _ in range(20)])
    cleared = engine.evaluate(now=later)
    assert cleared.resolved == 1
    assert alerts_of(rule)[0].state == "resolved"


def test_slow_calls_fire_on_p95_even_when_every_call_succeeds(province: World) -> None:
    rule = add_rule("interface_health", interface="GA_ID", minutes=10, min_success=0,
                    p95_ms=1000, min_calls=10)  # fmt: skip
    push("interface_call", [call("GA_ID", tenant=XIHU, ok=True, ms=4000) for _ in range(20)])
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    assert "P95 时延约 5000 毫秒" in alert.summary


def test_too_few_calls_judge_nothing(province: World) -> None:
    rule = add_rule("interface_health", interface="", minutes=10, min_success=90, p95_ms=0,
                    min_calls=50)  # fmt: skip
    push("interface_call", [call("GA_ID", tenant=XIHU, ok=False) for _ in range(10)])
    engine.evaluate(now=_now())
    assert alerts_of(rule) == []


def test_a_re_sent_batch_does_not_count_twice(province: World) -> None:
    """Duplicates are not new calls: a re-sent failing batch cannot double a failure rate."""
    lines = [
        json.dumps({"event_id": f"dup{n}", **call("GA_ID", tenant=XIHU, ok=False)}, default=str)
        for n in range(6)
    ]
    store = store_for(get_settings().lake_dir)
    first = [check_line("interface_call", line.encode(), now=_now()) for line in lines[:4]]
    both = [check_line("interface_call", line.encode(), now=_now()) for line in lines]
    assert store.append(stream="interface_call", sender="s", events=first).accepted == 4
    again = store.append(stream="interface_call", sender="s", events=both)
    assert again.accepted == 2  # and only those two are forwarded to syslog
    assert [event.event_id for event in again.stored] == ["dup4", "dup5"]
    (counted,) = minutes.window(get_settings().lake_dir, stream="interface_call",
                                since=_now() - timedelta(minutes=5),
                                until=_now() + timedelta(minutes=1))  # fmt: skip
    assert (counted.calls, counted.failures) == (6, 6)


def test_a_county_rule_sees_only_its_county(province: World) -> None:
    rule = add_rule("interface_health", tenant=BINJIANG, interface="", minutes=10,
                    min_success=90, p95_ms=0, min_calls=5)  # fmt: skip
    push("interface_call", [call("GA_ID", tenant=XIHU, ok=False) for _ in range(20)])
    engine.evaluate(now=_now())
    assert alerts_of(rule) == []
    push("interface_call", [call("GA_ID", tenant=BINJIANG, ok=False) for _ in range(20)])
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    assert alert.tenant_code == BINJIANG


def test_an_exception_burst_from_one_source_fires(province: World) -> None:
    rule = add_rule("exception_burst", count=5, minutes=5)
    push("exception", [failure("登记系统-受理", tenant=XIHU) for _ in range(6)])
    push("exception", [failure("登记系统-缮证", tenant=XIHU, level="WARNING") for _ in range(9)])
    push("exception", [failure("登记系统-审核", tenant=XIHU) for _ in range(5)])  # not more than 5
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    assert alert.subject == f"{XIHU}/登记系统-受理" and alert.tenant_code == XIHU
    assert "6 条" in alert.summary
    engine.evaluate(now=_now() + timedelta(minutes=6))  # the burst has left the window
    assert alerts_of(rule)[0].state == "resolved"


def test_a_county_that_stopped_pushing_in_office_hours_fires(province: World) -> None:
    rule = add_rule("tenant_silent", stream="any", hours=4, age=timedelta(days=10))
    push("case_event", [{
        "ts": _now(), "tenant": BINJIANG, "case_no": "BJ1", "business_code": "1000101",
        "registration_type": "100", "channel": "window", "step": "apply",
    }])  # fmt: skip
    with session_scope() as session:  # the counties existed long before
        from console.tenancy.models import Tenant

        for tenant in session.exec(select(Tenant)).all():
            tenant.created_at = _now() - timedelta(days=30)
            session.add(tenant)
    engine.evaluate(now=_now())
    silent = {a.subject for a in alerts_of(rule)}
    assert XIHU in silent and BINJIANG not in silent
    push("interface_call", [call("GA_ID", tenant=XIHU, ok=True)])
    engine.evaluate(now=_now())
    assert {a.subject for a in alerts_of(rule) if a.state == "firing"} == set()


def test_probe_failures_in_a_row_fire(province: World) -> None:
    rule = add_rule("probe_failures", interface="", times=3)
    with session_scope() as session:
        session.add(InterfaceDef(code="GA_FACE", name="人脸比对", direction="outbound",
                                 consecutive_failures=3, health="down"))  # fmt: skip
        session.add(InterfaceDef(code="GA_OK", name="户籍核验", direction="outbound",
                                 consecutive_failures=2))  # fmt: skip
    engine.evaluate(now=_now())
    assert [a.subject for a in alerts_of(rule)] == ["GA_FACE"]
    with session_scope() as session:
        face = session.exec(select(InterfaceDef).where(InterfaceDef.code == "GA_FACE")).one()
        face.consecutive_failures = 0
        session.add(face)
    engine.evaluate(now=_now())
    assert alerts_of(rule)[0].state == "resolved"


def test_a_channel_refused_too_often_today_fires(province: World) -> None:
    rule = add_rule("channel_refusals", max_refusal=20, min_calls=10, minutes=60)
    with session_scope() as session:
        org = Organization(name="工商银行西湖支行", kind="bank", tenant_code=XIHU)
        session.add(org)
        session.flush()
        channel = Channel(tenant_code=XIHU, org_id=org.id, name="工行直连", kind="bank")
        session.add(channel)
        session.flush()
        today = datetime.now(CHINA_TZ).date()
        session.add(ChannelCounter(channel_id=channel.id, day=today, calls=40, refusals=12))
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    assert "今日被拒率 30.0%（12/40）" in alert.summary
    with session_scope() as session:
        counter = session.exec(select(ChannelCounter)).one()
        counter.calls = 400  # the day went on without refusals: 3 %
        session.add(counter)
    engine.evaluate(now=_now())
    assert alerts_of(rule)[0].state == "resolved"


def _task(session, code: str) -> SharingTask:
    interface = InterfaceDef(code=f"IF_{code}", name="不动产登记结果推送", direction="outbound")
    session.add(interface)
    session.flush()
    task = SharingTask(code=code, name=f"推送{code}", interface_id=interface.id)
    session.add(task)
    session.flush()
    return task


def test_a_failed_sharing_task_fires_until_a_later_run_succeeds(province: World) -> None:
    rule = add_rule("task_failed")
    with session_scope() as session:
        task = _task(session, "TAX")
        session.add(TaskRun(task_id=task.id, status="failed", error="对方服务异常"))
        task_id = task.id
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    assert "对方服务异常" in alert.summary
    with session_scope() as session:
        session.add(TaskRun(task_id=task_id, status="succeeded"))
    engine.evaluate(now=_now())
    assert alerts_of(rule)[0].state == "resolved"


def test_a_sharing_queue_waiting_too_long_fires(province: World) -> None:
    rule = add_rule("task_queue_age", hours=4)
    with session_scope() as session:
        task = _task(session, "TRADE")
        session.add(SharingOutbox(task_id=task.id, record_key="r1", payload="{}",
                                  queued_at=_now() - timedelta(hours=5)))  # fmt: skip
        fresh = _task(session, "FRESH")
        session.add(SharingOutbox(task_id=fresh.id, record_key="r1", payload="{}"))
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    assert alert.subject == "TRADE" and "1 条记录待推送" in alert.summary
    with session_scope() as session:
        for row in session.exec(select(SharingOutbox)).all():
            row.delivered_at = _now()
            session.add(row)
    engine.evaluate(now=_now())
    assert alerts_of(rule)[0].state == "resolved"


def test_a_verification_that_found_a_break_fires_a_critical_alert(province: World) -> None:
    rule = add_rule("chain_break", severity="critical")
    with session_scope() as session:
        session.add(Verification(checked_by="系统", parts=10, breaks=0, summary=""))
    engine.evaluate(now=_now())
    assert alerts_of(rule) == []
    with session_scope() as session:
        said = "[操作日志] 2026-11-30 part-1：内容与校验链不符"
        session.add(Verification(checked_by="系统", parts=10, breaks=1, summary=said))
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    assert "1 处异常" in alert.summary and alert.severity == "critical"
    with session_scope() as session:  # the files were put back; the next check passes
        session.add(Verification(checked_by="审计", parts=10, breaks=0, summary=""))
    engine.evaluate(now=_now())
    assert alerts_of(rule)[0].state == "resolved"


def test_a_failed_backup_and_an_old_last_backup_fire(province: World) -> None:
    rule = add_rule("backup_failed", max_age_hours=26)
    engine.evaluate(now=_now())
    assert alerts_of(rule) == []  # nothing configured to back up to: no alert per tick
    with session_scope() as session:
        session.add(BackupTarget(name="二号盘", kind="directory", location="/mnt/b"))
        session.add(BackupRun(kind="backup", outcome="succeeded", set_id="s1",
                              started_at=_now() - timedelta(hours=30)))  # fmt: skip
        session.add(BackupRun(kind="verify", outcome="failed", set_id="s1",
                              message="恢复后表行数不符"))  # fmt: skip
    engine.evaluate(now=_now())
    subjects = {a.subject: a.summary for a in alerts_of(rule)}
    assert set(subjects) == {"verify", "age"}
    assert "恢复后表行数不符" in subjects["verify"]
    with session_scope() as session:
        session.add(BackupRun(kind="backup", outcome="succeeded", set_id="s2"))
        session.add(BackupRun(kind="verify", outcome="succeeded", set_id="s2"))
    engine.evaluate(now=_now())
    assert {a.state for a in alerts_of(rule)} == {"resolved"}


def test_a_day_left_unsealed_fires_sealing_lag(province: World) -> None:
    rule = add_rule("sealing_lag", hours=6)
    two_days_ago = _now() - timedelta(days=2)
    day = two_days_ago.astimezone(CHINA_TZ).date().isoformat()
    push("exception", [failure("今天的", tenant=XIHU)])  # today's: not late
    lake = get_settings().lake_dir
    store_for(lake)  # the pending store, then an event that arrived on its own day
    db = pending.open_writer(pending.ingest_path(lake))
    try:
        line = json.dumps({**failure("x", tenant=XIHU), "event_id": "old"}, default=str)
        ts_us, received = int(two_days_ago.timestamp() * 1e6), int(two_days_ago.timestamp() * 1e6)
        pending.insert(db, [("exception", "t", "old", ts_us, day, XIHU, received, line)])
    finally:
        db.close()
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    assert alert.summary.startswith(day)
    store_for(lake).seal(lake=lake)  # the real sealing of the closed day
    engine.evaluate(now=_now())
    assert alerts_of(rule)[0].state == "resolved"


def test_a_notification_channel_failing_in_a_row_fires(province: World) -> None:
    rule = add_rule("channel_failing", times=3)
    with session_scope() as session:
        session.add(NotifyChannel(name="值班群", kind="dingtalk", fail_streak=3,
                                  last_error="签名校验失败"))  # fmt: skip
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)
    assert "签名校验失败" in alert.summary
    with session_scope() as session:  # the secret was corrected and 测试发送 went through
        channel = session.exec(select(NotifyChannel)).one()
        channel.fail_streak = 0
        session.add(channel)
    engine.evaluate(now=_now())
    assert alerts_of(rule)[0].state == "resolved"


def _case(no: str, step: str, ts: datetime, tenant: str = XIHU) -> dict:
    return {"ts": ts, "tenant": tenant, "case_no": no, "business_code": "1000101",
            "registration_type": "100", "channel": "window", "step": step}  # fmt: skip


def test_open_cases_past_their_limit_fire_per_county(province: World) -> None:
    rule = add_rule("overdue_cases", max_open=1)
    long_ago = _now() - timedelta(days=80)  # past 30 working days whatever the holidays
    push("case_event", [_case(f"XH{n}", step, long_ago) for n in range(2)
                        for step in ("apply", "accept")])  # fmt: skip
    push("case_event", [_case("BJ1", step, long_ago, BINJIANG) for step in ("apply", "accept")])
    engine.evaluate(now=_now())
    (alert,) = alerts_of(rule)  # 滨江区 has one, not more than 1
    assert alert.subject == XIHU and "2 件" in alert.summary
    push("case_event", [_case("XH0", "close", _now())])
    engine.evaluate(now=_now())
    assert alerts_of(rule)[0].state == "resolved"


@pytest.mark.parametrize("late", [True, False])
def test_a_low_on_time_rate_this_month_fires(province: World, late: bool) -> None:
    rule = add_rule("ontime_rate", min_rate=95, min_closed=1)
    today = datetime.now(CHINA_TZ)
    accepted = (today - timedelta(days=70 if late else 0)).astimezone(UTC)
    closed = today.astimezone(UTC)
    push("case_event", [_case("M1", step, accepted) for step in ("apply", "accept")])
    push("case_event", [_case("M1", "close", closed)])
    engine.evaluate(now=_now())
    assert bool(alerts_of(rule)) is late
    if late:  # 19 more closed on time: 95 %, no longer under the limit
        push("case_event", [_case(f"N{n}", step, closed) for n in range(19)
                            for step in ("apply", "accept", "close")])  # fmt: skip
        engine.evaluate(now=_now())
        assert alerts_of(rule)[0].state == "resolved"
