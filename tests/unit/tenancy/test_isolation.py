"""A county's user never sees another county's rows; suspension blocks a tenant at once."""

from __future__ import annotations

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden, NotFound
from console.iam import service as auth
from console.iam import user_service
from console.tenancy import service as tenancy
from console.tenancy.models import TenantStatus
from tests.support.world import BINJIANG, PASSWORD, XIHU, World, add_user


def _accounts(actor, **query) -> set[str]:
    with session_scope() as session:
        page = user_service.list_users(
            session=session, actor=actor, query=user_service.UserQuery(**query)
        )
    return {row.account for row in page.items}


def test_county_admin_lists_only_own_county_users(world: World) -> None:
    xihu_users = _accounts(world.actor("county_admin"))
    assert "binjiang_admin" not in xihu_users
    assert "u_window_clerk" in xihu_users
    assert "u_sys_admin" not in xihu_users  # province account
    assert _accounts(world.actor("binjiang_admin")) == {"binjiang_admin"}


def test_filtering_by_another_county_returns_nothing(world: World) -> None:
    assert _accounts(world.actor("county_admin"), tenant_code=BINJIANG) == set()


def test_county_admin_cannot_read_edit_or_reveal_a_user_of_another_county(world: World) -> None:
    victim = add_user("bj_clerk", BINJIANG)
    actor = world.actor("county_admin")
    attempts = [
        lambda s: user_service.get_user(session=s, actor=actor, user_id=victim),
        lambda s: user_service.set_status(session=s, actor=actor, user_id=victim, enabled=False),
        lambda s: user_service.reveal(
            session=s, actor=actor, user_id=victim, field_name="phone", reason="越权尝试测试"
        ),
        lambda s: user_service.create_user(
            session=s,
            actor=actor,
            draft=user_service.UserDraft(account="sneaky", real_name="钱七", tenant_code=BINJIANG),
        ),
    ]
    for attempt in attempts:
        with pytest.raises((NotFound, Forbidden)), session_scope() as session:
            attempt(session)
    with session_scope() as session:
        logged = session.exec(
            select(OperationLog).where(
                OperationLog.actor_account == "u_county_admin",
                OperationLog.outcome == "denied",
                OperationLog.tenant_code == BINJIANG,
            )
        ).all()
    assert len(logged) == len(attempts)


def test_province_supervisor_sees_every_tenant_and_can_narrow_to_one(world: World) -> None:
    actor = world.actor("province_supervisor")
    with session_scope() as session:
        codes = {row.code for row in tenancy.list_tenants(session=session, actor=actor).items}
    assert {XIHU, BINJIANG, "330000"} <= codes
    with session_scope() as session:
        auth.set_context_tenant(session=session, actor=actor, tenant_code=XIHU)
    narrowed = world.actor("province_supervisor")  # a new login starts without context
    assert narrowed.context_tenant is None


def test_tenant_context_narrows_every_list(world: World) -> None:
    with session_scope() as session:
        _, actor = auth.authenticate(session=session, account="u_sys_admin", password=PASSWORD)
    with session_scope() as session:
        auth.set_context_tenant(session=session, actor=actor, tenant_code=BINJIANG)
    with session_scope() as session:
        token_actor = session.get(auth.LoginSession, actor.session_id)
        assert token_actor.context_tenant == BINJIANG
    from dataclasses import replace

    narrowed = replace(actor, context_tenant=BINJIANG)
    assert _accounts(narrowed) == {"binjiang_admin"}


def test_county_user_cannot_switch_into_another_county(world: World) -> None:
    actor = world.actor("county_admin")
    with pytest.raises(NotFound), session_scope() as session:
        auth.set_context_tenant(session=session, actor=actor, tenant_code=BINJIANG)


def test_suspending_a_tenant_refuses_its_users_at_once(world: World) -> None:
    with session_scope() as session:
        token, _ = auth.authenticate(session=session, account="binjiang_admin", password=PASSWORD)
    admin = world.actor("sys_admin")
    with session_scope() as session:
        tenancy.set_tenant_status(
            session=session,
            actor=admin,
            code=BINJIANG,
            status=TenantStatus.SUSPENDED,
            reason="整改",
        )
    with pytest.raises(AuthenticationFailed) as refused, session_scope() as session:
        auth.resolve_session(session=session, token=token)
    assert "租户已停用" in refused.value.message
    with pytest.raises(AuthenticationFailed), session_scope() as session:
        auth.authenticate(session=session, account="binjiang_admin", password=PASSWORD)
    with session_scope() as session:
        tenancy.set_tenant_status(
            session=session,
            actor=admin,
            code=BINJIANG,
            status=TenantStatus.ACTIVE,
            reason="整改完成",
        )
    assert world.actor("binjiang_admin").tenant_code == BINJIANG


def test_tenant_codes_are_checked_in_chinese(world: World) -> None:
    from console.core.errors import ValidationFailed

    admin = world.actor("sys_admin")
    for code, reason in [("33010", "6位数字"), ("320106", "属于本省"), ("330100", "区县级")]:
        with pytest.raises(ValidationFailed) as bad, session_scope() as session:
            tenancy.create_tenant(
                session=session,
                actor=admin,
                draft=tenancy.TenantDraft(code=code, name="某县"),
                division_problem=None,
            )
        assert bad.value.field == "租户代码" and reason in bad.value.message


def _grant_custom(world: World, code: str, tenant: str, permissions: set) -> None:
    from console.iam import role_service

    with session_scope() as session:
        role_service.create_role(
            session=session,
            actor=world.actor("sec_admin"),
            code=code,
            name="县级导出员",
            category="业务",
            permissions=permissions,
            tenant_code=tenant,
        )


def test_county_exports_contain_only_own_county_rows_and_stay_masked(world: World) -> None:
    from console.iam import org_service
    from console.iam.models import Organization

    _grant_custom(
        world,
        "xihu_exporter",
        XIHU,
        {("iam.users", "read"), ("iam.users", "export"), ("iam.organizations", "export")},
    )
    add_user("exporter", XIHU, ("xihu_exporter",))
    add_user("bj_person", BINJIANG, name="滨江人")
    with session_scope() as session:
        session.add(Organization(tenant_code=BINJIANG, name="滨江机构", kind="other"))
        session.add(Organization(tenant_code=XIHU, name="西湖机构", kind="other"))
    with session_scope() as session:
        _, exporter = auth.authenticate(session=session, account="exporter", password=PASSWORD)
    with session_scope() as session:
        users_csv, _ = user_service.export_users(session=session, actor=exporter)
        orgs_csv, _ = org_service.export_orgs(session=session, actor=exporter)
    assert (
        "exporter" in users_csv
        and "bj_person" not in users_csv
        and "binjiang_admin" not in users_csv
    )
    assert "李*" in users_csv and "李四" not in users_csv
    assert "西湖机构" in orgs_csv and "滨江机构" not in orgs_csv


def test_tenant_scoped_role_holds_only_in_its_tenant(world: World) -> None:
    from console.authz.service import can
    from console.core.errors import ValidationFailed

    _grant_custom(world, "xihu_reader", XIHU, {("dashboards.statistics", "read")})
    add_user("xihu_reader_user", XIHU, ("xihu_reader",))
    with session_scope() as session:
        _, actor = auth.authenticate(session=session, account="xihu_reader_user", password=PASSWORD)
    assert can(actor, "dashboards.statistics", "read")
    assert not can(actor, "dashboards.statistics", "read", tenant=BINJIANG)
    stranger = add_user("bj_stranger", BINJIANG)
    with pytest.raises(ValidationFailed) as refused, session_scope() as session:
        user_service.assign_roles(
            session=session,
            actor=world.actor("sec_admin"),
            user_id=stranger,
            roles=("xihu_reader",),
        )
    assert "只适用于其他租户" in refused.value.message


def test_province_user_switches_directly_from_one_county_to_another(world: World) -> None:
    from dataclasses import replace

    with session_scope() as session:
        _, actor = auth.authenticate(session=session, account="u_sys_admin", password=PASSWORD)
    with session_scope() as session:
        auth.set_context_tenant(session=session, actor=actor, tenant_code=XIHU)
    narrowed = replace(actor, context_tenant=XIHU)
    with session_scope() as session:
        auth.set_context_tenant(session=session, actor=narrowed, tenant_code=BINJIANG)
        assert session.get(auth.LoginSession, actor.session_id).context_tenant == BINJIANG


def test_editing_a_tenant_keeps_the_contact_left_blank(world: World) -> None:
    admin = world.actor("sys_admin")
    with session_scope() as session:
        tenancy.update_tenant(
            session=session,
            actor=admin,
            draft=tenancy.TenantDraft(
                code=XIHU, name="西湖区", contact_name="钱多多", contact_phone="13912345678"
            ),
        )
    with session_scope() as session:
        row = tenancy.update_tenant(
            session=session, actor=admin, draft=tenancy.TenantDraft(code=XIHU, name="杭州西湖区")
        )
    assert (row.name, row.contact_name, row.contact_phone) == ("杭州西湖区", "钱*多", "139****5678")
