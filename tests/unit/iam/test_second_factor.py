"""Second factor: enrolment, TOTP sign-in, spent time steps, recovery codes, who must have it."""

from __future__ import annotations

import multiprocessing
import time

import pyotp
import pytest
from sqlmodel import select

from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden, ValidationFailed
from console.iam import role_service, service
from console.iam import second_factor_service as factors
from console.iam.models import RecoveryCode, SecondFactor, User
from tests.support.world import PASSWORD, World
from tests.unit.iam import race


def _sign_in(account: str, password: str = PASSWORD) -> tuple[str, service.Actor] | int:
    """The session, or the user id waiting for its second step."""
    try:
        with session_scope() as session:
            return service.authenticate(session=session, account=account, password=password)
    except service.SecondFactorNeeded as needed:
        return needed.user_id


def _second_step(user_id: int, code: str) -> tuple[str, service.Actor]:
    with session_scope() as session:
        return service.complete_second_factor(session=session, user_id=user_id, code=code)


def _code(secret: str, steps_ahead: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(int(time.time() // 30) + steps_ahead)


def _enrol(account: str) -> tuple[str, list[str]]:
    """Sign in, bind a seed, return (seed, recovery codes)."""
    signed_in = _sign_in(account)
    assert isinstance(signed_in, tuple) and signed_in[1].must_enrol_second_factor
    token = signed_in[0]
    with session_scope() as session:
        enrolment = service.begin_enrolment(session=session, token=token)
    assert enrolment is not None and enrolment.uri.startswith("otpauth://totp/")
    assert enrolment.qr_data_uri.startswith("data:image/svg+xml")
    with session_scope() as session:
        codes = service.confirm_enrolment(
            session=session, token=token, code=_code(enrolment.secret)
        )
    return enrolment.secret, codes


def test_administrators_enrol_at_first_sign_in_and_then_need_a_code(world: World) -> None:
    secret, codes = _enrol("u_sec_admin")
    assert len(codes) == 10 and len(set(codes)) == 10
    with session_scope() as session:
        stored = session.get(SecondFactor, world.actor("sec_admin").user_id)
        assert stored is not None and secret not in stored.secret_enc  # SM4 at rest
        digests = session.exec(select(RecoveryCode.code_digest)).all()
    assert not any(code.replace("-", "") in d for code in codes for d in digests)
    waiting = _sign_in("u_sec_admin")
    assert isinstance(waiting, int)
    _, actor = _second_step(waiting, _code(secret, 1))  # the enrolment spent this step
    assert not actor.must_enrol_second_factor


def test_a_spent_or_wrong_code_reads_like_a_wrong_password_and_counts(world: World) -> None:
    secret, _ = _enrol("u_audit_admin")
    user_id = _sign_in("u_audit_admin")
    assert isinstance(user_id, int)
    code = _code(secret, 1)
    _second_step(user_id, code)
    for presented in (code, "000000" if code != "000000" else "111111"):
        with pytest.raises(AuthenticationFailed) as refused:
            _second_step(user_id, presented)
        assert refused.value.message == service.BAD_CREDENTIALS
    with session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None and user.failed_login_count == 2
        reasons = [
            e.reason for e in service.recent_login_events(session=session, account="u_audit_admin")
        ]
    assert reasons[0].startswith("动态验证码错误或已使用")


def test_each_recovery_code_works_once(world: World) -> None:
    _, codes = _enrol("u_sys_admin")
    user_id = _sign_in("u_sys_admin")
    assert isinstance(user_id, int)
    _second_step(user_id, codes[3].lower())
    with pytest.raises(AuthenticationFailed):
        _second_step(user_id, codes[3])
    with session_scope() as session:
        assert factors.recovery_codes_left(session, user_id) == 9
        newest = service.recent_login_events(session=session, account="u_sys_admin")[1]
    assert newest.reason == "恢复码（剩余 9 个）"


def test_a_wrong_first_code_does_not_bind(world: World) -> None:
    token, _ = _sign_in("u_sys_admin")  # type: ignore[misc]
    with session_scope() as session:
        enrolment = service.begin_enrolment(session=session, token=token)
    assert enrolment is not None
    with pytest.raises(ValidationFailed) as refused, session_scope() as session:
        service.confirm_enrolment(session=session, token=token, code="12345")
    assert refused.value.field == "动态验证码"
    with session_scope() as session:
        assert factors.factor_of(session, world.actor("sys_admin").user_id) is None


def test_the_requirement_follows_the_roles(world: World) -> None:
    clerk = _sign_in("u_window_clerk")
    supervisor = _sign_in("u_province_supervisor")
    assert isinstance(clerk, tuple) and not clerk[1].must_enrol_second_factor
    assert isinstance(supervisor, tuple) and supervisor[1].must_enrol_second_factor
    with pytest.raises(Forbidden), session_scope() as session:  # not a county's call
        role_service.set_second_factor(
            session=session, actor=world.actor("county_admin"), code="window_clerk", required=True
        )
    with session_scope() as session:
        role_service.set_second_factor(
            session=session, actor=world.actor("sec_admin"), code="window_clerk", required=True
        )
    again = _sign_in("u_window_clerk")
    assert isinstance(again, tuple) and again[1].must_enrol_second_factor
    with pytest.raises(ValidationFailed, match="三员必须"), session_scope() as session:
        role_service.set_second_factor(
            session=session, actor=world.actor("sec_admin"), code="audit_admin", required=False
        )
    with session_scope() as session:
        rows = {
            r.code: r
            for r in role_service.list_roles(session=session, actor=world.actor("sec_admin"))
        }
    assert rows["window_clerk"].second_factor and rows["audit_admin"].second_factor
    assert not rows["county_admin"].second_factor


def test_the_command_line_reset_makes_the_holder_enrol_again(world: World) -> None:
    _enrol("u_sec_admin")
    with session_scope() as session:
        service.reset_second_factor(session=session, account="u_sec_admin")
    signed_in = _sign_in("u_sec_admin")
    assert isinstance(signed_in, tuple) and signed_in[1].must_enrol_second_factor


@pytest.mark.slow
def test_one_time_step_signs_in_once_across_two_processes(world: World) -> None:
    secret, _ = _enrol("u_sec_admin")
    user_id = _sign_in("u_sec_admin")
    assert isinstance(user_id, int)
    code = _code(secret, 1)
    context = multiprocessing.get_context("spawn")
    start, answers = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=race.second_step, args=(user_id, code, start, answers))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    results = sorted(answers.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    assert results == sorted(["signed in", service.BAD_CREDENTIALS])
