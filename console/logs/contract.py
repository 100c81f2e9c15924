"""The ingestion contract: one JSON object per line, checked field by field, reasons in Chinese.

External systems are written against this contract (issue #6); keep it exactly. Unknown
fields are kept: the stored record is the line as sent, the checked fields are extracted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec

from console.core.clock import local_day

STREAMS = ("operation", "interface_call", "exception", "case_event")
STREAM_LABELS = {
    "operation": "操作日志",
    "interface_call": "接口调用日志",
    "exception": "异常日志",
    "case_event": "办件进度",
}
CHANNELS = ("window", "online", "bank", "developer", "broker", "agent")
STEPS = (
    "apply", "accept", "review", "register", "certify", "issue",
    "close", "reject", "supplement", "withdraw",
)  # fmt: skip
OUTCOMES = ("success", "failure", "denied")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# A clock a little ahead is tolerated; an event from the future is not.
FUTURE_TOLERANCE = timedelta(minutes=5)
# The earliest event a system may push, and the largest integer a field may hold (the lake
# stores them as 64-bit; a 2**31 cap keeps every sum over a year of events exact too).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_INT = 2**31 - 1
# ASCII digits only: ``\d`` would also take full-width and other Unicode digits.
_TENANT = re.compile(r"^[0-9]{6}$")
_DIGITS = {7: re.compile(r"^[0-9]{7}$"), 3: re.compile(r"^[0-9]{3}$")}

_str, _int, _bool = "字符串", "整数", "布尔值（true/false）"
# (field, expected type name, required) per stream, after the three common fields.
FIELDS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "interface_call": (
        ("interface_code", _str, True),
        ("department", _str, True),
        ("trace_id", _str, True),
        ("caller", _str, True),
        ("duration_ms", _int, True),
        ("result_code", _str, True),
        ("success", _bool, True),
        ("case_no", _str, False),
        ("retry", _int, False),
        ("error", _str, False),
    ),
    "case_event": (
        ("case_no", _str, True),
        ("business_code", _str, True),
        ("registration_type", _str, True),
        ("channel", _str, True),
        ("step", _str, True),
        ("operator", _str, False),
    ),
    "operation": (
        ("actor", _str, True),
        ("action", _str, True),
        ("object", _str, True),
        ("outcome", _str, True),
        ("detail", _str, False),
        ("ip", _str, False),
        ("case_no", _str, False),
        ("trace_id", _str, False),
    ),
    "exception": (
        ("source", _str, True),
        ("level", _str, True),
        ("message", _str, True),
        ("trace_id", _str, False),
        ("stack", _str, False),
    ),
}
_CHOICES = {
    ("case_event", "channel"): CHANNELS,
    ("case_event", "step"): STEPS,
    ("operation", "outcome"): OUTCOMES,
    ("exception", "level"): LEVELS,
}
_DECODER = msgspec.json.Decoder()


class Rejected(Exception):
    """A line that breaks the contract; ``reason`` says which field and why, in Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CheckedEvent:
    """A line that meets the contract: its identity, time, tenant and the line as sent."""

    event_id: str
    ts: datetime  # UTC
    day: str  # Asia/Shanghai calendar day, YYYY-MM-DD
    tenant: str
    line: str
    business_code: str = ""  # case_event only: checked against an institution's channel
    # For the minute counters behind alerts: the interface (interface_call) or the source
    # (exception); whether it failed (success false, ERROR/CRITICAL, outcome not success);
    # the call's duration.
    subject: str = ""
    failed: bool = False
    duration_ms: int = 0


def _type_ok(value: Any, expected: str) -> bool:
    if expected == _int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == _bool:
        return isinstance(value, bool)
    return isinstance(value, str)


def _timestamp(value: Any, now: datetime) -> tuple[datetime, str]:
    """The moment in UTC and its Asia/Shanghai day (``YYYY-MM-DD``), or the reason it is bad."""
    if not isinstance(value, str):
        raise Rejected("字段 ts 应为 ISO 8601 时间字符串")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(f"字段 ts 不是有效的 ISO 8601 时间：{value[:40]}") from None
    if moment.tzinfo is None:
        raise Rejected("字段 ts 缺少时区偏移（如 +08:00）")
    try:
        moment = moment.astimezone(UTC)
        day = local_day(moment)
    except (OverflowError, ValueError):
        raise Rejected(f"字段 ts 超出可接受的时间范围：{value[:40]}") from None
    if moment < EARLIEST:
        raise Rejected("字段 ts 早于 2000-01-01")
    if moment - now > FUTURE_TOLERANCE:
        raise Rejected("字段 ts 晚于当前时间（超过 5 分钟）")
    return moment, day.isoformat()


def _check_fields(stream: str, record: dict[str, Any]) -> None:
    for name, expected, required in FIELDS[stream]:
        value = record.get(name)
        if value is None:
            if required:
                raise Rejected(f"缺少字段 {name}")
            continue
        if not _type_ok(value, expected):
            raise Rejected(f"字段 {name} 应为{expected}")
        if expected == _int and value < 0:
            raise Rejected(f"字段 {name} 不能为负数")
        if expected == _int and value > MAX_INT:
            raise Rejected(f"字段 {name} 超出范围（最大 {MAX_INT}）")
        choices = _CHOICES.get((stream, name))
        if choices and value not in choices:
            raise Rejected(f"字段 {name} 应为 {'、'.join(choices)} 之一")
    if stream == "case_event":
        if not _DIGITS[7].fullmatch(record["business_code"]):
            raise Rejected("字段 business_code 应为 7 位数字")
        if not _DIGITS[3].fullmatch(record["registration_type"]):
            raise Rejected("字段 registration_type 应为 3 位数字")


_PYTHON_TYPES = {_str: str, _int: Annotated[int, msgspec.Meta(ge=0, le=MAX_INT)], _bool: bool}
# Digit codes: their length is checked by the decoder in C, their digits after it (a regular
# expression per field inside the decoder cost more than the rest of the line's decoding).
_CODE_LENGTHS = {("case_event", "business_code"): 7, ("case_event", "registration_type"): 3}


def _typed_field(stream: str, name: str, expected: str, required: bool) -> tuple:
    kind: Any = _PYTHON_TYPES[expected]
    if (stream, name) in _CHOICES:
        kind = Literal[_CHOICES[stream, name]]  # type: ignore[valid-type]
    if (stream, name) in _CODE_LENGTHS:
        length = _CODE_LENGTHS[stream, name]
        kind = Annotated[str, msgspec.Meta(min_length=length, max_length=length)]
    return (name, kind) if required else (name, kind | None, None)


def _typed_decoder(stream: str) -> msgspec.json.Decoder:
    """A decoder that accepts only lines meeting the contract (unknown fields ignored).

    It is the fast path of ``check_line``: validation in C instead of per-field Python. What it
    refuses goes through the field-by-field checks, which word the reason.
    """
    common = [
        ("event_id", Annotated[str, msgspec.Meta(min_length=1, max_length=128)]),
        ("ts", str),
        ("tenant", Annotated[str, msgspec.Meta(min_length=6, max_length=6)]),
    ]
    fields = [_typed_field(stream, *field) for field in FIELDS[stream]]
    required = [f for f in fields if len(f) == 2]
    optional = [f for f in fields if len(f) == 3]
    return msgspec.json.Decoder(msgspec.defstruct(f"Typed_{stream}", common + required + optional))


_TYPED = {stream: _typed_decoder(stream) for stream in STREAMS}


def check_line(stream: str, line: bytes, *, now: datetime) -> CheckedEvent:
    """Check one NDJSON line of ``stream`` against the contract.

    Raises:
        Rejected: with the reason, naming the field.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise Rejected(f"不是有效的 UTF-8 文本（第 {bad.start + 1} 字节）") from None
    try:
        typed = _TYPED[stream].decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _check_slowly(stream, line, text, now=now)
    except RecursionError:
        raise Rejected("JSON 嵌套层数过深") from None
    if not _codes_are_digits(stream, typed):
        return _check_slowly(stream, line, text, now=now)
    ts, day = _timestamp(typed.ts, now)
    business = typed.business_code if stream == "case_event" else ""
    subject, failed, duration = _facts(stream, typed.__getattribute__)
    return CheckedEvent(
        typed.event_id, ts, day, typed.tenant, text, business, subject, failed, duration
    )


def _ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _codes_are_digits(stream: str, typed: Any) -> bool:
    """The tenant and the case codes (lengths already checked) are ASCII digits."""
    if not _ascii_digits(typed.tenant):
        return False
    if stream == "case_event":
        return _ascii_digits(typed.business_code) and _ascii_digits(typed.registration_type)
    return True


def _facts(stream: str, field: Any) -> tuple[str, bool, int]:
    """What the minute counters count of a checked line (``field`` reads a checked field)."""
    if stream == "interface_call":
        return field("interface_code")[:64], not field("success"), field("duration_ms")
    if stream == "exception":
        return field("source")[:64], field("level") in ("ERROR", "CRITICAL"), 0
    if stream == "operation":
        return "", field("outcome") != "success", 0
    return "", False, 0


def _check_slowly(stream: str, line: bytes, text: str, *, now: datetime) -> CheckedEvent:
    """Field by field, so a refused line gets the reason naming its first bad field."""
    try:
        record = _DECODER.decode(line)
    except msgspec.DecodeError as error:
        raise Rejected(f"不是有效的 JSON：{str(error)[:120]}") from None
    except RecursionError:
        raise Rejected("JSON 嵌套层数过深") from None
    if not isinstance(record, dict):
        raise Rejected("每行应为一个 JSON 对象")
    event_id = record.get("event_id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 128:
        raise Rejected("字段 event_id 应为 1 到 128 个字符的字符串")
    if "ts" not in record:
        raise Rejected("缺少字段 ts")
    ts, day = _timestamp(record["ts"], now)
    tenant = record.get("tenant")
    if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
        raise Rejected("字段 tenant 应为 6 位行政区划代码")
    _check_fields(stream, record)
    business = record.get("business_code", "") if stream == "case_event" else ""
    subject, failed, duration = _facts(stream, record.__getitem__)
    return CheckedEvent(event_id, ts, day, tenant, text, business, subject, failed, duration)
