"""Resetting an administrator's password or second factor takes two people.

One administrator asks (安全管理员, who holds ``iam.users`` ``unlock``); a different
administrator, neither the asker nor the account holder, confirms. Only then is the reset
done: a new one-time password shown once to the confirmer, or the second factor removed so
the holder binds a new one. The holder reads who did what at the next sign-in. The server's
command line (``reset-password``, ``reset-second-factor``) remains the one-person path for
whoever runs the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record, record_denial
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.iam import second_factor_service as factors
from console.iam.login_session_service import end_open_sessions
from console.iam.models import AdminResetRequest, User
from console.iam.passwords import generate_password, hash_password
from console.iam.separation import ADMIN_LABELS, THREE_ADMINS, holds_admin_role

OBJ = "iam.users"
REQUEST_VALID_DAYS = 3
KINDS = {"password": "密码", "second_factor": "动态验证码"}


@dataclass(frozen=True)
class ResetRequestRow:
    """A waiting request as the users page lists it."""

    id: int
    account: str
    kind_label: str
    requested_by: str
    requested_at: str
    may_confirm: bool


def _admin_roles(session: Session, user_id: int) -> set[str]:
    return set(authz.user_roles(session, user_id=user_id)) & set(THREE_ADMINS)


def request_reset(*, session: Session, actor: Actor, user_id: int, kind: str) -> AdminResetRequest:
    """安全管理员 asks for an administrator's reset; nothing changes until someone confirms.

    Raises:
        Forbidden: without ``iam.users`` ``unlock`` (logged).
        ValidationFailed: own account, not an administrator, unknown kind, one already waiting.
    """
    user = session.get(User, user_id)
    if user is None or user.id is None:
        raise NotFound("用户不存在")
    authz.require(actor, OBJ, "unlock", tenant=user.tenant_code, target=user.account)
    if kind not in KINDS:
        raise ValidationFailed("应为 密码 或 动态验证码", field="重置内容")
    if user.id == actor.user_id:
        raise ValidationFailed("不能为自己申请重置", field="用户")
    if not holds_admin_role(session, user.id):
        raise ValidationFailed("仅三员账号的重置需要双人确认；其他账号请直接解锁重置", field="用户")
    waiting = session.exec(
        select(AdminResetRequest).where(
            AdminResetRequest.user_id == user.id,
            AdminResetRequest.kind == kind,
            AdminResetRequest.status == "waiting",
        )
    ).first()
    if waiting is not None:
        raise ValidationFailed("已有等待确认的同类申请", field="用户")
    request = AdminResetRequest(
        user_id=user.id, kind=kind, requested_by_id=actor.user_id, requested_by=actor.account
    )
    session.add(request)
    session.flush()
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="admin_reset_request",
        target=user.account,
        tenant=user.tenant_code,
        detail={"kind": kind, "request": request.id},
    )
    return request


def _may_confirm(session: Session, actor: Actor, request: AdminResetRequest) -> bool:
    return actor.user_id not in (request.requested_by_id, request.user_id) and bool(
        _admin_roles(session, actor.user_id)
    )


def waiting_requests(*, session: Session, actor: Actor) -> list[ResetRequestRow]:
    """Requests waiting for a second administrator (administrators only)."""
    if not _admin_roles(session, actor.user_id):
        return []
    rows = session.exec(
        select(AdminResetRequest, User)
        .join(User, User.id == AdminResetRequest.user_id)
        .where(AdminResetRequest.status == "waiting")
        .order_by(AdminResetRequest.id)
    ).all()
    return [
        ResetRequestRow(
            id=request.id or 0,
            account=user.account,
            kind_label=KINDS[request.kind],
            requested_by=request.requested_by,
            requested_at=to_local_text(request.requested_at),
            may_confirm=_may_confirm(session, actor, request),
        )
        for request, user in rows
    ]


def confirm_reset(*, session: Session, actor: Actor, request_id: int) -> str:
    """A second administrator confirms: the reset is done; a new password is returned once.

    Returns the one-time password for a password reset, "" for a second-factor reset.

    Raises:
        Forbidden: the asker, the holder, or someone who is no administrator (logged).
        NotFound: no such waiting request.
    """
    request = session.get(AdminResetRequest, request_id)
    if request is None or request.status != "waiting":
        raise NotFound("申请不存在或已处理")
    if utcnow() - request.requested_at > timedelta(days=REQUEST_VALID_DAYS):
        raise ValidationFailed(
            f"申请已超过 {REQUEST_VALID_DAYS} 天未确认，请重新申请", field="申请"
        )
    user = session.get(User, request.user_id)
    if user is None or user.id is None:
        raise NotFound("账号不存在")
    if not _may_confirm(session, actor, request):
        reason = "双人确认：申请人、账号本人和非管理员不能确认"
        record_denial(
            actor=actor, obj=OBJ, action="admin_reset_confirm", tenant=user.tenant_code,
            target=user.account, reason=reason,
        )  # fmt: skip
        raise Forbidden(reason)
    now = utcnow()
    # Claimed in one conditional UPDATE: two administrators confirming at once act once.
    claimed = session.execute(
        sa.update(AdminResetRequest)
        .where(AdminResetRequest.id == request.id, AdminResetRequest.status == "waiting")
        .values(status="done", confirmed_by=actor.account, confirmed_at=now)
    )
    if claimed.rowcount != 1:
        raise NotFound("申请不存在或已处理")
    password = ""
    if request.kind == "password":
        password = generate_password()
        user.password_hash = hash_password(password)
        user.must_change_password = True
        user.failed_login_count, user.locked_until = 0, None
    else:
        factors.remove_second_factor(session, user_id=user.id)
    labels = "、".join(ADMIN_LABELS[r] for r in sorted(_admin_roles(session, actor.user_id)))
    user.security_notice = (
        f"您的{KINDS[request.kind]}已于 {to_local_text(now)} 重置："
        f"{request.requested_by} 申请，{actor.account}（{labels}）确认。"
        "如非本人所知，请立即联系安全管理员。"
    )
    user.updated_at = now
    session.add(user)
    end_open_sessions(session, user_id=user.id, reason="password_reset")
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="admin_reset_confirm",
        target=user.account,
        tenant=user.tenant_code,
        detail={"kind": request.kind, "request": request.id, "requested_by": request.requested_by},
    )
    return password
