"""Accounts, login, sessions and passwords as plain functions (no Reflex)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import NoReturn

import sqlalchemy as sa
from loguru import logger
from sqlmodel import Session, select

from console.core.actor import Actor
from console.core.clock import CHINA_TZ, utcnow
from console.core.crypto import sm3_hex
from console.core.errors import AuthenticationFailed, ValidationFailed
from console.core.settings import get_settings
from console.iam.models import (
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

BAD_CREDENTIALS = "账号或密码错误"
SESSION_EXPIRED = "会话已超时，请重新登录"
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


def create_initial_admins(*, session: Session) -> list[tuple[str, str, str]]:
    """Create the three administrators (三员) that are missing; return (account, role, password)."""
    from console.iam.user_service import UserDraft, insert_user

    province = get_settings().province_code
    created = []
    for account, label, role in INITIAL_ADMINS:
        if session.exec(select(User).where(User.account == account)).first():
            continue
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
        context_tenant=login.context_tenant,
        client_ip=login.client_ip,
    )


def _password_expired(session: Session, user: User) -> bool:
    changed = user.password_changed_at or user.created_at
    return utcnow() - changed > timedelta(days=effective_policy(session).password_max_age_days)


def _locked_message(until: datetime) -> str:
    return f"账号已锁定，请于 {until.astimezone(CHINA_TZ):%H:%M} 后重试"


def _refusal(session: Session, user: User, now: datetime) -> tuple[LoginOutcome, str] | None:
    """Why a known account may not log in at all right now, or None."""
    if user.status != UserStatus.ACTIVE:
        return LoginOutcome.DISABLED, ACCOUNT_DISABLED
    if not tenant_is_active(session, user.tenant_code):
        return LoginOutcome.TENANT_SUSPENDED, TENANT_SUSPENDED
    if user.locked_until and user.locked_until > now:
        return LoginOutcome.LOCKED, _locked_message(user.locked_until)
    return None


def _count_failure(session: Session, user: User, *, now: datetime, origin: dict[str, str]) -> str:
    """Count a wrong password and lock the account at the limit; return the user's message.

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
        detail = f"{BAD_CREDENTIALS}，{_locked_message(user.locked_until)}"
    else:
        detail = f"{BAD_CREDENTIALS}，再失败 {left} 次将锁定账号"
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


def authenticate(
    *, session: Session, account: str, password: str, client_ip: str = "", user_agent: str = ""
) -> tuple[str, Actor]:
    """Check credentials and open a session; return the browser token and the actor.

    Raises:
        ValidationFailed: account or password left empty.
        AuthenticationFailed: wrong credentials, locked or disabled account.
    """
    account = account.strip()
    if not account:
        raise ValidationFailed("请输入账号", field="账号")
    if not password:
        raise ValidationFailed("请输入密码", field="密码")
    now = utcnow()
    origin = {"client_ip": client_ip, "user_agent": user_agent}
    user = session.exec(select(User).where(User.account == account)).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        _record(
            session, account=account, outcome=LoginOutcome.FAILURE, reason="账号不存在", **origin
        )
        _commit_and_refuse(session, BAD_CREDENTIALS)
    password_ok = verify_password(user.password_hash, password)  # always: same time for all
    refusal = _refusal(session, user, now)
    if refusal is not None:
        _record(
            session, account=account, user=user, outcome=refusal[0], reason=refusal[1], **origin
        )
        # Only someone who knows the password learns why the account may not log in.
        _commit_and_refuse(session, refusal[1] if password_ok else BAD_CREDENTIALS)
    if not password_ok:
        _commit_and_refuse(session, _count_failure(session, user, now=now, origin=origin))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
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
        client_ip=client_ip[:64],
        user_agent=user_agent[:255],
    )
    session.add_all([user, login])
    _record(
        session,
        account=account,
        user=user,
        outcome=LoginOutcome.SUCCESS,
        client_ip=client_ip,
        user_agent=user_agent,
    )
    session.flush()
    logger.info("login {} from {}", account, client_ip or "?")
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
