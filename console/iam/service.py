"""Accounts, login, sessions and passwords as plain functions (no Reflex)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import NoReturn

import sqlalchemy as sa
from loguru import logger
from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import CHINA_TZ, utcnow
from console.core.crypto import sm3_hex
from console.core.errors import AuthenticationFailed, ValidationFailed
from console.core.settings import get_settings
from console.iam import admin_network_service as admin_networks
from console.iam import second_factor_service as factors
from console.iam import throttle
from console.iam.models import (
    APPLICANT,
    LoginEvent,
    LoginOutcome,
    LoginSession,
    PasswordHistory,
    User,
    UserStatus,
)
from console.iam.passwords import (
    generate_password,
    hash_password,
    needs_rehash,
    policy_problems,
    verify_password,
)
from console.iam.policy_service import effective_policy
from console.tenancy.service import tenant_is_active

# One answer for a wrong password, an unknown account, a locked account and a wrong or
# reused second factor: nothing tells a guesser which it was (the login log does).
BAD_CREDENTIALS = "账号或密码错误；多次失败请联系安全管理员"
SESSION_EXPIRED = "会话已超时，请重新登录"
SESSION_TOO_OLD = "会话已达最长时长，请重新登录"
SESSION_INVALID = "请先登录"
ACCOUNT_DISABLED = "账号已停用，请联系系统管理员"
TENANT_SUSPENDED = "所属租户已停用，请联系省级管理员"
# Writing last_seen on every event would turn every click into a DB write.
_TOUCH_INTERVAL = timedelta(seconds=15)
# Verifying against a throwaway hash keeps unknown accounts as slow as known ones.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


INITIAL_ADMINS = (
    ("sysadmin", "系统管理员", "sys_admin"),
    ("secadmin", "安全管理员", "sec_admin"),
    ("auditadmin", "审计管理员", "audit_admin"),
)


def create_initial_admins(
    *, session: Session, names: dict[str, str] | None = None
) -> list[tuple[str, str, str]]:
    """Create the three administrators (三员) that are missing; return (account, role, password).

    ``names`` (role → account) replaces the well-known sysadmin/secadmin/auditadmin, so an
    attacker does not know the administrators' account names either. A role that someone
    holds already is left alone.
    """
    from console.iam.user_service import UserDraft, insert_user

    province = get_settings().province_code
    created = []
    for default, label, role in INITIAL_ADMINS:
        account = (names or {}).get(role) or default
        if authz.role_holders(session, role_code=role):
            continue
        if session.exec(select(User).where(User.account == account)).first():
            raise ValidationFailed(f"账号 {account} 已被占用，请换一个{label}账号名", field="账号")
        password = generate_password()
        draft = UserDraft(account=account, real_name=label, tenant_code=province, roles=(role,))
        insert_user(session, draft, password_hash=hash_password(password))
        created.append((account, label, password))
        logger.info("initial administrator {} ({}) created", account, role)
    return created


def _record(
    session: Session,
    *,
    account: str,
    outcome: LoginOutcome,
    user: User | None = None,
    reason: str = "",
    client_ip: str = "",
    user_agent: str = "",
) -> None:
    session.add(
        LoginEvent(
            account=account[:64],
            user_id=user.id if user else None,
            outcome=outcome.value,
            reason=reason[:255],
            client_ip=client_ip[:64],
            user_agent=user_agent[:255],
        )
    )


class SecondFactorNeeded(Exception):
    """The password was right; the account signs in with its second factor next."""

    def __init__(self, user_id: int) -> None:
        super().__init__("second factor needed")
        self.user_id = user_id


def _commit_and_refuse(session: Session, message: str) -> NoReturn:
    """Keep what was recorded, then refuse: the caller's rollback must not erase the record."""
    session.commit()
    raise AuthenticationFailed(message)


def _actor(session: Session, user: User, login: LoginSession) -> Actor:
    from console.iam.user_service import display_label

    assert user.id is not None and login.id is not None
    return Actor(
        user_id=user.id,
        account=user.account,
        display_name=display_label(user),
        tenant_code=user.tenant_code,
        session_id=login.id,
        must_change_password=user.must_change_password or _password_expired(session, user),
        must_enrol_second_factor=_must_enrol(session, user.id),
        context_tenant=login.context_tenant,
        client_ip=login.client_ip,
    )


def _must_enrol(session: Session, user_id: int) -> bool:
    if factors.factor_of(session, user_id) is not None:
        return False
    return factors.required_for(session, role_codes=set(authz.user_roles(session, user_id=user_id)))


def _password_expired(session: Session, user: User) -> bool:
    changed = user.password_changed_at or user.created_at
    return utcnow() - changed > timedelta(days=effective_policy(session).password_max_age_days)


def _locked_until_text(until: datetime) -> str:
    return f"账号已锁定至 {until.astimezone(CHINA_TZ):%H:%M}"


def _refusal(
    session: Session, user: User, now: datetime, *, password_ok: bool
) -> tuple[LoginOutcome, str, str] | None:
    """Why the account may not sign in now: (outcome, what the person sees, the log's note).

    During a lock the answer is the same for the right and a wrong password; attempts are
    logged but never move ``locked_until``, so nobody keeps an account locked past the cap.
    Only someone who knows the password learns that an account is disabled.
    """
    if user.locked_until and user.locked_until > now:
        guess = "密码正确" if password_ok else "密码错误"
        note = f"锁定期间的登录尝试（{guess}），{_locked_until_text(user.locked_until)}，不延长"
        return LoginOutcome.LOCKED, BAD_CREDENTIALS, note
    if user.token_only:
        return LoginOutcome.FAILURE, BAD_CREDENTIALS, "仅用于访问令牌的账号不能交互登录"
    if user.category == APPLICANT:
        return LoginOutcome.FAILURE, BAD_CREDENTIALS, "申请人账号不能登录控制台"
    if user.status != UserStatus.ACTIVE:
        return LoginOutcome.DISABLED, ACCOUNT_DISABLED if password_ok else BAD_CREDENTIALS, ""
    if not tenant_is_active(session, user.tenant_code):
        seen = TENANT_SUSPENDED if password_ok else BAD_CREDENTIALS
        return LoginOutcome.TENANT_SUSPENDED, seen, TENANT_SUSPENDED
    return None


def _count_failure(
    session: Session, user: User, *, now: datetime, origin: dict[str, str], what: str = "密码错误"
) -> str:
    """Count a wrong password or code and lock the account at the limit; the user's message.

    The user only ever sees 账号或密码错误 (nothing that tells a real account from a made-up
    one); the remaining attempts and the lock go to the login log for the auditors.
    """
    policy = effective_policy(session)
    # Increment in SQL: parallel wrong guesses must each count, not overwrite one another.
    session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(failed_login_count=User.failed_login_count + 1)
    )
    session.refresh(user, ["failed_login_count"])
    left = policy.login_max_failures - user.failed_login_count
    if left <= 0:
        user.locked_until = now + timedelta(minutes=policy.login_lock_minutes)
        user.failed_login_count = 0
        detail = f"{what}，{_locked_until_text(user.locked_until)}"
    else:
        detail = f"{what}，再失败 {left} 次将锁定账号"
    session.add(user)
    _record(
        session,
        account=user.account,
        user=user,
        outcome=LoginOutcome.FAILURE,
        reason=detail,
        **origin,
    )
    return BAD_CREDENTIALS


def _throttle(session: Session, account: str, origin: dict[str, str]) -> None:
    """Refuse once the source address has used its attempts for the window."""
    if throttle.allow_attempt(origin["client_ip"]):
        return
    note = f"来源地址 {origin['client_ip'] or '?'} 在 {throttle.WINDOW_MINUTES} 分钟内尝试过多"
    _record(session, account=account, outcome=LoginOutcome.RATE_LIMITED, reason=note, **origin)
    _commit_and_refuse(session, throttle.TOO_MANY_ATTEMPTS)


def authenticate(
    *, session: Session, account: str, password: str, client_ip: str = "", user_agent: str = ""
) -> tuple[str, Actor]:
    """Check credentials and open a session; return the browser token and the actor.

    Raises:
        ValidationFailed: account or password left empty.
        AuthenticationFailed: wrong credentials, locked or disabled account, too many attempts
            from the address.
        SecondFactorNeeded: the password is right and the account has a second factor; finish
            with ``complete_second_factor``.
    """
    account = account.strip()
    if not account:
        raise ValidationFailed("请输入账号", field="账号")
    if not password:
        raise ValidationFailed("请输入密码", field="密码")
    now = utcnow()
    origin = {"client_ip": client_ip, "user_agent": user_agent}
    _throttle(session, account, origin)
    user = session.exec(select(User).where(User.account == account)).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)  # the same work as for a real account
        _record(
            session, account=account, outcome=LoginOutcome.FAILURE, reason="账号不存在", **origin
        )
        _commit_and_refuse(session, BAD_CREDENTIALS)
    # Always one Argon2 verification, the same time for all: an account without a usable
    # password here (synced from the platform, say) is checked against the dummy hash.
    usable = user.password_hash.startswith("$argon2")
    password_ok = verify_password(user.password_hash if usable else _DUMMY_HASH, password)
    password_ok = password_ok and usable
    assert user.id is not None
    # The address first: from elsewhere not even a disabled account or a lock shows through.
    _refuse_address(session, user, origin, note="密码正确" if password_ok else "密码错误")
    refusal = _refusal(session, user, now, password_ok=password_ok)
    if refusal is not None:
        outcome, seen, note = refusal
        _record(session, account=account, user=user, outcome=outcome, reason=note or seen, **origin)
        _commit_and_refuse(session, seen)
    if not password_ok:
        _commit_and_refuse(session, _count_failure(session, user, now=now, origin=origin))
    if factors.factor_of(session, user.id) is not None:
        raise SecondFactorNeeded(user.id)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return _open(session, user, now=now, origin=origin)


def _refuse_address(session: Session, user: User, origin: dict[str, str], *, note: str) -> None:
    """An administrator from outside their networks reads a wrong password; logged, not counted.

    Raises:
        AuthenticationFailed: BAD_CREDENTIALS, after the login log has the address and why.
    """
    assert user.id is not None
    refused = admin_networks.refusal_for(session, user_id=user.id, address=origin["client_ip"])
    if refused:
        _record(
            session,
            account=user.account,
            user=user,
            outcome=LoginOutcome.ADDRESS_REFUSED,
            reason=f"{refused}（{note}）",
            **origin,
        )
        _commit_and_refuse(session, BAD_CREDENTIALS)


def complete_second_factor(
    *, session: Session, user_id: int, code: str, client_ip: str = "", user_agent: str = ""
) -> tuple[str, Actor]:
    """Second step of a sign-in whose password was right: a TOTP code or a recovery code.

    Raises:
        AuthenticationFailed: a wrong or reused code (counted like a wrong password), a lock
            that began meanwhile, or too many attempts from the address.
    """
    now = utcnow()
    origin = {"client_ip": client_ip, "user_agent": user_agent}
    user = session.get(User, user_id)
    if user is None:
        raise AuthenticationFailed(BAD_CREDENTIALS)
    _throttle(session, user.account, origin)
    _refuse_address(session, user, origin, note="第二步")
    refusal = _refusal(session, user, now, password_ok=True)
    if refusal is not None:
        outcome, seen, note = refusal
        _record(
            session, account=user.account, user=user, outcome=outcome, reason=note or seen, **origin
        )
        _commit_and_refuse(session, BAD_CREDENTIALS if outcome == LoginOutcome.LOCKED else seen)
    how = factors.verify_second_factor(session, user_id=user_id, code=code)
    if how is None:
        what = "动态验证码错误或已使用"
        _commit_and_refuse(
            session, _count_failure(session, user, now=now, origin=origin, what=what)
        )
    left = factors.recovery_codes_left(session, user_id)
    note = "动态验证码" if how == "totp" else f"恢复码（剩余 {left} 个）"
    return _open(session, user, now=now, origin=origin, note=note)


def _open(
    session: Session, user: User, *, now: datetime, origin: dict[str, str], note: str = ""
) -> tuple[str, Actor]:
    """The session of a sign-in that passed every check."""
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    if not user.allow_multi_session:
        for earlier in _open_sessions_of(session, user):
            _end(session, earlier, user, LoginOutcome.SUPERSEDED)
    token = secrets.token_urlsafe(32)
    login = LoginSession(
        token_digest=sm3_hex(token),
        user_id=user.id,
        client_ip=origin["client_ip"][:64],
        user_agent=origin["user_agent"][:255],
    )
    session.add_all([user, login])
    _record(
        session,
        account=user.account,
        user=user,
        outcome=LoginOutcome.SUCCESS,
        reason=note,
        **origin,
    )
    session.flush()
    logger.info("login {} from {}", user.account, origin["client_ip"] or "?")
    return token, _actor(session, user, login)


def _open_sessions_of(session: Session, user: User) -> list[LoginSession]:
    return list(
        session.exec(
            select(LoginSession).where(
                LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
            )
        ).all()
    )


def _open_session(session: Session, token: str) -> tuple[LoginSession, User] | None:
    if not token:
        return None
    row = session.exec(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_digest == sm3_hex(token), LoginSession.ended_at.is_(None))
    ).first()
    return (row[0], row[1]) if row else None


def _end(session: Session, login: LoginSession, user: User, outcome: LoginOutcome) -> None:
    login.ended_at = utcnow()
    login.end_reason = outcome.value
    session.add(login)
    _record(session, account=user.account, user=user, outcome=outcome, client_ip=login.client_ip)


def resolve_session(*, session: Session, token: str) -> Actor:
    """Actor behind a browser token; ends and refuses sessions idle past the limit.

    Raises:
        AuthenticationFailed: no such open session, idle too long, or account disabled.
    """
    found = _open_session(session, token)
    if found is None:
        raise AuthenticationFailed(SESSION_INVALID)
    login, user = found
    now = utcnow()
    idle_limit = timedelta(minutes=effective_policy(session).session_idle_minutes)
    if now - login.last_seen_at > idle_limit:
        _end(session, login, user, LoginOutcome.IDLE_TIMEOUT)
        _commit_and_refuse(session, SESSION_EXPIRED)
    if now - login.created_at > timedelta(hours=get_settings().session_max_hours):
        _end(session, login, user, LoginOutcome.MAX_AGE)
        _commit_and_refuse(session, SESSION_TOO_OLD)
    if user.status != UserStatus.ACTIVE:
        _end(session, login, user, LoginOutcome.DISABLED)
        _commit_and_refuse(session, ACCOUNT_DISABLED)
    if not tenant_is_active(session, user.tenant_code):
        _end(session, login, user, LoginOutcome.TENANT_SUSPENDED)
        _commit_and_refuse(session, TENANT_SUSPENDED)
    if now - login.last_seen_at > _TOUCH_INTERVAL:
        login.last_seen_at = now
        session.add(login)
    return _actor(session, user, login)


def end_session(*, session: Session, token: str) -> None:
    """Log out: end the session behind ``token`` (no-op when there is none)."""
    found = _open_session(session, token)
    if found:
        _end(session, found[0], found[1], LoginOutcome.LOGOUT)


def _reuses_recent(session: Session, user: User, candidate: str) -> bool:
    """True when ``candidate`` equals the current password or one of the last few."""
    keep = effective_policy(session).password_history
    earlier = session.exec(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())  # type: ignore[union-attr]
        .limit(keep - 1)
    ).all()
    return any(verify_password(h, candidate) for h in [user.password_hash, *earlier])


def change_password(
    *,
    session: Session,
    actor: Actor,
    current_password: str,
    new_password: str,
    confirm_password: str,
) -> None:
    """Change the actor's own password; other open sessions of the account are ended.

    Raises:
        ValidationFailed: naming the field and the rule it breaks.
    """
    user = session.get(User, actor.user_id)
    if user is None:
        raise AuthenticationFailed(SESSION_INVALID)
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed("当前密码不正确", field="当前密码")
    problems = policy_problems(
        new_password, account=user.account, min_length=effective_policy(session).password_min_length
    )
    if problems:
        raise ValidationFailed("不符合密码规则：" + "；".join(problems), field="新密码")
    if _reuses_recent(session, user, new_password):
        count = effective_policy(session).password_history
        raise ValidationFailed(f"不能与最近 {count} 次使用过的密码相同", field="新密码")
    if new_password != confirm_password:
        raise ValidationFailed("两次输入的新密码不一致", field="确认新密码")
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    session.add(user)
    others = session.exec(
        select(LoginSession).where(
            LoginSession.user_id == user.id,
            LoginSession.ended_at.is_(None),
            LoginSession.id != actor.session_id,
        )
    ).all()
    for login in others:
        _end(session, login, user, LoginOutcome.PASSWORD_CHANGED)
    _record(session, account=user.account, user=user, outcome=LoginOutcome.PASSWORD_CHANGED)
    logger.info("password changed for {}", user.account)


def _cli_notice(what: str) -> str:
    when = utcnow().astimezone(CHINA_TZ)
    return (
        f"您的{what}已于 {when:%Y年%m月%d日 %H:%M} 在服务器命令行重置。"
        "如非本人所知，请立即联系安全管理员。"
    )


def pop_security_notice(*, session: Session, user_id: int) -> str:
    """What the account holder must read at this sign-in (a reset by others), shown once."""
    user = session.get(User, user_id)
    if user is None or not user.security_notice:
        return ""
    notice, user.security_notice = user.security_notice, ""
    session.add(user)
    return notice


def reset_password(*, session: Session, account: str) -> str:
    """Operator recovery from the command line: new one-time password, unlocked, sessions ended.

    Raises:
        ValidationFailed: no such account.
    """
    user = session.exec(select(User).where(User.account == account)).first()
    if user is None:
        raise ValidationFailed(f"账号 {account} 不存在", field="账号")
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.security_notice = _cli_notice("密码")
    user.failed_login_count = 0
    user.locked_until = None
    session.add(user)
    for login in session.exec(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    ).all():
        _end(session, login, user, LoginOutcome.PASSWORD_RESET)
    _record(
        session,
        account=account,
        user=user,
        outcome=LoginOutcome.PASSWORD_RESET,
        reason="命令行重置",
    )
    logger.warning("password of {} reset from the command line", account)
    return password


def set_context_tenant(*, session: Session, actor: Actor, tenant_code: str | None) -> None:
    """Province users narrow their view to one tenant (None = all tenants in scope).

    Raises:
        NotFound: the tenant is outside the actor's scope.
    """
    from console.tenancy.scope import ensure_visible

    if tenant_code is not None:
        ensure_visible(
            actor,
            tenant_code,
            obj="tenancy.tenants",
            action="switch",
            target=tenant_code,
            ignore_context=True,
        )
    login = session.get(LoginSession, actor.session_id)
    if login is None:
        raise AuthenticationFailed(SESSION_INVALID)
    login.context_tenant = tenant_code
    session.add(login)


def recent_login_events(*, session: Session, account: str, limit: int = 20) -> list[LoginEvent]:
    """Newest login events of one account (used by tests and, later, the audit pages)."""
    return list(
        session.exec(
            select(LoginEvent)
            .where(LoginEvent.account == account)
            .order_by(LoginEvent.id.desc())  # type: ignore[union-attr]
            .limit(limit)
        ).all()
    )


def begin_enrolment(*, session: Session, token: str) -> factors.Enrolment | None:
    """A new seed for the signed-in account, or None when it has bound one already."""
    actor = resolve_session(session=session, token=token)
    user = session.get(User, actor.user_id)
    assert user is not None and user.id is not None
    if factors.factor_of(session, user.id) is not None:
        return None
    return factors.start_enrolment(session=session, user=user)


def confirm_enrolment(*, session: Session, token: str, code: str) -> list[str]:
    """Bind the seed with its first code; the ten recovery codes, shown once.

    Raises:
        ValidationFailed: the code does not match (the field names 动态验证码).
    """
    actor = resolve_session(session=session, token=token)
    user = session.get(User, actor.user_id)
    assert user is not None
    codes = factors.confirm_enrolment(session=session, user=user, code=code)
    _record(
        session,
        account=user.account,
        user=user,
        outcome=LoginOutcome.SECOND_FACTOR_BOUND,
        client_ip=actor.client_ip,
    )
    record(session, actor=actor, obj="iam.users", action="second_factor_bind", target=user.account)
    return codes


def reset_second_factor(*, session: Session, account: str) -> None:
    """Operator recovery from the command line: the holder binds a new one at next sign-in.

    Raises:
        ValidationFailed: no such account.
    """
    user = session.exec(select(User).where(User.account == account)).first()
    if user is None or user.id is None:
        raise ValidationFailed(f"账号 {account} 不存在", field="账号")
    factors.remove_second_factor(session, user_id=user.id)
    user.security_notice = _cli_notice("动态验证码")
    session.add(user)
    for login in _open_sessions_of(session, user):
        _end(session, login, user, LoginOutcome.SECOND_FACTOR_RESET)
    _record(
        session,
        account=account,
        user=user,
        outcome=LoginOutcome.SECOND_FACTOR_RESET,
        reason="命令行重置",
    )
    logger.warning("second factor of {} reset from the command line", account)
