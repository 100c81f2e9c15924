"""Hostile lines in a pushed batch: each one is refused by line, no good line is ever lost."""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.core.db import session_scope
from console.core.settings import get_settings
from console.logs.ingest import IngestReport, Sender, ingest_batch
from console.logs.store import store_for
from tests.support.world import World

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
PROVINCE = Sender(identity="330000:hostile", tenant_code="330000")
_serial = iter(range(10**9))


def _good(stream: str = "interface_call") -> bytes:
    record = {
        "event_id": f"good-{next(_serial)}", "ts": "2026-11-27T11:00:00+08:00",
        "tenant": "330000", "interface_code": "gab.sfhc", "department": "公安部",
        "trace_id": "t-1", "caller": "reg", "duration_ms": 180, "result_code": "000",
        "success": True,
    }  # fmt: skip
    assert stream == "interface_call"
    return json.dumps(record, ensure_ascii=False).encode()


def _ingest(body: bytes, stream: str = "interface_call") -> IngestReport:
    with session_scope() as session:
        return ingest_batch(session=session, stream=stream, body=body, sender=PROVINCE, now=NOW)


def _stored() -> int:
    return store_for(get_settings().lake_dir).count("interface_call")


def _with(changes: dict) -> bytes:
    record = json.loads(_good())
    record.update(changes)
    return json.dumps(record, ensure_ascii=False).encode()


POISON = {
    "nested two thousand levels deep": b'{"a":' * 2000 + b"1" + b"}" * 2000,
    "an array nested deep": b"[" * 5000 + b"]" * 5000,
    "a timestamp in year 1": _with({"ts": "0001-01-01T00:00:00+08:00"}),
    "a timestamp in year 9999 with a negative offset": _with({"ts": "9999-12-31T23:59:59-08:00"}),
    "bytes that are not UTF-8": _good().replace(b"reg", b"r\xff\xfeg"),
    "a lone surrogate escape": _good().replace(b'"reg"', b'"\\ud800"'),
    "a number beyond 64 bits": _with({"duration_ms": 10**30}),
    "a float where an integer goes": _with({"duration_ms": 1e308}),
    "a JSON string, not an object": b'"just a string"',
    "a duplicated key with another type": _good()[:-1] + b', "success": "yes"}',
}


@pytest.mark.parametrize("poison", list(POISON.values()), ids=list(POISON))
def test_a_poison_line_is_refused_by_line_and_its_neighbours_are_kept(
    world: World, poison: bytes
) -> None:
    before = _stored()
    report = _ingest(b"\n".join([_good(), poison, _good()]))
    assert report.accepted == 2
    assert [r["line"] for r in report.rejected] == [2]
    assert "无法处理" not in str(report.rejected[0]["reason"])  # a reason that names the fault
    assert report.kept[0].number == 2 and report.kept[0].content == poison
    assert _stored() == before + 2


def test_a_line_over_the_size_limit_is_refused_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_INGEST_MAX_LINE_KB", "4")
    get_settings.cache_clear()
    big = _with({"error": "x" * 5000})
    report = _ingest(b"\n".join([_good(), big, _good()]))
    assert report.accepted == 2
    assert report.rejected[0]["line"] == 2 and "单行" in str(report.rejected[0]["reason"])


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_junk_line = st.one_of(
    st.binary(max_size=200).map(lambda b: b.replace(b"\n", b" ")),
    _json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(["event_id", "ts", "tenant", "duration_ms", "success", "caller"]),
        _json_values,
    ).map(lambda d: _with(d)),
    # Arbitrary text as JSON escapes: lone surrogates and control characters included.
    st.text(max_size=30).map(lambda t: _good().replace(b'"reg"', json.dumps(t).encode())),
    st.text(string.printable, max_size=60).map(str.encode),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(junk=st.lists(_junk_line, min_size=1, max_size=6), good_count=st.integers(1, 4))
def test_arbitrary_junk_mixed_into_a_batch_never_costs_a_valid_line(
    world: World, junk: list[bytes], good_count: int
) -> None:
    good = [_good() for _ in range(good_count)]
    lines = [*junk[: len(junk) // 2], *good, *junk[len(junk) // 2 :]]
    before = _stored()
    body = b"\n".join(lines)
    report = _ingest(body)  # never raises
    # Every valid line is stored (a junk line may happen to be valid too, never fewer).
    assert report.accepted >= good_count
    assert _stored() == before + report.accepted
    assert report.accepted + report.rejected_total + report.duplicates <= len(body.split(b"\n"))
