import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.iam.passwords import (
    generate_password,
    hash_password,
    policy_problems,
    verify_password,
)


def test_hash_verifies_only_the_right_password() -> None:
    stored = hash_password("Correct#Horse9")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "Correct#Horse9")
    assert not verify_password(stored, "correct#horse9")
    assert not verify_password(stored, "")


def test_same_password_hashes_differently_each_time() -> None:
    assert hash_password("Same#Pass123") != hash_password("Same#Pass123")


def test_garbage_hash_is_a_mismatch_not_a_crash() -> None:
    assert not verify_password("not-a-hash", "whatever")


@pytest.mark.parametrize(
    ("candidate", "broken"),
    [
        ("Ab1#", "至少 10 个字符"),
        ("abcdefghijkl", "至少三类"),
        ("Admin#2026xyz", "不包含账号名"),
        ("Abc 123#defg", "不含空格"),
    ],
)
def test_policy_names_the_rule_a_password_breaks(candidate: str, broken: str) -> None:
    problems = policy_problems(candidate, account="admin", min_length=10)
    assert any(broken in problem for problem in problems)


def test_policy_accepts_a_strong_password() -> None:
    assert policy_problems("Strong#Pass2026", account="admin", min_length=10) == []


@settings(max_examples=200)
@given(st.integers(min_value=12, max_value=40))
def test_generated_passwords_always_meet_the_policy(length: int) -> None:
    password = generate_password(length)
    assert len(password) == length
    assert policy_problems(password, account="admin", min_length=12) == []
