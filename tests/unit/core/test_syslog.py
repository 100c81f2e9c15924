"""Operation and exception records forwarded to a real rsyslogd as RFC 5424 (TCP and TLS)."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.core.settings import get_settings
from console.core.syslog import (
    BOM,
    Forwarder,
    SyslogRecord,
    SyslogStats,
    close_forwarder,
    format_message,
    forward,
    forwarder_stats,
    frame,
)
from tests.support.syslogd import (
    Syslogd,
    free_port,
    make_tls_files,
    rsyslog_available,
    tls_available,
)
from tests.support.world import BINJIANG, PROVINCE, XIHU, World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
# <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA BOM MSG (RFC 5424 section 6)
RFC5424 = re.compile(
    r"<(?P<pri>\d{1,3})>(?P<version>1) (?P<timestamp>\S+) (?P<hostname>[!-~]{1,255}) "
    r"(?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+) \ufeff(?P<msg>.*)",
    re.DOTALL,
)
SD_ELEMENT = re.compile(r"\[(?P<id>[^ \]]+)(?P<params>(?: [^=\s]+=\"(?:[^\"\\]|\\.)*\")*)\]")
SD_PARAM = re.compile(r'([^=\s]+)="((?:[^"\\]|\\.)*)"')
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+08:00")


@dataclass(frozen=True)
class Event:
    """A stored record as the forwarder is handed one."""

    event_id: str
    ts: datetime
    tenant: str
    line: str


@dataclass(frozen=True)
class Parsed:
    """A received message split by the test's own RFC 5424 reading."""

    pri: int
    timestamp: str
    hostname: str
    app: str
    procid: str
    msgid: str
    sd_id: str
    params: dict[str, str]
    record: dict


def parse(message: str) -> Parsed:
    """Split one message as RFC 5424 says, un-escaping the structured data's values."""
    found = RFC5424.fullmatch(message)
    assert found, f"not RFC 5424: {message[:200]!r}"
    element = SD_ELEMENT.fullmatch(found["sd"])
    assert element, f"not one SD-ELEMENT: {found['sd']!r}"
    params = {
        name: re.sub(r'\\(["\\\]])', r"\1", value)
        for name, value in SD_PARAM.findall(element["params"])
    }
    return Parsed(
        pri=int(found["pri"]),
        timestamp=found["timestamp"],
        hostname=found["hostname"],
        app=found["app"],
        procid=found["procid"],
        msgid=found["msgid"],
        sd_id=element["id"],
        params=params,
        record=json.loads(found["msg"]),
    )


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``check`` until it holds or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def make_syslogd(tmp_path: Path) -> Iterator[Callable[..., Syslogd]]:
    """Builds rsyslogds in the test's folder; every one started is stopped at teardown."""
    if not rsyslog_available():
        pytest.fail("rsyslogd not found: `make install-test-system` installs Debian's rsyslog")
    made: list[Syslogd] = []

    def make(name: str = "rsyslog", **options: object) -> Syslogd:
        daemon = Syslogd(tmp_path / name, **options)  # type: ignore[arg-type]
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        daemon.stop()


@pytest.fixture
def closing() -> Iterator[list[Forwarder]]:
    """Forwarders a test makes, closed at teardown (the process forwarder too)."""
    made: list[Forwarder] = []
    yield made
    for forwarder in made:
        forwarder.close(deadline=0)
    close_forwarder(deadline=0)


def _event(event_id: str, **fields: object) -> Event:
    ts = "2026-11-27T09:30:00.250000+08:00"
    record = {"event_id": event_id, "ts": ts, "tenant": XIHU, **fields}
    line = json.dumps(record, ensure_ascii=False)
    return Event(event_id, datetime.fromisoformat(ts).astimezone(UTC), XIHU, line)


def _operation(event_id: str, outcome: str = "success") -> dict:
    return {
        "event_id": event_id, "ts": "2026-11-27T09:30:00+08:00", "tenant": XIHU,
        "actor": "王小明", "action": "登簿", "object": "不动产登记簿", "outcome": outcome,
        "detail": "宗地 330106001001GB00001 的所有权登记",
    }  # fmt: skip


def test_a_message_is_rfc5424_with_its_severity_and_escaped_structured_data() -> None:
    cases = {
        ("operation", '{"outcome":"success"}'): 13 * 8 + 5,
        ("operation", '{"outcome":"failure"}'): 13 * 8 + 4,
        ("operation", '{"outcome":"denied"}'): 13 * 8 + 4,
        ("exception", '{"level":"CRITICAL"}'): 1 * 8 + 2,
        ("exception", '{"level":"ERROR"}'): 1 * 8 + 3,
        ("exception", '{"level":"WARNING"}'): 1 * 8 + 4,
        ("exception", '{"level":"INFO"}'): 1 * 8 + 6,
        ("exception", '{"level":"DEBUG"}'): 1 * 8 + 7,
    }
    moment = datetime(2026, 11, 27, 1, 2, 3, 456789, tzinfo=UTC)
    for (stream, line), pri in cases.items():
        record = SyslogRecord(stream, XIHU, 'a"b\\c]d 编号', moment, line)
        message = format_message(record, hostname="bdc-01", procid="4242")
        assert message.startswith(f"<{pri}>1 2026-11-27T09:02:03.456789+08:00 ".encode())
        parsed = parse(message.decode("utf-8"))
        assert (parsed.hostname, parsed.app, parsed.procid, parsed.msgid) == (
            "bdc-01", "bdc-console", "4242", stream,
        )  # fmt: skip
        assert parsed.sd_id == "bdc@32473"
        assert parsed.params == {"stream": stream, "tenant": XIHU, "event_id": 'a"b\\c]d 编号'}
        assert b' event_id="a\\"b\\\\c\\]d \xe7\xbc\x96\xe5\x8f\xb7"]' in message
        assert message.endswith(b" " + BOM + line.encode())
        framed = frame(message)
        length, _, rest = framed.partition(b" ")
        assert int(length) == len(rest) == len(message)  # octets, not characters


def test_forwarding_is_off_without_a_target(closing: list[Forwarder]) -> None:
    forward("operation", [_event("off-1", outcome="success")])
    assert forwarder_stats() is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_ingested_and_own_records_reach_rsyslog_parsed_as_rfc5424(
    world: World,
    make_syslogd: Callable[..., Syslogd],
    closing: list[Forwarder],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loguru import logger

    from console.audit.service import record
    from console.core.db import session_scope
    from console.logs.ingest import Sender, ingest_batch
    from console.logs.own import exception_sink

    daemon = make_syslogd()
    daemon.start()
    monkeypatch.setenv("BDC_SYSLOG_TARGET", daemon.tcp_target)
    get_settings.cache_clear()
    sender = Sender(identity="330000:test", tenant_code=PROVINCE)
    stack = "Traceback (most recent call last):\n" + "  登记簿写入失败，重试中\n" * 400
    operations = [_operation("op-1"), _operation('op-"2"\\]', outcome="denied")]
    exception = {
        "event_id": "ex-1", "ts": "2026-11-27T10:00:00+08:00", "tenant": BINJIANG,
        "source": "registry", "level": "CRITICAL", "message": "数据库连接中断", "stack": stack,
    }  # fmt: skip
    call = {
        "event_id": "call-1", "ts": "2026-11-27T10:00:00+08:00", "tenant": XIHU,
        "interface_code": "gab.sfhc", "department": "公安部", "trace_id": "t-1", "caller": "reg",
        "duration_ms": 180, "result_code": "000", "success": True,
    }  # fmt: skip

    def push(stream: str, *records: dict) -> int:
        body = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
        with session_scope() as session:
            report = ingest_batch(session=session, stream=stream, body=body, sender=sender, now=NOW)
        assert report.rejected == [], report.rejected
        return report.accepted

    assert push("operation", *operations) == 2
    assert push("exception", exception) == 1
    assert push("interface_call", call) == 1  # stored, not forwarded
    assert push("operation", *operations) == 0  # re-sent: duplicates, not forwarded again
    with session_scope() as session:
        record(session, actor=world.actor("county_admin"), obj="iam.users", action="write")
    sink = logger.add(exception_sink, level="ERROR", format="{message}")
    try:
        logger.error("共享推送失败：目标接口无应答")
    finally:
        logger.remove(sink)

    lines = daemon.wait_for(5)
    assert len(lines) == 5, lines
    parsed = [parse(line) for line in lines]
    assert [(p.msgid, p.pri, p.params["event_id"]) for p in parsed[:3]] == [
        ("operation", 109, "op-1"),
        ("operation", 108, 'op-"2"\\]'),
        ("exception", 10, "ex-1"),
    ]
    assert [p.record for p in parsed[:3]] == [*operations, exception]  # the JSON intact
    assert parsed[2].params == {"stream": "exception", "tenant": BINJIANG, "event_id": "ex-1"}
    assert parsed[0].timestamp == "2026-11-27T09:30:00.000000+08:00"
    own_operation, own_exception = parsed[3], parsed[4]
    assert (own_operation.msgid, own_operation.pri) == ("operation", 109)
    assert own_operation.record["actor"] == "u_county_admin"
    assert own_operation.params["tenant"] == own_operation.record["tenant"] == XIHU
    assert (own_exception.msgid, own_exception.pri) == ("exception", 11)
    assert own_exception.record["message"] == "共享推送失败：目标接口无应答"
    assert own_exception.params["tenant"] == PROVINCE
    assert all(RFC3339.fullmatch(p.timestamp) and p.app == "bdc-console" for p in parsed)

    # rsyslog's own RFC 5424 parser agrees, field by field.
    # The first five: an ERROR logged meanwhile by another test's leftover thread in this
    # worker is forwarded too (as it should be) and may arrive after them.
    fields = daemon.fields()[:5]
    assert len(fields) == 5
    for seen, ours, line in zip(fields, parsed, lines, strict=True):
        assert seen["version"] == "1"
        assert int(seen["pri"]) == ours.pri
        assert (seen["app"], seen["msgid"], seen["procid"]) == (ours.app, ours.msgid, ours.procid)
        assert seen["timestamp"] == ours.timestamp
        assert seen["sd"] == RFC5424.fullmatch(line)["sd"]  # type: ignore[index]
        assert json.loads(seen["msg"].removeprefix("\ufeff")) == ours.record
    assert wait_until(lambda: forwarder_stats() == SyslogStats(0, 5, 0, True, ""))


def test_a_collector_outage_queues_records_drops_the_oldest_and_resends_the_rest(
    make_syslogd: Callable[..., Syslogd], closing: list[Forwarder]
) -> None:
    daemon = make_syslogd()
    forwarder = Forwarder(daemon.tcp_target, queue_max=5, backoff_max=0.2)
    closing.append(forwarder)
    for number in range(1, 9):
        forwarder.submit("operation", _event(f"e{number}", outcome="success", 说明="第一批"))
    assert wait_until(lambda: "无法连接" in forwarder.stats().last_error)
    stats = forwarder.stats()
    assert (stats.queued, stats.dropped, stats.sent, stats.connected) == (5, 3, 0, False)

    daemon.start()
    lines = daemon.wait_for(5)
    assert [parse(line).params["event_id"] for line in lines] == ["e4", "e5", "e6", "e7", "e8"]
    assert wait_until(lambda: forwarder.stats().sent == 5)
    assert forwarder.stats() == SyslogStats(0, 5, 3, True, stats.last_error)

    daemon.stop()
    assert wait_until(lambda: not forwarder.stats().connected)
    # Noticed when the collector closed the connection, then retried with back-off.
    assert re.search("关闭了连接|无法连接", forwarder.stats().last_error)
    forwarder.submit("exception", _event("e9", level="ERROR", message="第二批"))
    forwarder.submit("exception", _event("e10", level="WARNING", message="第二批"))
    assert forwarder.stats().queued == 2
    daemon.start()
    lines = daemon.wait_for(7)
    assert [parse(line).params["event_id"] for line in lines[5:]] == ["e9", "e10"]
    assert [parse(line).pri for line in lines[5:]] == [11, 12]
    assert wait_until(lambda: forwarder.stats().sent == 7)
    assert forwarder.stats().dropped == 3


def test_a_write_that_fails_is_sent_again_on_a_new_connection(
    make_syslogd: Callable[..., Syslogd],
    closing: list[Forwarder],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    daemon = make_syslogd()
    daemon.start()
    forwarder = Forwarder(daemon.tcp_target)
    closing.append(forwarder)
    forwarder.submit("operation", _event("w1", outcome="success"))
    assert len(daemon.wait_for(1)) == 1
    failed: list[int] = []
    original = socket.socket.sendall

    def fail_once(self: socket.socket, data: bytes, *args: int) -> None:
        if not failed:
            failed.append(len(data))
            raise BrokenPipeError(32, "Broken pipe")
        original(self, data, *args)

    monkeypatch.setattr(socket.socket, "sendall", fail_once)
    forwarder.submit("operation", _event("w2", outcome="failure"))
    forwarder.submit("operation", _event("w3", outcome="denied"))
    lines = daemon.wait_for(3)
    assert failed, "the write never failed"
    assert [parse(line).params["event_id"] for line in lines] == ["w1", "w2", "w3"]
    assert wait_until(lambda: forwarder.stats().sent == 3)
    stats = forwarder.stats()
    assert (stats.queued, stats.dropped, stats.connected) == (0, 0, True)
    assert "发送失败" in stats.last_error


def test_submit_only_appends_even_while_the_collector_is_unreachable(
    closing: list[Forwarder],
) -> None:
    forwarder = Forwarder(f"tcp://127.0.0.1:{free_port()}", queue_max=100)
    closing.append(forwarder)
    event = _event("fast", level="ERROR", message="x" * 1000)
    started = time.perf_counter()
    for _ in range(20_000):
        forwarder.submit("exception", event)
    assert time.perf_counter() - started < 1.0  # about 1 µs a record; never a network wait
    stats = forwarder.stats()
    assert (stats.queued, stats.dropped + stats.queued) == (100, 20_000)


def test_tls_to_rsyslog_checks_the_collectors_certificate(
    tmp_path: Path, make_syslogd: Callable[..., Syslogd], closing: list[Forwarder]
) -> None:
    if not tls_available():
        pytest.fail("rsyslog's TLS driver not found: `make install-test-system` installs it")
    files = make_tls_files(tmp_path)
    daemon = make_syslogd("tls", tls=files)
    daemon.start()
    target = f"tls://localhost:{daemon.port}"
    forwarder = Forwarder(target, ca_file=str(files.ca))
    closing.append(forwarder)
    forwarder.submit("exception", _event("tls-1", level="ERROR", message="经 TLS 转发的异常"))
    lines = daemon.wait_for(1)
    assert len(lines) == 1, daemon.stderr.read_text()
    parsed = parse(lines[0])
    assert (parsed.pri, parsed.msgid, parsed.params["event_id"]) == (11, "exception", "tls-1")
    assert parsed.record["message"] == "经 TLS 转发的异常"
    assert daemon.fields()[0]["version"] == "1"
    assert wait_until(lambda: forwarder.stats().sent == 1)

    # Without the test CA (the system's CAs) the collector is not trusted: nothing is sent.
    untrusting = Forwarder(target)
    closing.append(untrusting)
    untrusting.submit("exception", _event("tls-2", level="ERROR", message="不应送达"))
    assert wait_until(lambda: "证书校验失败" in untrusting.stats().last_error)
    assert (untrusting.stats().queued, untrusting.stats().sent) == (1, 0)
    assert len(daemon.raw_lines()) == 1
