from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.core.identifiers import (
    PROVINCE_PREFIXES,
    resident_id_check_char,
    resident_id_problem,
    uscc_check_char,
    uscc_problem,
)

# Published examples: GB 11643's sample number and a registered company's USCC.
VALID_ID = "11010519491231002X"
VALID_USCC = "91350100M000100Y43"


def test_known_valid_identifiers_pass() -> None:
    assert resident_id_problem(VALID_ID) is None
    assert resident_id_problem(VALID_ID.lower()) is None
    assert uscc_problem(VALID_USCC) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("110105194912310021", "第18位校验码应为X"),
        ("11010519491231002", "应为18位，实际为17位"),
        ("1101051949123100AX", "前17位应为数字"),
        ("990105194912310029", "行政区划代码 990105 不存在"),
        ("110105194902300021", "出生日期 19490230 不是有效日期"),
        ("110105299912310021", "不在合理范围内"),
    ],
)
def test_invalid_resident_ids_say_why(value: str, reason: str) -> None:
    assert reason in (resident_id_problem(value) or "")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("91350100M000100Y44", "第18位校验码应为3"),
        ("91350100M000100YI3", "不允许的字符 I"),
        ("9135010", "应为18位"),
        ("91AB0100M000100Y43", "第3-8位"),
    ],
)
def test_invalid_credit_codes_say_why(value: str, reason: str) -> None:
    assert reason in (uscc_problem(value) or "")


resident_ids = st.builds(
    lambda prefix, area, born, seq: (lambda first17: first17 + resident_id_check_char(first17))(
        f"{prefix}{area:04d}{born:%Y%m%d}{seq:03d}"
    ),
    st.sampled_from(sorted(PROVINCE_PREFIXES)),
    st.integers(0, 9999),
    st.dates(date(1900, 1, 1), date(2025, 12, 31)),
    st.integers(0, 999),
)


@given(resident_ids)
def test_generated_resident_id_always_passes(value: str) -> None:
    assert resident_id_problem(value) is None


@given(resident_ids, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_character_change_of_a_resident_id_fails(
    value: str, position: int, replacement: str
) -> None:
    changed = value[:position] + replacement + value[position + 1 :]
    if changed != value:
        assert resident_id_problem(changed) is not None


_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
credit_codes = st.builds(
    lambda head, area, body: (lambda first17: first17 + uscc_check_char(first17))(
        f"{head}{area:06d}{body}"
    ),
    st.text(_ALPHABET, min_size=2, max_size=2),
    st.integers(0, 999999),
    st.text(_ALPHABET, min_size=9, max_size=9),
)


@given(credit_codes)
def test_generated_credit_code_always_passes(value: str) -> None:
    assert uscc_problem(value) is None


@given(credit_codes, st.integers(0, 17), st.sampled_from(_ALPHABET))
def test_any_single_character_change_of_a_credit_code_fails(
    value: str, position: int, replacement: str
) -> None:
    changed = value[:position] + replacement + value[position + 1 :]
    if changed != value:
        assert uscc_problem(changed) is not None
