"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's "low memory" profile: Argon2id, 64 MiB, t=3.
_hasher = PasswordHasher()

_SPECIALS = "!@#$%^&*()-_=+[]{};:,.?/~"


def hash_password(password: str) -> str:
    """Argon2id hash with a random salt, in PHC string form."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; never raises for a mismatch."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """One rule of the password policy and whether a candidate meets it."""

    rule: str
    passed: bool


def _character_classes(password: str) -> int:
    return sum(
        any(ch in group for ch in password)
        for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits, _SPECIALS)
    )


def policy_checks(password: str, *, account: str, min_length: int) -> list[PolicyCheck]:
    """Every rule of the policy (等保 2.0 三级 complexity) with its outcome, for live feedback."""
    return [
        PolicyCheck(f"至少 {min_length} 个字符", len(password) >= min_length),
        PolicyCheck(
            "包含大写字母、小写字母、数字、特殊符号中的至少三类",
            _character_classes(password) >= 3,
        ),
        PolicyCheck(
            "不包含账号名",
            bool(password) and (not account or account.lower() not in password.lower()),
        ),
        PolicyCheck("不含空格", bool(password) and not any(ch.isspace() for ch in password)),
    ]


def policy_problems(password: str, *, account: str, min_length: int) -> list[str]:
    """Rules the candidate breaks, in Chinese; empty when it is acceptable."""
    checks = policy_checks(password, account=account, min_length=min_length)
    return [check.rule for check in checks if not check.passed]


def generate_password(length: int = 16) -> str:
    """Random password meeting the policy: every character class, no look-alikes."""
    alphabet = {
        "lower": "abcdefghijkmnpqrstuvwxyz",
        "upper": "ABCDEFGHJKLMNPQRSTUVWXYZ",
        "digit": "23456789",
        "special": "@#%+=-_",
    }
    pool = "".join(alphabet.values())
    chars = [secrets.choice(group) for group in alphabet.values()]
    chars += [secrets.choice(pool) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
