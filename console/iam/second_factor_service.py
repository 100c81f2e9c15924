"""Second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps) and single-use recovery codes.

pyotp computes the codes (what every authenticator app implements); segno draws the
enrolment QR code. The seed is stored SM4-GCM encrypted. A code is accepted one step either
side of now, and a step once accepted is refused afterwards for that account: the claim is
one conditional UPDATE on the account's row, so it holds across server processes. Recovery
codes carry 50 random bits each, so they are kept as keyed HMAC-SM3 digests (a slow hash
would add nothing) and each works once. An SM3-based one-time password (GM/T 0021) for
hardware tokens would plug in beside ``_matching_step``; it is not built.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
import sqlalchemy as sa
from sqlmodel import Session, select

from console.core.clock import utcnow
from console.core.crypto import keyring
from console.core.errors import ValidationFailed
from console.core.settings import get_settings
from console.iam.models import RecoveryCode, Role, SecondFactor, User
from console.iam.separation import roles_are_administrative

STEP_SECONDS = 30
DIGITS = 6
WINDOW_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows once: the QR code and the key typed by hand."""

    secret: str
    uri: str
    qr_data_uri: str

    @property
    def grouped_secret(self) -> str:
        """The key in groups of four, as people copy it."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def required_for(session: Session, *, role_codes: set[str]) -> bool:
    """True when any of the roles asks for a second factor."""
    if not role_codes:
        return False
    if roles_are_administrative(session, role_codes):
        return True  # the three administrators, and any role holding their powers
    return (
        session.exec(
            select(Role.code).where(
                Role.code.in_(sorted(role_codes)),  # type: ignore[attr-defined]
                Role.require_second_factor.is_(True),  # type: ignore[attr-defined]
            )
        ).first()
        is not None
    )


def factor_of(session: Session, user_id: int) -> SecondFactor | None:
    """The account's confirmed second factor, or None."""
    factor = session.get(SecondFactor, user_id)
    return factor if factor is not None and factor.confirmed_at is not None else None


def start_enrolment(*, session: Session, user: User) -> Enrolment:
    """A new seed for the account (replacing an unconfirmed one); confirmed ones stay.

    Raises:
        ValidationFailed: the account already has a confirmed second factor.
    """
    assert user.id is not None
    if factor_of(session, user.id) is not None:
        raise ValidationFailed("已绑定动态验证码；如需更换请联系安全管理员", field="动态验证码")
    secret = pyotp.random_base32()
    row = session.get(SecondFactor, user.id) or SecondFactor(user_id=user.id, secret_enc="")
    row.secret_enc = keyring().encrypt(secret)
    row.created_at, row.last_step = utcnow(), 0
    session.add(row)
    issuer = get_settings().province_name + "不动产登记运维监管平台"
    uri = _totp(secret).provisioning_uri(name=user.account, issuer_name=issuer)
    qr = segno.make(uri, error="m")
    return Enrolment(secret=secret, uri=uri, qr_data_uri=qr.svg_data_uri(scale=5, border=2))


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code equals ``code`` within the window, or None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = _totp(secret)
    current = int(now // STEP_SECONDS)
    for step in range(current - WINDOW_STEPS, current + WINDOW_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(session: Session, user_id: int, step: int) -> bool:
    """Mark ``step`` used; False when it (or a later one) was used already, here or elsewhere."""
    claimed = session.execute(
        sa.update(SecondFactor)
        .where(SecondFactor.user_id == user_id, SecondFactor.last_step < step)
        .values(last_step=step)
    )
    return claimed.rowcount == 1


def confirm_enrolment(*, session: Session, user: User, code: str) -> list[str]:
    """Bind the seed once the app shows a right code; return the ten recovery codes (shown once).

    Raises:
        ValidationFailed: no enrolment under way, or the code does not match.
    """
    assert user.id is not None
    row = session.get(SecondFactor, user.id)
    if row is None or row.confirmed_at is not None:
        raise ValidationFailed("请重新开始绑定", field="动态验证码")
    step = _matching_step(keyring().decrypt(row.secret_enc), code, time.time())
    if step is None or not _claim_step(session, user.id, step):
        raise ValidationFailed(
            "验证码不正确，请核对手机时间后输入当前显示的 6 位数字", field="动态验证码"
        )
    session.refresh(row)
    row.confirmed_at = utcnow()
    session.add(row)
    return issue_recovery_codes(session=session, user_id=user.id)


def issue_recovery_codes(*, session: Session, user_id: int) -> list[str]:
    """Ten new recovery codes; earlier unused ones stop working."""
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user_id, code_digest=_recovery_digest(raw)))
    return codes


def _recovery_digest(code: str) -> str:
    return keyring().digest("recovery:" + code.replace("-", "").replace(" ", ""))


def recovery_codes_left(session: Session, user_id: int) -> int:
    """Unused recovery codes of the account."""
    return len(
        session.exec(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.used_at.is_(None),  # type: ignore[union-attr]
            )
        ).all()
    )


def verify_second_factor(session: Session, *, user_id: int, code: str) -> str | None:
    """How ``code`` was accepted ("totp" or "recovery"), or None; accepted codes are spent."""
    factor = factor_of(session, user_id)
    if factor is None:
        return None
    step = _matching_step(keyring().decrypt(factor.secret_enc), code, time.time())
    if step is not None:
        return "totp" if _claim_step(session, user_id, step) else None
    if len(code.strip()) < 10:
        return None
    spent = session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_digest == _recovery_digest(code.strip().upper()),
            RecoveryCode.used_at.is_(None),  # type: ignore[union-attr]
        )
        .values(used_at=utcnow())
    )
    return "recovery" if spent.rowcount == 1 else None


def remove_second_factor(session: Session, *, user_id: int) -> None:
    """Forget the seed and the recovery codes (a reset: the holder enrols again)."""
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.execute(sa.delete(SecondFactor).where(SecondFactor.user_id == user_id))
