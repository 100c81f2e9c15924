from datetime import timedelta

import pytest
from sqlmodel import select

from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, ValidationFailed
from console.iam import service
from console.iam.models import LoginOutcome, LoginSession, User, UserStatus
from console.iam.passwords import hash_password
from console.iam.user_service import UserDraft, insert_user

PASSWORD = "Known#Pass2026"
PASSWORD_HASH = hash_password(PASSWORD)


def _add_user(account: str = "clerk", *, must_change: bool = False, **extra: object) -> None:
    with session_scope() as session:
        user = insert_user(
            session,
            UserDraft(account=account, real_name="张小三", tenant_code="330000"),
            password_hash=PASSWORD_HASH,
        )
        user.must_change_password = must_change
        for name, value in extra.items():
            setattr(user, name, value)
        session.add(user)


def _login(account: str = "clerk", password: str = PASSWORD) -> tuple[str, service.Actor]:
    with session_scope() as session:
        return service.authenticate(
            session=session, account=account, password=password, client_ip="127.0.0.1"
        )


def _outcomes(account: str) -> list[str]:
    with session_scope() as session:
        return [e.outcome for e in service.recent_login_events(session=session, account=account)]


def test_three_admins_are_created_once_and_must_change_their_passwords(seeded_db: str) -> None:
    with session_scope() as session:
        created = service.create_initial_admins(session=session)
    with session_scope() as session:
        assert service.create_initial_admins(session=session) == []
    assert [account for account, _, _ in created] == ["sysadmin", "secadmin", "auditadmin"]
    for account, _label, password in created:
        token, actor = _login(account, password)
        assert token and actor.must_change_password and actor.tenant_code == "330000"


def test_successful_login_opens_a_session_and_is_recorded(seeded_db: str) -> None:
    _add_user()
    token, actor = _login()
    with session_scope() as session:
        assert service.resolve_session(session=session, token=token).user_id == actor.user_id
        stored = session.exec(select(LoginSession)).one()
    assert token not in stored.token_digest and len(stored.token_digest) == 64
    assert _outcomes("clerk") == [LoginOutcome.SUCCESS]


def test_wrong_password_is_refused_in_chinese_and_recorded(seeded_db: str) -> None:
    _add_user()
    with pytest.raises(AuthenticationFailed) as refused:
        _login(password="wrong")
    assert refused.value.message == service.BAD_CREDENTIALS  # same as for a made-up account
    assert _outcomes("clerk") == [LoginOutcome.FAILURE]
    with session_scope() as session:
        event = service.recent_login_events(session=session, account="clerk")[0]
    assert "再失败 4 次将锁定账号" in event.reason  # the auditors see the count


def test_unknown_account_gets_the_same_message_as_a_wrong_password(seeded_db: str) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        _login("nobody")
    assert refused.value.message == service.BAD_CREDENTIALS
    assert _outcomes("nobody") == [LoginOutcome.FAILURE]


def test_empty_fields_are_named(seeded_db: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _login(account=" ")
    assert refused.value.field == "账号"
    with pytest.raises(ValidationFailed) as refused:
        _login(password="")
    assert refused.value.field == "密码"


def test_account_locks_after_the_configured_failures_even_for_the_right_password(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_user()
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            _login(password="wrong")
    with pytest.raises(AuthenticationFailed) as refused:
        _login()
    assert refused.value.message == service.BAD_CREDENTIALS  # the lock is not confirmed
    assert _outcomes("clerk")[0] == LoginOutcome.LOCKED
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "clerk")).one()
        user.locked_until = utcnow() - timedelta(seconds=1)
        session.add(user)
    assert _login()[0]


def test_disabled_account_cannot_log_in(seeded_db: str) -> None:
    _add_user(status=UserStatus.DISABLED.value)
    with pytest.raises(AuthenticationFailed) as refused:
        _login()
    assert "停用" in refused.value.message


def test_idle_session_expires_and_is_recorded(seeded_db: str) -> None:
    _add_user()
    token, _ = _login()
    with session_scope() as session:
        login = session.exec(select(LoginSession)).one()
        login.last_seen_at = utcnow() - timedelta(minutes=31)
        session.add(login)
    with pytest.raises(AuthenticationFailed) as refused, session_scope() as session:
        service.resolve_session(session=session, token=token)
    assert refused.value.message == service.SESSION_EXPIRED
    assert _outcomes("clerk")[0] == LoginOutcome.IDLE_TIMEOUT
    with pytest.raises(AuthenticationFailed), session_scope() as session:
        service.resolve_session(session=session, token=token)


def test_idle_limit_follows_the_setting(seeded_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BDC_SESSION_IDLE_MINUTES", "60")
    service.get_settings.cache_clear()
    _add_user()
    token, _ = _login()
    with session_scope() as session:
        login = session.exec(select(LoginSession)).one()
        login.last_seen_at = utcnow() - timedelta(minutes=31)
        session.add(login)
    with session_scope() as session:
        assert service.resolve_session(session=session, token=token).account == "clerk"


def test_activity_keeps_a_session_alive(seeded_db: str) -> None:
    _add_user()
    token, _ = _login()
    with session_scope() as session:
        login = session.exec(select(LoginSession)).one()
        login.last_seen_at = utcnow() - timedelta(minutes=29)
        session.add(login)
    with session_scope() as session:
        service.resolve_session(session=session, token=token)
    with session_scope() as session:
        login = session.exec(select(LoginSession)).one()
    assert utcnow() - login.last_seen_at < timedelta(minutes=1)


def test_an_active_session_ends_at_its_absolute_lifetime(seeded_db: str) -> None:
    _add_user()
    token, _ = _login()
    with session_scope() as session:
        login = session.exec(select(LoginSession)).one()
        login.created_at = utcnow() - timedelta(hours=12, minutes=1)  # busy all along
        session.add(login)
    with pytest.raises(AuthenticationFailed) as refused, session_scope() as session:
        service.resolve_session(session=session, token=token)
    assert refused.value.message == service.SESSION_TOO_OLD
    assert _outcomes("clerk")[0] == LoginOutcome.MAX_AGE


def test_logout_ends_the_session(seeded_db: str) -> None:
    _add_user()
    token, _ = _login()
    with session_scope() as session:
        service.end_session(session=session, token=token)
    with pytest.raises(AuthenticationFailed), session_scope() as session:
        service.resolve_session(session=session, token=token)
    assert _outcomes("clerk")[0] == LoginOutcome.LOGOUT


def test_forged_token_is_refused(seeded_db: str) -> None:
    _add_user()
    _login()
    with pytest.raises(AuthenticationFailed), session_scope() as session:
        service.resolve_session(session=session, token="forged-token")


def _change(token: str, current: str, new: str, confirm: str | None = None) -> None:
    with session_scope() as session:
        actor = service.resolve_session(session=session, token=token)
        service.change_password(
            session=session,
            actor=actor,
            current_password=current,
            new_password=new,
            confirm_password=confirm or new,
        )


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field"),
    [
        ("wrong", "Better#Pass2027", None, "当前密码"),
        (PASSWORD, "short", None, "新密码"),
        (PASSWORD, PASSWORD, None, "新密码"),
        (PASSWORD, "Better#Pass2027", "Other#Pass2027", "确认新密码"),
    ],
)
def test_password_change_names_the_field_at_fault(
    seeded_db: str, current: str, new: str, confirm: str | None, field: str
) -> None:
    _add_user(must_change=True)
    token, _ = _login()
    with pytest.raises(ValidationFailed) as refused:
        _change(token, current, new, confirm)
    assert refused.value.field == field


def test_password_change_clears_the_flag_and_ends_other_sessions(seeded_db: str) -> None:
    _add_user(must_change=True)
    other_token, _ = _login()
    token, _ = _login()
    _change(token, PASSWORD, "Better#Pass2027")
    with session_scope() as session:
        assert not service.resolve_session(session=session, token=token).must_change_password
    with pytest.raises(AuthenticationFailed), session_scope() as session:
        service.resolve_session(session=session, token=other_token)
    with pytest.raises(AuthenticationFailed):
        _login()
    assert _login(password="Better#Pass2027")[0]
