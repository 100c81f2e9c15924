"""一体化平台 sync: idempotent, record by record, never touching local roles."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.authz import service as authz
from console.core.actor import Actor
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden, ValidationFailed
from console.iam import user_service
from console.iam.models import PersonalToken, User
from console.iam.sync_service import parse_records, sync_users, sync_users_from_platform
from console.iam.token_service import create_token_for_account
from console.interfaces.key_service import create_key, revoke_key, verify_key
from console.tenancy.scope import Scope
from tests.support.world import BINJIANG, XIHU, World

GOOD = {
    "account": "zw_liming",
    "real_name": "李明",
    "tenant_code": XIHU,
    "id_number": "11010519491231002X",
    "phone": "13600001234",
    "post": "窗口",
}


def _sync(world: World, records: list[dict], actor_key: str = "sys_admin"):
    with session_scope() as session:
        return sync_users(session=session, actor=world.actor(actor_key), records=records)


def test_batch_keeps_good_records_and_reports_each_bad_one(world: World) -> None:
    bad_id = {**GOOD, "account": "zw_bad", "id_number": "110105194912310021"}
    no_name = {**GOOD, "account": "zw_noname", "real_name": ""}
    report = _sync(world, [GOOD, bad_id, no_name])
    assert [(o.line, o.outcome) for o in report.outcomes] == [
        (1, "created"),
        (2, "rejected"),
        (3, "rejected"),
    ]
    assert "第18位校验码应为X" in report.outcomes[1].reason
    assert "姓名" in report.outcomes[2].reason
    with session_scope() as session:
        accounts = set(session.exec(select(User.account)).all())
    assert "zw_liming" in accounts and not {"zw_bad", "zw_noname"} & accounts


def test_sync_is_idempotent_updates_disables_and_keeps_local_roles(world: World) -> None:
    _sync(world, [GOOD])
    assert _sync(world, [GOOD]).outcomes[0].outcome == "unchanged"
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "zw_liming")).one()
        authz.set_user_roles(session, user_id=user.id, roles=[("window_clerk", XIHU)])
    moved = _sync(world, [{**GOOD, "phone": "13600009999"}])
    assert moved.outcomes[0].outcome == "updated"
    gone = _sync(world, [{**GOOD, "phone": "13600009999", "status": "disabled"}])
    assert gone.outcomes[0].outcome == "disabled"
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "zw_liming")).one()
        assert user.status == "disabled"
        assert set(authz.user_roles(session, user_id=user.id)) == {"window_clerk"}


def test_county_admin_cannot_sync_into_another_county(world: World) -> None:
    report = _sync(world, [{**GOOD, "tenant_code": BINJIANG}], actor_key="county_admin")
    assert report.outcomes[0].outcome == "rejected"
    assert "不在您的数据范围内" in report.outcomes[0].reason


def test_sync_needs_the_user_write_permission(world: World) -> None:
    with pytest.raises(Forbidden):
        _sync(world, [GOOD], actor_key="audit_admin")


def test_csv_and_json_files_are_parsed_and_bad_files_named() -> None:
    csv_bytes = "account,real_name,tenant_code\nzw_a,王一,330106\n".encode("utf-8-sig")
    assert parse_records(csv_bytes, "users.csv") == [
        {"account": "zw_a", "real_name": "王一", "tenant_code": "330106"}
    ]
    assert (
        parse_records(json.dumps({"records": [GOOD]}).encode(), "u.json")[0]["account"]
        == "zw_liming"
    )
    with pytest.raises(ValidationFailed) as bad:
        parse_records(b"name\nx\n", "users.csv")
    assert "缺少列" in bad.value.message


def test_a_platform_batch_touches_only_the_tenants_it_is_scoped_to(world: World) -> None:
    # The API checks the key and hands IAM its principal and tenants (tests/unit/api).
    pushed_by = Actor(
        user_id=0, account="apikey:k330106", display_name="一体化平台", tenant_code=XIHU,
        session_id=0,
    )  # fmt: skip
    with session_scope() as session:
        report = sync_users_from_platform(
            session=session,
            actor=pushed_by,
            scope=Scope(all_tenants=False, codes=frozenset({XIHU})),
            records=[GOOD, {**GOOD, "account": "zw_bj", "tenant_code": BINJIANG}],
        )
    assert [o.outcome for o in report.outcomes] == ["created", "rejected"]
    with session_scope() as session:
        logged = session.exec(
            select(OperationLog).where(
                OperationLog.actor_account == "apikey:k330106", OperationLog.action == "sync"
            )
        ).all()
    assert len(logged) == 1


def test_keys_verify_only_with_the_right_secret_and_until_revoked(seeded_db: str) -> None:
    with session_scope() as session:
        presented = create_key(
            session, name="登记系统", tenant_code="330000", scopes={"iam.sync"}, created_by="test"
        )
    with session_scope() as session:
        assert verify_key(session, presented).scope_set == {"iam.sync"}
    with pytest.raises(AuthenticationFailed), session_scope() as session:
        verify_key(session, presented[:-1] + ("A" if presented[-1] != "A" else "B"))
    with session_scope() as session:
        revoke_key(session, key_id=presented.split("_")[1])
    with pytest.raises(AuthenticationFailed) as refused, session_scope() as session:
        verify_key(session, presented)
    assert refused.value.message == "接入密钥已吊销"


def test_missing_cells_and_nulls_are_empty_not_the_text_none(world: World) -> None:
    short_csv = "account,real_name,tenant_code,phone\nzw_short,王短,330106\n".encode()
    rows = parse_records(short_csv, "short.csv")
    assert rows == [
        {"account": "zw_short", "real_name": "王短", "tenant_code": "330106", "phone": ""}
    ]
    report = _sync(world, [*rows, {**GOOD, "account": "zw_null", "phone": None}])
    assert [o.outcome for o in report.outcomes] == ["created", "created"]


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"\xff\xfe\x00bad", "x.csv", "UTF-8"),
        (b"{not json", "x.json", "JSON 格式错误"),
        (b'{"records": [1, 2]}', "x.json", "记录数组"),
    ],
)
def test_unreadable_files_are_refused_in_chinese(content: bytes, name: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as bad:
        parse_records(content, name)
    assert reason in bad.value.message


def _synced_clerk(world: World) -> None:
    _sync(world, [GOOD])
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "zw_liming")).one()
        authz.set_user_roles(session, user_id=user.id, roles=[("window_clerk", XIHU)])


def test_a_sync_that_disables_an_account_revokes_its_tokens(world: World) -> None:
    _synced_clerk(world)
    with session_scope() as session:
        token = create_token_for_account(session, account="zw_liming", name="脚本", days=30)
    assert token
    _sync(world, [{**GOOD, "status": "disabled"}])
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "zw_liming")).one()
        live = session.exec(
            select(PersonalToken).where(
                PersonalToken.user_id == user.id, PersonalToken.revoked_at.is_(None)
            )
        ).all()
    assert live == []


def test_a_sync_neither_disables_nor_enables_an_administrator(world: World) -> None:
    row = {**GOOD, "account": "u_audit_admin", "tenant_code": "330000", "status": "disabled"}
    report = _sync(world, [row])
    assert report.outcomes[0].outcome == "rejected"
    assert "安全管理员" in report.outcomes[0].reason
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "u_audit_admin")).one()
        assert user.status == "active"


@pytest.mark.parametrize("how", ["by_hand", "idle"])
def test_a_sync_does_not_enable_an_account_disabled_here(world: World, how: str) -> None:
    _synced_clerk(world)
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "zw_liming")).one()
        if how == "idle":
            user.status, user.disabled_reason = "disabled", "inactive"
            session.add(user)
        else:
            user_service.set_status(
                session=session, actor=world.actor("sys_admin"), user_id=user.id, enabled=False
            )
    _sync(world, [{**GOOD, "status": "active"}])
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "zw_liming")).one()
        assert user.status == "disabled"
    # One the platform disabled, the platform may enable again.
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == "zw_liming")).one()
        user.disabled_reason = "sync"
        session.add(user)
    _sync(world, [{**GOOD, "status": "active"}])
    with session_scope() as session:
        assert session.exec(select(User).where(User.account == "zw_liming")).one().status == (
            "active"
        )
