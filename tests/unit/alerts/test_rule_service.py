"""告警规则 and 通知渠道 as the page saves them: scope, parameters, secrets, the allow-list."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from console.alerts import channel_service, rule_service
from console.alerts.delivery import NOT_LISTED
from console.alerts.models import AlertRule, NotifyChannel
from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import NotFound, ValidationFailed
from console.core.outbound import OutboundPolicy
from tests.support.world import BINJIANG, XIHU, World

LOOPBACK = OutboundPolicy.parse("127.0.0.1")
DOCS_NET = OutboundPolicy.parse("203.0.113.0/24")
TOKEN = "tok-Secret-0123456789"
SIGNING = "SEC" + "ab" * 32
MOBILE = "13812345678"


def _rule(tenant: str, **changes: object) -> rule_service.RuleDraft:
    base: dict[str, object] = {
        "name": "公安核验成功率", "kind": "interface_health", "tenant_code": tenant,
        "params": {"interface": "", "minutes": "10", "min_success": "90", "p95_ms": "0",
                   "min_calls": "20"},
    }  # fmt: skip
    return rule_service.RuleDraft(**{**base, **changes})  # type: ignore[arg-type]


def _mail_channel(world: World, account: str, tenant: str, name: str) -> int:
    draft = channel_service.ChannelDraft(
        name=name, kind="email", tenant_code=tenant,
        config={"host": "203.0.113.5", "port": "25", "security": "none",
                "sender": "ops@example.gov.cn"},
        recipients=("duty@example.gov.cn",),
    )  # fmt: skip
    with session_scope() as session:
        row = channel_service.save_channel(
            session=session, actor=world.actor(account), draft=draft, policy=DOCS_NET
        )
    return row.id


def _robot(**config: str) -> channel_service.ChannelDraft:
    webhook = f"http://127.0.0.1:9/robot/send?access_token={TOKEN}"
    return channel_service.ChannelDraft(
        name="值班钉钉群", kind="dingtalk",
        config={"webhook": webhook, "secret": SIGNING, **config}, recipients=(MOBILE,),
    )  # fmt: skip


def test_a_county_administrator_keeps_to_their_county(province: World) -> None:
    county = province.actor("county_admin")  # 西湖区
    with session_scope() as session, pytest.raises(ValidationFailed) as refused:
        rule_service.save_rule(session=session, actor=county, draft=_rule(""))
    assert refused.value.field == "适用范围"

    theirs = _mail_channel(province, "binjiang_admin", BINJIANG, "滨江值班邮箱")
    own = _mail_channel(province, "county_admin", XIHU, "西湖值班邮箱")
    for field, draft in (
        ("通知渠道", _rule(XIHU, channel_ids=(theirs,))),
        ("升级通知渠道", _rule(XIHU, escalate_minutes="30", escalate_channel_ids=(theirs,))),
    ):
        with session_scope() as session, pytest.raises(ValidationFailed) as refused:
            rule_service.save_rule(session=session, actor=county, draft=draft)
        assert refused.value.field == field
        assert "本区县" in refused.value.message

    with session_scope() as session:
        saved = rule_service.save_rule(
            session=session, actor=county, draft=_rule(XIHU, channel_ids=(own,))
        )
    assert saved.channels == "西湖值班邮箱"
    with session_scope() as session:
        seen = rule_service.list_rules(session=session, actor=county)
        others = rule_service.list_rules(session=session, actor=province.actor("binjiang_admin"))
    assert [r.name for r in seen] == ["公安核验成功率"]  # no province rule, built-in or not
    assert others == []


def test_an_impossible_parameter_is_refused_naming_the_field(province: World) -> None:
    draft = _rule("", params={**_rule("").params, "min_success": "150"})
    assert rule_service.rule_problems(draft) == {"成功率下限": "应在 0 到 100% 之间"}
    with session_scope() as session, pytest.raises(ValidationFailed) as refused:
        rule_service.save_rule(session=session, actor=province.actor("sys_admin"), draft=draft)
    assert refused.value.field == "成功率下限"


def test_channel_secrets_and_recipients_are_stored_encrypted_and_never_listed(
    province: World,
) -> None:
    admin = province.actor("sys_admin")
    with session_scope() as session:
        saved = channel_service.save_channel(
            session=session, actor=admin, draft=_robot(), policy=LOOPBACK
        )
    with session_scope() as session:
        raw = session.get(NotifyChannel, saved.id)
        assert raw is not None
        stored = f"{raw.config} {raw.secret_enc} {raw.recipients_enc}"
        config, recipients = channel_service.opened(raw)
    for secret in (TOKEN, SIGNING, MOBILE):
        assert secret not in stored
    assert (config["secret"], recipients) == (SIGNING, [MOBILE])

    with session_scope() as session:
        listed = channel_service.list_channels(session=session, actor=admin)
    assert [(c.secrets_set, c.recipients) for c in listed] == [
        (["secret", "webhook"], "138****5678")
    ]
    for secret in (TOKEN, SIGNING, MOBILE):
        assert secret not in repr(listed)

    # The form sends blanks for what it never showed: the stored secrets and recipients stay.
    kept = _robot(webhook="", secret="")
    kept = channel_service.ChannelDraft(
        **{**kept.__dict__, "recipients": (), "keep_recipients": True}
    )
    with session_scope() as session:
        channel_service.save_channel(
            session=session, actor=admin, draft=kept, policy=LOOPBACK, channel_id=saved.id
        )
        raw = session.get(NotifyChannel, saved.id)
        assert raw is not None
        assert channel_service.opened(raw) == (config, [MOBILE])


def test_a_webhook_to_cloud_metadata_is_refused_naming_the_field(province: World) -> None:
    hostile = _robot(webhook="https://169.254.169.254/robot/send?access_token=x")
    with session_scope() as session, pytest.raises(ValidationFailed) as refused:
        channel_service.save_channel(
            session=session, actor=province.actor("sys_admin"), draft=hostile, policy=LOOPBACK
        )
    assert (refused.value.field, refused.value.message) == ("Webhook 地址", NOT_LISTED)
    with session_scope() as session:
        assert session.exec(select(NotifyChannel)).all() == []


def test_the_page_learns_rights_and_scopes(province: World) -> None:
    county, auditor = province.actor("county_admin"), province.actor("audit_admin")
    assert rule_service.permissions(county) == dict.fromkeys(
        ("read", "write", "delete", "execute"), True
    )
    assert not any(rule_service.permissions(auditor).values())
    with session_scope() as session:
        everywhere = rule_service.scope_choices(session=session, actor=province.actor("sys_admin"))
        own = rule_service.scope_choices(session=session, actor=county)
    assert everywhere[0] == ("", "全省")
    assert {XIHU, BINJIANG} <= {code for code, _ in everywhere}
    assert own == [(XIHU, "西湖区")]


def test_a_built_in_rule_is_disabled_but_not_deleted(province: World) -> None:
    admin = province.actor("sys_admin")
    with session_scope() as session:
        builtin = session.exec(select(AlertRule).where(AlertRule.builtin)).first()
        assert builtin is not None
        rule_id, name = builtin.id or 0, builtin.name
    with session_scope() as session, pytest.raises(NotFound):
        rule_service.set_rule_enabled(
            session=session, actor=province.actor("county_admin"), rule_id=rule_id, enabled=True
        )
    with session_scope() as session:
        rule_service.set_rule_enabled(session=session, actor=admin, rule_id=rule_id, enabled=True)
    with session_scope() as session, pytest.raises(ValidationFailed) as refused:
        rule_service.delete_rule(session=session, actor=admin, rule_id=rule_id)
    assert "删除" in refused.value.message
    with session_scope() as session:
        rule = session.get(AlertRule, rule_id)
        assert rule is not None and rule.enabled and rule.name == name
        logged = session.exec(select(OperationLog.action).where(OperationLog.target == name)).all()
    assert "enable_rule" in logged


def test_a_deleted_rule_is_gone_from_the_list_and_frees_its_channels(province: World) -> None:
    admin = province.actor("sys_admin")
    channel = _mail_channel(province, "sys_admin", XIHU, "西湖值班邮箱")
    with session_scope() as session:
        rule = rule_service.save_rule(
            session=session, actor=admin, draft=_rule(XIHU, channel_ids=(channel,))
        )
    with session_scope() as session, pytest.raises(ValidationFailed, match="规则仍在使用该渠道"):
        channel_service.delete_channel(session=session, actor=admin, channel_id=channel)
    with session_scope() as session:
        rule_service.delete_rule(session=session, actor=admin, rule_id=rule.id)
    with session_scope() as session:
        assert rule.id not in {r.id for r in rule_service.list_rules(session=session, actor=admin)}
        channel_service.delete_channel(session=session, actor=admin, channel_id=channel)
    with session_scope() as session:
        listed = channel_service.list_channels(session=session, actor=admin)
        assert channel not in {c.id for c in listed}
        with pytest.raises(NotFound):
            rule_service.set_rule_enabled(session=session, actor=admin, rule_id=rule.id,
                                          enabled=True)  # fmt: skip


def test_a_stored_password_is_not_sent_to_a_new_server(province: World) -> None:
    admin = province.actor("sys_admin")
    draft = channel_service.ChannelDraft(
        name="带密码邮箱", kind="email", tenant_code=XIHU,
        config={"host": "203.0.113.5", "port": "587", "security": "starttls",
                "username": "alert", "password": "Mail#Pass2026", "sender": "ops@example.gov.cn"},
        recipients=("duty@example.gov.cn",),
    )  # fmt: skip
    with session_scope() as session:
        saved = channel_service.save_channel(session=session, actor=admin, draft=draft,
                                             policy=DOCS_NET)  # fmt: skip
    same_place = {**draft.config, "password": ""}
    with session_scope() as session:  # blank keeps the password while the server is the same
        kept = dataclasses.replace(draft, config=same_place, keep_recipients=True)
        channel_service.save_channel(
            session=session, actor=admin, channel_id=saved.id, policy=DOCS_NET, draft=kept
        )
    elsewhere = {**same_place, "host": "203.0.113.99"}
    with session_scope() as session, pytest.raises(ValidationFailed) as refused:
        moved = dataclasses.replace(draft, config=elsewhere, keep_recipients=True)
        channel_service.save_channel(
            session=session, actor=admin, channel_id=saved.id, policy=DOCS_NET, draft=moved
        )
    assert refused.value.field == "密码" and "重新填写" in refused.value.message


def test_log_integrity_and_backup_rules_cannot_be_switched_off(province: World) -> None:
    admin = province.actor("sys_admin")
    with session_scope() as session:
        builtin = session.exec(select(AlertRule).where(AlertRule.kind == "chain_break")).one()
        rule_service.set_rule_enabled(
            session=session, actor=admin, rule_id=builtin.id or 0, enabled=True
        )  # fmt: skip (the fixture turned it off)
    with session_scope() as session, pytest.raises(ValidationFailed, match="不能停用"):
        rule_service.set_rule_enabled(session=session, actor=admin, rule_id=builtin.id or 0,
                                      enabled=False)  # fmt: skip
    with session_scope() as session, pytest.raises(ValidationFailed, match="不能停用"):
        off = _rule("", name="日志完整性校验失败", kind="chain_break", params={}, enabled=False)
        rule_service.save_rule(session=session, actor=admin, rule_id=builtin.id, draft=off)


def test_a_province_rule_cannot_tell_a_county_group(province: World) -> None:
    admin = province.actor("sys_admin")
    county_channel = _mail_channel(province, "sys_admin", XIHU, "西湖区值班")
    with session_scope() as session, pytest.raises(ValidationFailed, match="全省规则只能使用"):
        rule_service.save_rule(session=session, actor=admin,
                               draft=_rule("", channel_ids=(county_channel,)))  # fmt: skip
