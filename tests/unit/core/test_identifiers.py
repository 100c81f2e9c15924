from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.core.identifiers import (
    PROVINCE_PREFIXES,
    certificate_problem,
    format_unit_code,
    resident_id_check_char,
    resident_id_problem,
    unit_code_problem,
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


UNIT_CODE = "310113015003GB00011F00020088"


def test_known_unit_code_passes_and_is_grouped_6_6_7_9() -> None:
    assert unit_code_problem(UNIT_CODE) is None
    assert format_unit_code(UNIT_CODE) == "310113 015003 GB00011 F00020088"


@pytest.mark.parametrize(
    ("position", "replacement", "reason"),
    [
        (0, "A", "第1-6位"),
        (7, "X", "第7-9位"),
        (11, "Z", "第10-12位"),
        (12, "Q", "第13位"),
        (13, "Z", "第14位"),
        (16, "B", "第15-19位"),
        (19, "G", "第20位"),
        (25, "F", "第21-28位"),
    ],
)
def test_each_position_of_a_unit_code_is_checked(
    position: int, replacement: str, reason: str
) -> None:
    changed = UNIT_CODE[:position] + replacement + UNIT_CODE[position + 1 :]
    assert reason in (unit_code_problem(changed) or "")


unit_codes = st.builds(
    lambda county, zone, own, parcel, seq, fixture, unit: (
        f"{county:06d}{zone:06d}{own}{parcel}{seq:05d}{fixture}{unit:08d}"
    ),
    st.integers(110000, 659999),
    st.integers(0, 999999),
    st.sampled_from("GJZ"),
    st.sampled_from("ABSXCDEFHGWY"),
    st.integers(0, 99999),
    st.sampled_from("FLQW"),
    st.integers(0, 99_999_999),
)


@given(unit_codes)
def test_generated_unit_codes_pass(value: str) -> None:
    assert unit_code_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "皖(2019)长丰县不动产证明第0010484号",
        "浙（2020）杭州市不动产权第1234567号",
        "沪(2018)浦东新区不动产权第012345号",  # six digits: a centre with a shorter series
        "粤(2021)深圳市不动产权第00123456号",  # eight digits: a large city's series
        "京(2017)朝阳区不动产证明第00012345号",
    ],
)
def test_certificate_numbers_of_six_to_eight_digits_in_both_bracket_styles_pass(
    value: str,
) -> None:
    assert certificate_problem(value) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("皖(2019)长丰县不动产证明第00104号", "6-8位"),
        ("皖(2019)长丰县不动产证明第001048912号", "6-8位"),
        ("XX(2019)长丰县不动产权第0010484号", "格式应为"),
        ("皖(2009)长丰县不动产权第0010484号", "年份 2009"),
    ],
)
def test_bad_certificate_numbers_say_why(value: str, reason: str) -> None:
    assert reason in (certificate_problem(value) or "")


def test_resident_id_division_is_checked_against_a_dictionary_when_given() -> None:
    known = {"110105"}.__contains__
    assert resident_id_problem(VALID_ID, division_known=known) is None
    assert "110105" in (resident_id_problem(VALID_ID, division_known=set().__contains__) or "")


def _with_check(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize(
    ("prefix", "holder"), [("810000", "香港居民"), ("820000", "澳门居民"), ("830000", "台湾居民")]
)
def test_residence_permits_of_hong_kong_macau_and_taiwan_residents_are_valid_id_numbers(
    prefix: str, holder: str
) -> None:
    permit = _with_check(f"{prefix}19850312012")
    # 810000/820000/830000 are not county codes: the division dictionary does not know them.
    assert resident_id_problem(permit, division_known={"110105"}.__contains__) is None, holder
    assert "第18位校验码" in (
        resident_id_problem(permit[:17] + "0" if permit[17] != "0" else permit[:17] + "1") or ""
    )


def test_a_permit_prefix_that_does_not_exist_is_refused() -> None:
    assert "840000" in (resident_id_problem(_with_check("84000019850312012")) or "")
    assert "810001" in (resident_id_problem(_with_check("81000119850312012")) or "")
