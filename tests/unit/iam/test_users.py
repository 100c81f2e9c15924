"""Accounts: personal data protected at rest, three-admin separation, live permission changes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from console.audit.models import OperationLog
from console.authz.service import can
from console.core import db as core_db
from console.core.db import session_scope
from console.core.errors import Forbidden, ValidationFailed
from console.iam import role_service, user_service
from console.iam.user_service import UserDraft, UserQuery
from tests.support.world import XIHU, World

ID_NUMBER = "11010519491231002X"
NAME = "欧阳小明"
PHONE = "13812345678"


def _create(world: World, **extra) -> user_service.UserRow:
    actor = world.actor("sys_admin")
    draft = UserDraft(
        account="ouyang",
        real_name=NAME,
        tenant_code=XIHU,
        id_number=ID_NUMBER,
        phone=PHONE,
        **extra,
    )
    with session_scope() as session:
        row, password = user_service.create_user(session=session, actor=actor, draft=draft)
    assert password
    return row


def test_personal_data_is_encrypted_at_rest(world: World, seeded_db: str) -> None:
    _create(world)
    engine = core_db.engine_for(seeded_db)
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT * FROM iam_user WHERE account='ouyang'")).one()
    stored = " ".join(str(value) for value in row)
    for secret in (ID_NUMBER, NAME, PHONE, "欧阳", "12345678"):
        assert secret not in stored
    if seeded_db.startswith("sqlite"):
        engine.dispose()  # flush WAL so the file holds everything
        raw = open(seeded_db.removeprefix("sqlite:///"), "rb").read()  # noqa: SIM115
        for secret in (ID_NUMBER, NAME, PHONE):
            assert secret.encode("utf-8") not in raw


def test_lists_show_masked_values_and_search_by_exact_digest(world: World) -> None:
    row = _create(world)
    assert (row.real_name, row.id_number, row.phone) == (
        "欧**明",
        "110105********002X",
        "138****5678",
    )
    actor = world.actor("sys_admin")
    for keyword in (NAME, ID_NUMBER.lower(), PHONE, "ouyang"):
        with session_scope() as session:
            page = user_service.list_users(session=session, actor=actor, query=UserQuery(keyword))
        assert [r.account for r in page.items] == ["ouyang"], keyword
    with session_scope() as session:
        page = user_service.list_users(session=session, actor=actor, query=UserQuery("欧阳"))
    assert page.total == 0  # partial names are not searchable: only exact digests exist


def test_reveal_needs_a_reason_and_is_logged(world: World) -> None:
    row = _create(world)
    actor = world.actor("sys_admin")
    with pytest.raises(ValidationFailed) as bad, session_scope() as session:
        user_service.reveal(
            session=session, actor=actor, user_id=row.id, field_name="id_number", reason=""
        )
    assert bad.value.field == "查看原因"
    with session_scope() as session:
        value = user_service.reveal(
            session=session,
            actor=actor,
            user_id=row.id,
            field_name="id_number",
            reason="核对不动产权利人身份",
        )
    assert value == ID_NUMBER
    with session_scope() as session:
        entry = session.exec(select(OperationLog).where(OperationLog.action == "unmask")).one()
    assert "核对不动产权利人身份" in entry.detail and ID_NUMBER not in entry.detail


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("id_number", "110105194912310021", "第18位校验码应为X"),
        ("phone", "1381234", "11位手机号"),
        ("real_name", "李", "2 到 30 个字"),
        ("account", "9bad", "以字母开头"),
    ],
)
def test_bad_fields_are_named_with_a_reason(
    world: World, field: str, value: str, reason: str
) -> None:
    values = {"account": "goodname", "real_name": "王五", "tenant_code": XIHU, field: value}
    with pytest.raises(ValidationFailed) as bad, session_scope() as session:
        user_service.create_user(
            session=session, actor=world.actor("sys_admin"), draft=UserDraft(**values)
        )
    assert reason in bad.value.message


def test_no_user_may_hold_two_of_the_three_admin_roles(world: World) -> None:
    security = world.actor("sec_admin")
    target = _create(world)
    with pytest.raises(ValidationFailed) as refused, session_scope() as session:
        user_service.assign_roles(
            session=session, actor=security, user_id=target.id, roles=("sys_admin", "audit_admin")
        )
    assert "三员分立" in refused.value.message


def test_no_role_may_mix_the_three_admin_jobs(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused, session_scope() as session:
        role_service.create_role(
            session=session,
            actor=world.actor("sec_admin"),
            code="superman",
            name="超级角色",
            category="系统",
            permissions={("iam.users", "write"), ("audit.logs", "read")},
        )
    assert "三员分立" in refused.value.message


def test_system_admin_cannot_grant_roles_nor_read_logs(world: World) -> None:
    admin = world.actor("sys_admin")
    with pytest.raises(Forbidden), session_scope() as session:
        user_service.create_user(
            session=session,
            actor=admin,
            draft=UserDraft(
                account="withrole", real_name="孙八", tenant_code=XIHU, roles=("reviewer",)
            ),
        )
    assert not can(admin, "audit.logs", "read")
    assert can(world.actor("audit_admin"), "audit.logs", "read")


def test_permission_change_applies_at_the_next_action_without_relogin(world: World) -> None:
    clerk = world.actor("window_clerk")  # logged in once, kept
    assert not can(clerk, "dashboards.statistics", "read")
    security = world.actor("sec_admin")
    with session_scope() as session:
        current = role_service.authz.role_permissions(session, role_code="window_clerk")
        role_service.set_permissions(
            session=session,
            actor=security,
            code="window_clerk",
            permissions=current | {("dashboards.statistics", "read")},
        )
    assert can(clerk, "dashboards.statistics", "read")


def test_role_still_assigned_cannot_be_deleted(world: World) -> None:
    security = world.actor("sec_admin")
    with session_scope() as session:
        role_service.copy_role(
            session=session, actor=security, source="reviewer", code="reviewer2", name="复核员"
        )
    target = _create(world)
    with session_scope() as session:
        user_service.assign_roles(
            session=session, actor=security, user_id=target.id, roles=("reviewer2",)
        )
    with pytest.raises(ValidationFailed) as refused, session_scope() as session:
        role_service.delete_role(session=session, actor=security, code="reviewer2")
    assert "仍有 1 个用户持有该角色" in refused.value.message
    with session_scope() as session:
        user_service.assign_roles(session=session, actor=security, user_id=target.id, roles=())
    with session_scope() as session:
        role_service.delete_role(session=session, actor=security, code="reviewer2")


def test_effective_permissions_say_which_role_grants_what(world: World) -> None:
    target = _create(world)
    security = world.actor("sec_admin")
    with session_scope() as session:
        user_service.assign_roles(
            session=session,
            actor=security,
            user_id=target.id,
            roles=("reviewer", "county_supervisor"),
        )
    with session_scope() as session:
        verdicts = user_service.effective_permissions(
            session=session, actor=security, user_id=target.id
        )
    by_key = {(v.obj, v.act): v for v in verdicts}
    assert by_key[("dashboards.statistics", "read")].via == ["县级监管员", "审核员"]
    assert by_key[("dashboards.statistics", "export")].via == ["县级监管员"]
    assert not by_key[("iam.users", "write")].allowed


def test_editing_keeps_blank_fields_and_re_encrypts_changed_ones(world: World) -> None:
    row = _create(world)
    admin = world.actor("sys_admin")
    with session_scope() as session:
        edited = user_service.update_user(
            session=session,
            actor=admin,
            user_id=row.id,
            patch=user_service.UserPatch(phone="13900002222", post="审核岗"),
        )
    assert (edited.phone, edited.id_number, edited.real_name) == (
        "139****2222",
        "110105********002X",
        "欧**明",
    )
    with session_scope() as session:
        found = user_service.list_users(
            session=session, actor=admin, query=UserQuery("13900002222")
        ).items
        old = user_service.list_users(session=session, actor=admin, query=UserQuery(PHONE)).items
    assert [r.account for r in found] == ["ouyang"] and old == []


def test_bulk_disable_is_all_or_nothing_across_tenants(world: World) -> None:
    from console.core.errors import NotFound
    from tests.support.world import BINJIANG, add_user

    mine = [add_user(f"bulk{i}", XIHU) for i in range(3)]
    foreign = add_user("bulk_bj", BINJIANG)
    county = world.actor("county_admin")
    with pytest.raises(NotFound), session_scope() as session:
        user_service.set_status_many(
            session=session, actor=county, user_ids=[*mine, foreign], enabled=False
        )
    with session_scope() as session:
        statuses = {
            r.account: r.status
            for r in user_service.list_users(
                session=session, actor=county, query=UserQuery("bulk")
            ).items
        }
    assert set(statuses.values()) == {"active"}
    with session_scope() as session:
        user_service.set_status_many(session=session, actor=county, user_ids=mine, enabled=False)
    with session_scope() as session:
        statuses = {
            r.account: r.status
            for r in user_service.list_users(
                session=session, actor=county, query=UserQuery("bulk")
            ).items
        }
    assert statuses == {"bulk0": "disabled", "bulk1": "disabled", "bulk2": "disabled"}


def test_security_admin_unlocks_a_locked_account_with_a_new_one_time_password(
    world: World,
) -> None:
    from console.core.errors import AuthenticationFailed
    from console.iam import service as auth
    from tests.support.world import PASSWORD

    for _ in range(5):
        with pytest.raises(AuthenticationFailed), session_scope() as session:
            auth.authenticate(session=session, account="u_reviewer", password="wrong")
    with pytest.raises(AuthenticationFailed) as locked, session_scope() as session:
        auth.authenticate(session=session, account="u_reviewer", password=PASSWORD)
    assert locked.value.message == auth.BAD_CREDENTIALS  # the lock is not confirmed
    with session_scope() as session:
        target = session.exec(
            select(user_service.User).where(user_service.User.account == "u_reviewer")
        ).one()
        rows = user_service.list_users(
            session=session, actor=world.actor("sec_admin"), query=UserQuery(status="locked")
        ).items
    assert [r.account for r in rows] == ["u_reviewer"]
    with session_scope() as session:
        fresh = user_service.unlock_and_reset(
            session=session, actor=world.actor("sec_admin"), user_id=target.id
        )
    with session_scope() as session:
        _, actor = auth.authenticate(session=session, account="u_reviewer", password=fresh)
    assert actor.must_change_password


def test_security_admin_cannot_grow_own_powers_or_take_over_another_admin(world: World) -> None:
    from console.authz import service as authz
    from console.iam.models import Role

    security = world.actor("sec_admin")
    with pytest.raises(Forbidden) as own, session_scope() as session:
        user_service.assign_roles(
            session=session,
            actor=security,
            user_id=security.user_id,
            roles=("sec_admin", "province_supervisor"),
        )
    assert "不能给自己授予管理员角色" in own.value.message
    admin_id = world.actor("sys_admin").user_id
    with pytest.raises(ValidationFailed) as takeover, session_scope() as session:
        user_service.unlock_and_reset(session=session, actor=security, user_id=admin_id)
    assert "另一名管理员确认" in takeover.value.message
    with session_scope() as session:
        session.add(Role(code="log_reader", name="日志查看", category="业务"))
        authz.set_role_permissions(
            session, role_code="log_reader", permissions={("audit.logs", "read")}
        )
    target = _create(world)
    with pytest.raises(ValidationFailed) as mixed, session_scope() as session:
        user_service.assign_roles(
            session=session, actor=security, user_id=target.id, roles=("sec_admin", "log_reader")
        )
    assert "三员分立：同一用户" in mixed.value.message


def test_a_pending_password_change_is_enforced_on_the_server(world: World) -> None:
    from console.core.errors import AuthenticationFailed
    from console.iam import service as auth
    from console.ui.actions import run_as
    from tests.support.world import PASSWORD

    with session_scope() as session:
        user = session.exec(
            select(user_service.User).where(user_service.User.account == "u_reviewer")
        ).one()
        user.must_change_password = True
        session.add(user)
    with session_scope() as session:
        token, _ = auth.authenticate(session=session, account="u_reviewer", password=PASSWORD)
    with pytest.raises(AuthenticationFailed) as refused:
        run_as(token, lambda s, a: user_service.list_users(session=s, actor=a))
    assert "修改密码" in refused.value.message


def test_wildcards_typed_in_the_search_box_are_taken_literally(world: World) -> None:
    from tests.support.world import add_user

    add_user("axb_user", XIHU)
    add_user("a_b_user", XIHU)
    with session_scope() as session:
        found = user_service.list_users(
            session=session, actor=world.actor("sys_admin"), query=UserQuery("a_b")
        ).items
        everything = user_service.list_users(
            session=session, actor=world.actor("sys_admin"), query=UserQuery("%")
        ).items
    assert [r.account for r in found] == ["a_b_user"]
    assert everything == []
