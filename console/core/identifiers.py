"""Checks of Chinese identifiers; each returns a Chinese reason, or None when valid."""

from __future__ import annotations

import re
from datetime import date

from console.core.errors import ValidationFailed

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# GB/T 2260 province-level prefixes; the full county list arrives with the dictionaries.
PROVINCE_PREFIXES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    }
)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id_check_char(first17: str) -> str:
    """GB 11643 check character of the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def resident_id_problem(value: str, *, today: date | None = None) -> str | None:
    """Why ``value`` is not a valid 18-character resident ID number (GB 11643), or None."""
    value = value.strip().upper()
    if len(value) != 18:
        return f"应为18位，实际为{len(value)}位"
    if not value[:17].isdigit():
        return "前17位应为数字"
    if not (value[17].isdigit() or value[17] == "X"):
        return "第18位应为数字或X"
    if value[:2] not in PROVINCE_PREFIXES:
        return f"前6位行政区划代码 {value[:6]} 不存在"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"第7-14位出生日期 {value[6:14]} 不是有效日期"
    if born.year < 1900 or born > (today or date.today()):
        return f"第7-14位出生日期 {value[6:14]} 不在合理范围内"
    expected = resident_id_check_char(value[:17])
    if value[17] != expected:
        return f"第18位校验码应为{expected}"
    return None


def uscc_check_char(first17: str) -> str:
    """GB 32100 check character of the first 17 characters."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(value: str) -> str | None:
    """Why ``value`` is not a valid unified social credit code (GB 32100), or None."""
    value = value.strip().upper()
    if len(value) != 18:
        return f"应为18位，实际为{len(value)}位"
    bad = sorted({c for c in value if c not in _USCC_ALPHABET})
    if bad:
        return f"含有不允许的字符 {''.join(bad)}（不使用 I、O、S、V、Z）"
    if not re.fullmatch(r"\d{6}", value[2:8]):
        return "第3-8位应为登记管理机关行政区划代码（6位数字）"
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        return f"第18位校验码应为{expected}"
    return None


def require_valid(problem: str | None, *, field: str) -> None:
    """Raise ``ValidationFailed`` naming ``field`` when a check found a problem."""
    if problem:
        raise ValidationFailed(problem, field=field)
