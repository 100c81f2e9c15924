"""User categories: applicants, staff and sharing-department contacts, synced and listed apart."""

from __future__ import annotations

import pytest
from sqlmodel import select

from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, ValidationFailed
from console.iam import service, user_service
from console.iam.models import LoginEvent, User
from console.iam.sync_service import sync_users
from console.iam.user_service import UserQuery
from tests.support.world import BINJIANG, PASSWORD, PASSWORD_HASH, XIHU, World

APPLICANT = {
    "account": "sq_zhangsan",
    "real_name": "张三",
    "tenant_code": XIHU,
    "id_number": "11010519491231002X",
    "phone": "13600001234",
    "category": "申请人",
}
CONTACT = {
    "account": "gx_tax",
    "real_name": "王税",
    "tenant_code": XIHU,
    "phone": "13600005678",
    "category": "sharing_contact",
}


def _sync(world: World, records: list[dict]):
    with session_scope() as session:
        return sync_users(session=session, actor=world.actor("sys_admin"), records=records)


def _listed(world: World, category: str | None, actor: str = "sys_admin") -> list[tuple[str, str]]:
    with session_scope() as session:
        page = user_service.list_users(
            session=session, actor=world.actor(actor), query=UserQuery(category=category)
        )
    return [(r.account, r.category_label) for r in page.items]


def test_the_sync_takes_every_category_by_code_or_label_and_refuses_others(world: World) -> None:
    report = _sync(
        world,
        [APPLICANT, CONTACT, {**CONTACT, "account": "gx_bad", "category": "访客"}],
    )
    assert [(o.account, o.outcome) for o in report.outcomes] == [
        ("sq_zhangsan", "created"),
        ("gx_tax", "created"),
        ("gx_bad", "rejected"),
    ]
    assert report.outcomes[2].reason.startswith(
        "category：应为 staff（业务人员）、applicant（申请人）"
    )
    assert _listed(world, "applicant") == [("sq_zhangsan", "申请人")]
    assert _listed(world, "sharing_contact") == [("gx_tax", "共享部门联系人")]
    assert ("sq_zhangsan", "申请人") not in _listed(world, "staff")
    again = _sync(world, [APPLICANT, {**CONTACT, "category": "共享部门"}])
    assert [o.outcome for o in again.outcomes] == ["unchanged", "unchanged"]


def test_an_account_holding_roles_cannot_become_an_applicant(world: World) -> None:
    clerk = world.accounts["window_clerk"]
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == clerk)).one()
        tenant = user.tenant_code
    report = _sync(
        world,
        [{"account": clerk, "real_name": "窗口", "tenant_code": tenant, "category": "applicant"}],
    )
    assert report.outcomes[0].outcome == "rejected"
    assert "账号持有角色，不能改为申请人" in report.outcomes[0].reason


def test_an_applicant_never_signs_in_even_with_a_password(world: World) -> None:
    _sync(world, [APPLICANT])
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "sq_zhangsan")).one()
        user.password_hash, user.must_change_password = PASSWORD_HASH, False
        session.add(user)
    with pytest.raises(AuthenticationFailed) as refused, session_scope() as session:
        service.authenticate(session=session, account="sq_zhangsan", password=PASSWORD)
    assert refused.value.message.startswith("账号或密码错误")  # as for a made-up account
    with session_scope() as session:
        notes = session.exec(
            select(LoginEvent.reason).where(LoginEvent.account == "sq_zhangsan")
        ).all()
    assert "申请人账号不能登录控制台" in notes


def test_a_county_sees_only_its_own_applicants(world: World) -> None:
    _sync(world, [APPLICANT, {**APPLICANT, "account": "sq_lisi", "tenant_code": BINJIANG}])
    assert _listed(world, "applicant", actor="county_admin") == [("sq_zhangsan", "申请人")]
    with session_scope() as session:
        text, _ = user_service.export_users(
            session=session, actor=world.actor("sys_admin"), query=UserQuery(category="applicant")
        )
    lines = text.strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("账号,类别,姓名")
    assert len(lines) == 3 and all(",申请人," in line for line in lines[1:])
    assert "11010519491231002X" not in text  # masked in exports too


def test_an_applicant_is_given_no_roles_later_either(world: World) -> None:
    _sync(world, [APPLICANT])
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "sq_zhangsan")).one()
    with pytest.raises(ValidationFailed) as refused, session_scope() as session:
        user_service.assign_roles(
            session=session,
            actor=world.actor("sec_admin"),
            user_id=user.id,
            roles=("window_clerk",),
        )
    assert refused.value.message == "申请人不登录控制台，不能授予角色"
