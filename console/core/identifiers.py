"""Checks of Chinese identifiers; each returns a Chinese reason, or None when valid."""

from __future__ import annotations

import re
from collections.abc import Callable
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
    }
)
# 港澳台居民居住证 (State Council, 2018): the same 18-character shape and check as GB 11643,
# its first six digits one of these region codes (no county code follows them).
RESIDENCE_PERMIT_PREFIXES = {"810000": "香港居民", "820000": "澳门居民", "830000": "台湾居民"}
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id_check_char(first17: str) -> str:
    """GB 11643 check character of the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def resident_id_problem(
    value: str,
    *,
    today: date | None = None,
    division_known: Callable[[str], bool] | None = None,
) -> str | None:
    """Why ``value`` is not a valid 18-character resident ID number (GB 11643), or None.

    Residence permits of Hong Kong, Macau and Taiwan residents (810000…, 820000…, 830000…)
    are valid numbers of the same shape.

    ``division_known`` (from the division dictionary) checks the first six digits against
    every county code that ever existed; without it only the province prefix is checked.
    """
    value = value.strip().upper()
    if len(value) != 18:
        return f"应为18位，实际为{len(value)}位"
    if not value[:17].isdigit():
        return "前17位应为数字"
    if not (value[17].isdigit() or value[17] == "X"):
        return "第18位应为数字或X"
    if value[:6] not in RESIDENCE_PERMIT_PREFIXES and (
        value[:2] not in PROVINCE_PREFIXES or (division_known and not division_known(value[:6]))
    ):
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


_UNIT_PARCEL_TYPES = "ABSXCDEFHGWY"
_UNIT_RULES: tuple[tuple[slice, str, str], ...] = (
    (slice(0, 6), r"\d{6}", "第1-6位应为县级行政区划代码"),
    (slice(6, 9), r"\d{3}", "第7-9位应为地籍区代码（3位数字）"),
    (slice(9, 12), r"\d{3}", "第10-12位应为地籍子区代码（3位数字）"),
    (slice(12, 13), r"[GJZ]", "第13位应为土地所有权类型 G、J 或 Z"),
    (
        slice(13, 14),
        f"[{_UNIT_PARCEL_TYPES}]",
        f"第14位应为宗地特征码（{'、'.join(_UNIT_PARCEL_TYPES)}）",
    ),
    (slice(14, 19), r"\d{5}", "第15-19位应为宗地顺序号（5位数字）"),
    (slice(19, 20), r"[FLQW]", "第20位应为定着物类型 F、L、Q 或 W"),
    (slice(20, 28), r"\d{8}", "第21-28位应为定着物单元号（8位数字）"),
)


def unit_code_problem(value: str) -> str | None:
    """Why ``value`` is not a 28-character real-estate unit code (不动产单元号), or None."""
    value = value.strip().upper().replace(" ", "")
    if len(value) != 28:
        return f"应为28位，实际为{len(value)}位"
    for where, pattern, reason in _UNIT_RULES:
        if not re.fullmatch(pattern, value[where]):
            return reason
    return None


def format_unit_code(value: str) -> str:
    """Group a unit code 6/6/7/9 for display: 310113 015003 GB00011 F00020088."""
    value = value.strip().upper()
    return " ".join((value[:6], value[6:12], value[12:19], value[19:]))


PROVINCE_ABBREVIATIONS = (
    "京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵黔云滇陕秦甘陇青台蒙桂藏宁新港澳"
)
_CERTIFICATE = re.compile(
    rf"^(?P<province>[{PROVINCE_ABBREVIATIONS}])[(（](?P<year>\d{{4}})[)）]"
    r"(?P<place>[\u4e00-\u9fa5]{1,20}?)不动产(?P<kind>权|证明)第(?P<number>\d+)号$"
)


def certificate_problem(value: str, *, today: date | None = None) -> str | None:
    """Why ``value`` is not a 不动产权 / 不动产证明 number (both bracket styles), or None."""
    match = _CERTIFICATE.match(value.strip())
    if match is None:
        return "格式应为：省简称(年份)市县名不动产权第NNNNNNN号 或 …不动产证明第NNNNNNN号"
    if not 6 <= len(match["number"]) <= 8:
        return f"第…号中的顺序号应为6-8位数字，实际为{len(match['number'])}位"
    year = int(match["year"])
    if not 2015 <= year <= (today or date.today()).year:
        return f"年份 {year} 不在 2015 年（不动产统一登记实施）至今的范围内"
    return None
