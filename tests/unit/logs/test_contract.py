"""The ingestion contract line by line: what passes, and the Chinese reason for what does not."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.logs.contract import FIELDS, STREAMS, Rejected, _check_slowly, check_line

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
GOOD = {
    "interface_call": {
        "interface_code": "gab.sfhc",
        "department": "公安部",
        "trace_id": "t-1",
        "caller": "xihu-reg",
        "duration_ms": 120,
        "result_code": "000",
        "success": True,
        "extra_field": {"kept": True},
    },
    "case_event": {
        "case_no": "330106-2026-000001",
        "business_code": "2000402",
        "registration_type": "200",
        "channel": "online",
        "step": "accept",
    },
    "operation": {"actor": "clerk01", "action": "受理", "object": "case", "outcome": "success"},
    "exception": {"source": "reg-system", "level": "ERROR", "message": "timeout"},
}


def _line(stream: str, **changes: object) -> bytes:
    record = {"event_id": "e-1", "ts": "2026-11-27T19:59:00+08:00", "tenant": "330106"}
    record |= GOOD[stream] | changes
    record = {k: v for k, v in record.items() if v is not ...}
    return json.dumps(record, ensure_ascii=False).encode()


@pytest.mark.parametrize("stream", sorted(GOOD))
def test_each_stream_accepts_a_good_line_and_keeps_unknown_fields(stream: str) -> None:
    event = check_line(stream, _line(stream), now=NOW)
    assert (event.event_id, event.tenant, event.day) == ("e-1", "330106", "2026-11-27")
    assert event.ts == datetime(2026, 11, 27, 11, 59, tzinfo=UTC)
    assert json.loads(event.line) == json.loads(_line(stream))


@pytest.mark.parametrize(
    ("stream", "line", "reason"),
    [
        ("operation", b"{not json", "不是有效的 JSON"),
        ("operation", b"[1, 2]", "每行应为一个 JSON 对象"),
        ("interface_call", _line("interface_call", duration_ms=...), "缺少字段 duration_ms"),
        ("interface_call", _line("interface_call", duration_ms="12"), "字段 duration_ms 应为整数"),
        ("interface_call", _line("interface_call", success="yes"), "字段 success 应为布尔值"),
        ("interface_call", _line("interface_call", duration_ms=-1), "不能为负数"),
        ("case_event", _line("case_event", channel="fax"), "字段 channel 应为 window"),
        ("case_event", _line("case_event", business_code="20004"), "7 位数字"),
        ("operation", _line("operation", tenant="3301"), "字段 tenant 应为 6 位"),
        ("operation", _line("operation", ts="2026-11-27T19:59:00"), "缺少时区偏移"),
        ("operation", _line("operation", ts="2026-11-28T19:59:00+08:00"), "晚于当前时间"),
        ("operation", _line("operation", ts="yesterday"), "不是有效的 ISO 8601"),
        ("operation", _line("operation", event_id=7), "字段 event_id 应为"),
        ("exception", _line("exception", level="LOUD"), "字段 level 应为"),
    ],
)
def test_a_bad_line_is_rejected_naming_the_field(stream: str, line: bytes, reason: str) -> None:
    with pytest.raises(Rejected) as bad:
        check_line(stream, line, now=NOW)
    assert reason in bad.value.reason


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        ["", "x", "330106", "33010", "３３０１０６", "2000402", "200", "accept", "bank",
         "success", "ERROR", "2026-11-27T09:00:00+08:00", "2026-11-27T09:00:00", "1234567\n"]
    ),
    st.text(max_size=8),
)  # fmt: skip
_NAMES = [
    *sorted({name for fields in FIELDS.values() for name, _, _ in fields}),
    "event_id", "ts", "tenant", "extra",
]  # fmt: skip


def _outcome(check, stream: str, line: bytes) -> object:
    try:
        return check(stream, line, now=NOW)
    except Rejected as refused:
        return refused.reason


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(STREAMS),
    st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=12),
    st.booleans(),
)
def test_the_fast_typed_check_agrees_with_the_field_by_field_check(
    stream: str, overrides: dict, start_valid: bool
) -> None:
    base = {"event_id": "e-1", "ts": "2026-11-27T19:59:00+08:00", "tenant": "330106"}
    record = base | GOOD[stream] if start_valid else {}
    record.update(overrides)
    line = json.dumps(record, ensure_ascii=False).encode()
    slowly = functools.partial(_check_slowly, text=line.decode())
    assert _outcome(check_line, stream, line) == _outcome(slowly, stream, line)


@pytest.mark.parametrize(
    ("stream", "changes", "reason"),
    [
        ("case_event", {"business_code": "２０００４０２"}, "字段 business_code 应为 7 位数字"),
        ("case_event", {"registration_type": "２００"}, "字段 registration_type 应为 3 位数字"),
        ("case_event", {"business_code": "200040"}, "字段 business_code 应为 7 位数字"),
        ("operation", {"tenant": "３３０１０６"}, "字段 tenant 应为 6 位行政区划代码"),
        ("operation", {"tenant": "33010６"}, "字段 tenant 应为 6 位行政区划代码"),
    ],
)
def test_codes_take_ascii_digits_only(stream: str, changes: dict, reason: str) -> None:
    """Full-width or other Unicode digits are not the national codes, however they look."""
    with pytest.raises(Rejected) as refused:
        check_line(stream, _line(stream, **changes), now=NOW)
    assert refused.value.reason == reason
