"""API keys from the page (issue, rotate, revoke, scope) and the channel state machine."""

from __future__ import annotations

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden, NotFound, ValidationFailed
from console.dictionaries.seed import load_seed
from console.iam.models import Organization
from console.interfaces import channel_service, key_service
from console.interfaces.models import Channel, ChannelCounter
from tests.support.world import BINJIANG, XIHU, World


@pytest.fixture
def bank(world: World) -> int:
    """A 西湖区 bank (and the business-code dictionary its channel is checked against)."""
    with session_scope() as session:
        load_seed(session)
        org = Organization(tenant_code=XIHU, name="西湖测试银行", kind="bank")
        session.add(org)
        session.flush()
        assert org.id is not None
        return org.id


def _draft(org_id: int, *codes: str) -> channel_service.ChannelDraft:
    return channel_service.ChannelDraft(
        org_id=org_id, business_codes=codes or ("9000101",), interface_codes=()
    )


def test_an_issued_key_is_shown_once_rotated_with_grace_and_revoked(world: World) -> None:
    admin = world.actor("sys_admin")
    draft = key_service.KeyDraft("西湖登记系统", XIHU, frozenset({"logs.case_event"}))
    with session_scope() as session:
        presented = key_service.issue_key(session=session, actor=admin, draft=draft)
    key_id = presented.split("_")[1]
    with session_scope() as session:
        rotated = key_service.rotate_key(session=session, actor=admin, key_id=key_id)
        row = key_service.list_keys(session=session, actor=admin, search="西湖登记").items
    assert {r.key_id for r in row} == {key_id, rotated.split("_")[1]}
    old = next(r for r in row if r.key_id == key_id)
    assert old.status.startswith("宽限期至") and old.replaced_by == rotated.split("_")[1]
    assert presented not in repr(row) and rotated not in repr(row)  # secrets are never listed
    with session_scope() as session:
        key_service.verify_key(session, presented)  # still valid within the grace period
        with pytest.raises(ValidationFailed, match="不能再轮换"):
            key_service.rotate_key(session=session, actor=admin, key_id=key_id)
    with session_scope() as session:
        key_service.revoke(session=session, actor=admin, key_id=rotated.split("_")[1])
    with pytest.raises(AuthenticationFailed, match="已吊销"), session_scope() as session:
        key_service.verify_key(session, rotated)
    with session_scope() as session:
        actions = session.exec(
            select(OperationLog.action).where(OperationLog.object == "interfaces.keys")
        ).all()
    assert actions == ["create", "rotate", "revoke"]


def test_keys_stay_inside_their_tenant_and_need_the_permission(world: World) -> None:
    admin = world.actor("sys_admin")
    with session_scope() as session:
        presented = key_service.issue_key(
            session=session,
            actor=admin,
            draft=key_service.KeyDraft("滨江系统", BINJIANG, frozenset({"iam.sync"})),
        )
    county = world.actor("county_admin")
    with session_scope() as session:
        assert key_service.list_keys(session=session, actor=county).items == []
    with pytest.raises((NotFound, Forbidden)), session_scope() as session:
        key_service.revoke(session=session, actor=county, key_id=presented.split("_")[1])
    auditor = world.actor("audit_admin")
    with pytest.raises(Forbidden), session_scope() as session:
        key_service.list_keys(session=session, actor=auditor)
    with pytest.raises(ValidationFailed, match="范围"), session_scope() as session:
        key_service.issue_key(
            session=session,
            actor=admin,
            draft=key_service.KeyDraft("坏范围", XIHU, frozenset({"everything"})),
        )


def test_channel_states_need_reasons_and_reopening_needs_a_rectification_note(
    world: World, bank: int
) -> None:
    admin = world.actor("sys_admin")
    with session_scope() as session:
        row = channel_service.create_channel(session=session, actor=admin, draft=_draft(bank))
    with pytest.raises(ValidationFailed, match="原因"), session_scope() as session:
        channel_service.change_state(
            session=session, actor=admin, channel_id=row.id, to_state="closed", reason=""
        )
    with session_scope() as session:
        channel_service.change_state(
            session=session, actor=admin, channel_id=row.id, to_state="closed", reason="违规收费"
        )
    with pytest.raises(ValidationFailed, match="整改"), session_scope() as session:
        channel_service.change_state(
            session=session, actor=admin, channel_id=row.id, to_state="open", reason="恢复"
        )
    with session_scope() as session:
        channel_service.change_state(
            session=session,
            actor=admin,
            channel_id=row.id,
            to_state="probation",
            reason="恢复观察",
            rectification="已退还多收费用并整改内部流程",
        )
        history = channel_service.channel_history(session=session, actor=admin, channel_id=row.id)
        channel = session.get(Channel, row.id)
    assert [h.change for h in history[:2]] == ["关闭 → 限流观察", "开通 → 关闭"]
    assert history[0].rectification == "已退还多收费用并整改内部流程"
    assert channel is not None and channel_service.rate_limit_of(channel) == 60


def test_only_institutions_get_channels_with_known_business_codes(world: World, bank: int) -> None:
    admin = world.actor("sys_admin")
    with pytest.raises(ValidationFailed, match="业务代码 1234567"), session_scope() as session:
        channel_service.create_channel(session=session, actor=admin, draft=_draft(bank, "1234567"))
    with session_scope() as session:
        registry = Organization(tenant_code=XIHU, name="西湖登记中心", kind="registry")
        session.add(registry)
        session.flush()
        registry_id = registry.id
    with pytest.raises(ValidationFailed, match="可以开通直连通道"), session_scope() as session:
        channel_service.create_channel(session=session, actor=admin, draft=_draft(registry_id))


def test_counties_see_and_decide_only_their_own_channels(world: World, bank: int) -> None:
    admin = world.actor("sys_admin")
    with session_scope() as session:
        row = channel_service.create_channel(session=session, actor=admin, draft=_draft(bank))
        channel = session.get(Channel, row.id)
        assert channel is not None
        channel_service.count_call(session, channel=channel)
        channel_service.count_call(session, channel=channel, refusal="机构通道未开通业务 2000402")
    binjiang = world.actor("binjiang_admin")
    with session_scope() as session:
        assert channel_service.list_channels(session=session, actor=binjiang).items == []
        mine = channel_service.list_channels(session=session, actor=admin).items
        counters = session.exec(select(ChannelCounter)).all()
    assert (mine[0].calls, mine[0].refusals, mine[0].refusal_rate) == (2, 1, "50.0%")
    assert [(c.calls, c.refusals) for c in counters] == [(2, 1)]
    with pytest.raises((NotFound, Forbidden)), session_scope() as session:
        channel_service.change_state(
            session=session, actor=binjiang, channel_id=row.id, to_state="closed", reason="越权"
        )


def test_a_page_issued_key_obeys_its_organisations_channel_and_senders_stay_apart(
    world: World, bank: int
) -> None:
    admin = world.actor("sys_admin")
    with session_scope() as session:
        bank_key = key_service.issue_key(
            session=session,
            actor=admin,
            draft=key_service.KeyDraft("银行", XIHU, frozenset({"logs.case_event"}), org_id=bank),
        )
        first = key_service.issue_key(
            session=session,
            actor=admin,
            draft=key_service.KeyDraft("登记系统", XIHU, frozenset({"logs.case_event"})),
        )
        second = key_service.issue_key(
            session=session,
            actor=admin,
            draft=key_service.KeyDraft("登记系统", XIHU, frozenset({"logs.case_event"})),
        )
    with session_scope() as session:  # the channel opens after the key was issued
        row = channel_service.create_channel(session=session, actor=admin, draft=_draft(bank))
        rotated = key_service.rotate_key(session=session, actor=admin, key_id=first.split("_")[1])
    with session_scope() as session:
        keys = {p: key_service.verify_key(session, p) for p in (bank_key, first, second, rotated)}
        assert key_service.channel_of(session, keys[bank_key]).id == row.id
        senders = {p: key_service.sender_of(session, k) for p, k in keys.items()}
    assert senders[first] == senders[rotated] != senders[second]
