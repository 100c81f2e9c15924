"""三员分立 as an attacker tries it: every row of the README's table is a logged denial."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.authz import service as authz
from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden, ValidationFailed
from console.iam import admin_reset_service as resets
from console.iam import role_service, service, user_service
from console.iam import second_factor_service as factors
from console.iam.models import Role, User
from tests.support.world import PASSWORD, World, add_user


def _denials(account: str, action: str) -> list[OperationLog]:
    with session_scope() as session:
        return list(
            session.exec(
                select(OperationLog).where(
                    OperationLog.actor_account == account,
                    OperationLog.action == action,
                    OperationLog.outcome == "denied",
                )
            ).all()
        )


def _grant(world: World, actor_key: str, user_id: int, *roles: str) -> None:
    with session_scope() as session:
        user_service.assign_roles(
            session=session, actor=world.actor(actor_key), user_id=user_id, roles=roles
        )


def test_nobody_grants_an_administrator_role_to_themselves(world: World) -> None:
    security = world.actor("sec_admin")
    with pytest.raises(Forbidden, match="不能给自己授予管理员角色"):
        _grant(world, "sec_admin", security.user_id, "sec_admin", "audit_admin")
    assert len(_denials("u_sec_admin", "grant")) == 1


def test_whoever_reset_a_password_cannot_make_its_account_an_administrator(
    world: World,
) -> None:
    clerk_id = add_user("plain_clerk", "330000", ())
    with session_scope() as session:
        one_time = user_service.unlock_and_reset(
            session=session, actor=world.actor("sec_admin"), user_id=clerk_id
        )
    with pytest.raises(Forbidden, match="30 天内设置或重置过该账号密码"):
        _grant(world, "sec_admin", clerk_id, "audit_admin")
    assert len(_denials("u_sec_admin", "grant")) == 1
    with session_scope() as session:  # 31 days later the rule no longer holds the grant back
        for row in session.exec(
            select(OperationLog).where(OperationLog.target == "plain_clerk")
        ).all():
            row.ts = utcnow() - timedelta(days=31)
            session.add(row)
    # ...but whoever holds the one-time password could still be anyone until its owner
    # has signed in and replaced it.
    with pytest.raises(Forbidden, match="本人须先登录并修改"):
        _grant(world, "sec_admin", clerk_id, "audit_admin")
    with session_scope() as session:
        _, clerk = service.authenticate(session=session, account="plain_clerk", password=one_time)
    with session_scope() as session:
        service.change_password(
            session=session, actor=clerk, current_password=one_time,
            new_password="Clerk#Own2026x", confirm_password="Clerk#Own2026x",
        )  # fmt: skip
    _grant(world, "sec_admin", clerk_id, "audit_admin")


def test_only_the_security_administrator_switches_administrator_accounts(
    world: World,
) -> None:
    auditor_id = world.actor("audit_admin").user_id
    with pytest.raises(Forbidden), session_scope() as session:
        user_service.set_status(
            session=session, actor=world.actor("sys_admin"), user_id=auditor_id, enabled=False
        )
    assert len(_denials("u_sys_admin", "disable")) == 1
    security = world.actor("sec_admin")
    with pytest.raises(ValidationFailed, match="不能停用自己的账号"), session_scope() as session:
        user_service.set_status(
            session=session, actor=security, user_id=security.user_id, enabled=False
        )
    assert len(_denials("u_sec_admin", "disable")) == 1
    with session_scope() as session:
        user_service.set_status(session=session, actor=security, user_id=auditor_id, enabled=False)
    with session_scope() as session:  # ordinary accounts stay the system administrator's
        user_service.set_status(
            session=session,
            actor=world.actor("sys_admin"),
            user_id=world.actor("window_clerk").user_id,
            enabled=False,
        )


def test_an_administrators_reset_needs_a_second_administrator(world: World) -> None:
    target = world.actor("audit_admin")
    alone = pytest.raises(ValidationFailed, match="另一名管理员确认")
    with alone, session_scope() as session:  # one person alone cannot
        user_service.unlock_and_reset(
            session=session, actor=world.actor("sec_admin"), user_id=target.user_id
        )
    with session_scope() as session:
        request = resets.request_reset(
            session=session, actor=world.actor("sec_admin"), user_id=target.user_id,
            kind="password",
        )  # fmt: skip
        request_id = request.id
    assert request_id is not None
    for who in ("sec_admin", "audit_admin", "province_supervisor"):  # asker, holder, no admin
        with pytest.raises(Forbidden), session_scope() as session:
            resets.confirm_reset(session=session, actor=world.actor(who), request_id=request_id)
    assert len(_denials("u_sec_admin", "admin_reset_confirm")) == 1
    with session_scope() as session:
        assert resets.waiting_requests(session=session, actor=world.actor("sys_admin"))[
            0
        ].may_confirm
        one_time = resets.confirm_reset(
            session=session, actor=world.actor("sys_admin"), request_id=request_id
        )
    with pytest.raises(AuthenticationFailed), session_scope() as session:
        service.authenticate(session=session, account=target.account, password=PASSWORD)
    with session_scope() as session:
        _, actor = service.authenticate(session=session, account=target.account, password=one_time)
        notice = service.pop_security_notice(session=session, user_id=actor.user_id)
    assert actor.must_change_password
    assert "u_sec_admin 申请" in notice and "u_sys_admin" in notice
    with session_scope() as session:  # told once
        assert service.pop_security_notice(session=session, user_id=actor.user_id) == ""


def test_a_second_factor_reset_takes_two_and_makes_the_holder_enrol_again(
    world: World,
) -> None:
    target = world.actor("sys_admin")
    with session_scope() as session:
        user = session.get(User, target.user_id)
        assert user is not None
        factors.start_enrolment(session=session, user=user)
        session.flush()
        row = factors.factor_of(session, target.user_id)
    with session_scope() as session:
        request = resets.request_reset(
            session=session, actor=world.actor("sec_admin"), user_id=target.user_id,
            kind="second_factor",
        )  # fmt: skip
        request_id = request.id
    assert request_id is not None and row is None  # unconfirmed seeds do not count
    with session_scope() as session:
        assert (
            resets.confirm_reset(
                session=session, actor=world.actor("audit_admin"), request_id=request_id
            )
            == ""
        )
    signed_in = world.actor("sys_admin")
    assert signed_in.must_enrol_second_factor


def test_no_role_may_hold_the_duties_of_two_administrators(world: World) -> None:
    security = world.actor("sec_admin")
    # Neither permission is one of the old marker permissions: the whole set is compared.
    mixed = {("system.jobs", "execute"), ("iam.login_log", "read")}
    with pytest.raises(ValidationFailed, match="系统管理员、审计管理员"), session_scope() as s:
        role_service.create_role(
            session=s, actor=security, code="ops_watch", name="运维值守", category="系统",
            permissions=mixed,
        )  # fmt: skip
    with session_scope() as session:  # a built-in role cannot be widened across the line
        grants = authz.role_permissions(session, role_code="sec_admin")
    with pytest.raises(ValidationFailed, match="安全管理员、审计管理员"), session_scope() as s:
        role_service.set_permissions(
            session=s, actor=security, code="sec_admin",
            permissions=set(grants) | {("audit.logs", "export")},
        )  # fmt: skip
    with session_scope() as session:
        assert session.exec(select(Role).where(Role.code == "ops_watch")).first() is None
    logged = {entry.target for entry in _denials("u_sec_admin", "write")}
    assert {"ops_watch", "sec_admin"} <= logged  # a separation refusal is a logged denial


def test_a_copy_of_an_administrator_role_is_an_administrator_role(world: World) -> None:
    security = world.actor("sec_admin")
    with session_scope() as session:
        role_service.copy_role(
            session=session, actor=security, source="sys_admin", code="sys_copy", name="系统副本"
        )
    clerk_id = add_user("copy_target", "330000", ())
    with session_scope() as session:
        user_service.unlock_and_reset(session=session, actor=security, user_id=clerk_id)
    with pytest.raises(Forbidden, match="30 天内"):
        _grant(world, "sec_admin", clerk_id, "sys_copy")
    holder_id = add_user("copy_holder", "330000", ("sys_copy",))
    with pytest.raises(Forbidden), session_scope() as session:  # only 安全管理员 switches it
        user_service.set_status(
            session=session, actor=world.actor("sys_admin"), user_id=holder_id, enabled=False
        )
    with session_scope() as session:
        _, holder = service.authenticate(session=session, account="copy_holder", password=PASSWORD)
    assert holder.must_enrol_second_factor


def test_widening_a_role_may_not_mix_duties_in_its_holders(world: World) -> None:
    add_user("two_hats", "330000", ("audit_admin", "reviewer"))
    security = world.actor("sec_admin")
    with session_scope() as session:
        grants = authz.role_permissions(session, role_code="reviewer")
    with pytest.raises(ValidationFailed, match="持有该角色的用户"), session_scope() as s:
        role_service.set_permissions(
            session=s, actor=security, code="reviewer",
            permissions=set(grants) | {("tenancy.tenants", "write")},
        )  # fmt: skip
