"""State of the 通知渠道 section of 告警规则: the channels, their form, 测试发送.

Secrets and recipients typed into the form stay in backend-only vars (``_typed``); the browser
gets the non-secret settings, which secrets are set (names only) and masked recipients.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import reflex as rx
from sqlmodel import Session

from console.alerts import channel_service as service
from console.alerts import mail, robots, senders, sms
from console.alerts import rule_service as rules
from console.core.actor import Actor
from console.core.outbound import OutboundPolicy
from console.iam import outbound_service
from console.ui.choice import Choice
from console.ui.effects_state import toast
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin

PROVINCE = "*"  # 全省 in a select: Radix allows no item with the value ""
POLICY_SECONDS = 30  # live checks reuse the allow-list this long (saving reads it afresh)
KIND_CHOICES = list(senders.KINDS.items())


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One setting of a channel kind as the form shows it."""

    key: str
    label: str  # the label ``senders.config_problems`` names it by
    hint: str = ""
    placeholder: str = ""
    secret: bool = False
    multiline: bool = False
    choices: tuple[tuple[str, str], ...] = ()


_DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=…"
_SPECS: dict[str, FieldSpec] = {
    "host": FieldSpec("host", mail.HOST, placeholder="smtp.example.gov.cn"),
    "port": FieldSpec("port", mail.PORT, "留空按安全方式取默认端口（587、465 或 25）"),
    "security": FieldSpec("security", mail.MODE, choices=tuple(mail.SECURITY.items())),
    "username": FieldSpec("username", mail.USER, "无需登录时留空"),
    "password": FieldSpec("password", mail.PASSWORD, secret=True),
    "sender": FieldSpec("sender", mail.SENDER, "发件人地址", "alert@example.gov.cn"),
    "sender_name": FieldSpec("sender_name", mail.SENDER_NAME, placeholder="不动产登记运维监管平台"),
    "ca_pem": FieldSpec(
        "ca_pem", mail.CA, "私有 CA 证书（PEM，可选）：填写后只信任该 CA", multiline=True
    ),
    "webhook": FieldSpec("webhook", robots.WEBHOOK, "机器人设置中的完整地址", secret=True),
    "secret": FieldSpec("secret", robots.SECRET, "机器人安全设置中的加签密钥（可选）", secret=True),
    "access_key_id": FieldSpec("access_key_id", "AccessKey ID"),
    "access_key_secret": FieldSpec("access_key_secret", "AccessKey Secret", secret=True),
    "sign_name": FieldSpec("sign_name", "短信签名", "短信服务中已审核通过的签名"),
    "template_code": FieldSpec("template_code", "模板编号", placeholder="SMS_123456789"),
    "endpoint": FieldSpec("endpoint", "接口地址", "留空使用阿里云默认地址", sms.ALIYUN_ENDPOINT),
    "param_name": FieldSpec("param_name", "模板变量名", "模板中接收告警标题的变量", "title"),
}
_PLACEHOLDERS = {
    ("dingtalk", "webhook"): _DINGTALK,
    ("wecom", "webhook"): "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    ("feishu", "webhook"): "https://open.feishu.cn/open-apis/bot/v2/hook/…",
    ("dingtalk", "secret"): "SEC…",
}


def fields_of(kind: str) -> list[FieldSpec]:
    """The settings of ``kind``, in the order ``senders.CONFIG_KEYS`` lists them."""
    return [
        dataclasses.replace(
            _SPECS[key], placeholder=_PLACEHOLDERS.get((kind, key), _SPECS[key].placeholder)
        )
        for key in senders.CONFIG_KEYS[kind]
    ]


# Who receives, per kind (label of the textarea); Feishu robots take no recipients.
RECIPIENT_LABELS = {
    "email": "收件人（每行一个电子邮件地址）",
    "dingtalk": "提醒手机号（可选，每行一个）",
    "wecom": "提醒手机号（可选，每行一个）",
    "sms_aliyun": "接收手机号（每行一个）",
}
# Every label the services use for the recipients: their errors all go under the textarea.
_RECIPIENT_ERRORS = {"接收人", mail.RECIPIENTS, robots.MENTIONS, sms.PHONES}
_FIELD_OF_LABEL = {
    "名称": "name",
    "渠道类型": "kind",
    "适用范围": "scope",
    "每小时上限": "per_hour",
}


@dataclasses.dataclass(frozen=True)
class ChannelView:
    """One channel as the table shows it: no secret, recipients masked."""

    id: int
    name: str
    kind_label: str
    scope: str
    recipients: str
    status: str
    failing: bool
    per_hour: int
    enabled: bool


@dataclasses.dataclass(frozen=True)
class Listing:
    """What one load fetches."""

    channels: list[service.ChannelRow]
    scopes: list[tuple[str, str]]
    rights: dict[str, bool]


def _fetch(session: Session, actor: Actor) -> Listing:
    return Listing(
        channels=service.list_channels(session=session, actor=actor),
        scopes=rules.scope_choices(session=session, actor=actor),
        rights=rules.permissions(actor),
    )


_cached_policy: tuple[float, OutboundPolicy] | None = None


def _live_policy() -> OutboundPolicy:
    """The allow-list for checks while typing (only ``http://`` hosts depend on it)."""
    global _cached_policy
    if _cached_policy is None or time.monotonic() - _cached_policy[0] > POLICY_SECONDS:
        _cached_policy = (time.monotonic(), outbound_service.policy())
    return _cached_policy[1]


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.replace("，", "\n").splitlines() if line.strip())


def scope_label(code: str, names: dict[str, str]) -> str:
    """全省, or the county's name."""
    return "全省" if not code else names.get(code, code)


class NotifyChannelState(PagedListMixin, FormMixin, rx.State):
    """通知渠道: e-mail, group robots and SMS."""

    rows: list[ChannelView] = []
    can_write: bool = False
    can_delete: bool = False
    can_execute: bool = False
    province: bool = False  # may set 全省 channels
    scope_options: list[Choice] = []

    channel_open: bool = False
    channel_id: int = 0
    channel_kind: str = "dingtalk"
    channel_scope: str = PROVINCE
    channel_enabled: bool = True
    channel_form: dict[str, str] = {}  # starting values of the non-secret fields
    secrets_set: list[str] = []  # names of the secrets stored for the channel being edited
    kept_recipients: str = ""  # masked, as listed
    channel_errors: dict[str, str] = {}  # field name → reason
    channel_error: str = ""
    form_seq: int = 0
    testing_id: int = 0

    _listed: list[service.ChannelRow] = []
    _typed: dict[str, str] = {}  # everything typed, secrets and recipients too: never sent out
    _touched: list[str] = []
    _stored_kind: str = ""

    @rx.event(background=True)
    async def load(self):
        """Fetch the channels, the scopes and the user's rights."""
        async for event in self._load_page(lambda: _fetch, self._show):
            yield event

    def _show(self, listing: Listing) -> None:
        names = dict(listing.scopes)
        self._listed = list(listing.channels)
        self.rows = [
            ChannelView(c.id, c.name, c.kind_label, scope_label(c.tenant, names), c.recipients,
                        c.status, c.failing, c.per_hour, c.enabled)
            for c in listing.channels
        ]  # fmt: skip
        self.total, self.pages = len(self.rows), 1
        rights = listing.rights
        self.can_write, self.can_delete = rights["write"], rights["delete"]
        self.can_execute = rights["execute"]
        self.province = bool(listing.scopes) and listing.scopes[0][0] == ""
        self.scope_options = [Choice(code or PROVINCE, name) for code, name in listing.scopes]

    # ---- the form

    def _open(self, channel_id: int, kind: str, scope: str, form: dict[str, str]) -> None:
        self.channel_id, self.channel_kind, self.channel_scope = channel_id, kind, scope
        self.channel_form, self._typed, self._touched = form, {}, []
        self.channel_errors, self.channel_error = {}, ""
        self.form_seq += 1
        self.channel_open = True

    @rx.event
    def new_channel(self) -> None:
        """Open the form empty (a county user's channel is their county's)."""
        scope = PROVINCE if self.province else self._first_scope()
        self.channel_enabled, self.secrets_set, self.kept_recipients = True, [], ""
        self._stored_kind = ""
        self._open(0, "dingtalk", scope, {"per_hour": "30", "security": "starttls"})

    def _first_scope(self) -> str:
        return self.scope_options[0].value if self.scope_options else PROVINCE

    @rx.event
    def edit_channel(self, channel_id: int) -> None:
        """Open the form with a channel: its secrets stay on the server, recipients masked."""
        found = next((c for c in self._listed if c.id == channel_id), None)
        if found is None:
            return
        self.channel_enabled, self.secrets_set = found.enabled, list(found.secrets_set)
        self.kept_recipients = "" if found.recipients == "—" else found.recipients
        self._stored_kind = found.kind
        form = {**found.config, "name": found.name, "per_hour": str(found.per_hour)}
        self._open(found.id, found.kind, found.tenant or PROVINCE, form)

    @rx.event
    def set_channel_kind(self, value: str) -> None:
        """Another kind: its own fields, typed settings of the former kind dropped."""
        self.channel_kind = value
        self._typed = {k: v for k, v in self._typed.items() if k in ("name", "per_hour")}
        self._touched = [k for k in self._touched if k in ("name", "per_hour")]
        self._recheck()

    @rx.event
    def set_channel_open(self, value: bool) -> None:
        """Close (or reopen) the form; what was typed, secrets included, is forgotten on close."""
        self.channel_open = bool(value)
        if not value:
            self._typed = {}

    @rx.event
    def set_channel_scope(self, value: str) -> None:
        """全省 or a county."""
        self.channel_scope = value

    @rx.event
    def set_channel_enabled(self, value: bool) -> None:
        """启用 or not."""
        self.channel_enabled = bool(value)

    @rx.event
    def check_channel(self, field: str, value: str) -> None:
        """Live check as the form is typed (no DNS look-up: saving does the full check)."""
        self._typed = {**self._typed, field: value}
        if field not in self._touched:
            self._touched = [*self._touched, field]
        self._recheck()

    def _recheck(self) -> None:
        values = {**self.channel_form, **self._typed}
        problems = service.channel_problems(
            self._draft(values), policy=_live_policy(), resolve=False
        )
        found = self._by_field(problems, values)
        self.channel_errors = {k: v for k, v in found.items() if k in self._touched}

    def _keeps(self) -> bool:
        """Editing without changing the kind: blank secrets and recipients keep the stored."""
        return bool(self.channel_id) and self.channel_kind == self._stored_kind

    def _field_of(self, label: str) -> str:
        """The form field a service's label names ("form" for the form as a whole)."""
        if label in _RECIPIENT_ERRORS:
            return "recipients"
        fields = {spec.label: spec.key for spec in fields_of(self.channel_kind)}
        return _FIELD_OF_LABEL.get(label) or fields.get(label) or "form"

    def _by_field(self, problems: dict[str, str], values: dict[str, str]) -> dict[str, str]:
        """Label → reason as field name → reason, leaving out what a blank keeps."""
        found: dict[str, str] = {}
        for label, reason in problems.items():
            field = self._field_of(label)
            blank = not values.get(field, "").strip()
            if self._keeps() and blank and (field == "recipients" or field in self.secrets_set):
                continue  # the stored secret or recipients stay: nothing to fix
            found.setdefault(field, reason)
        return found

    def _draft(self, values: dict[str, str]) -> service.ChannelDraft:
        kind = self.channel_kind
        recipients = () if kind == "feishu" else _lines(values.get("recipients", ""))
        return service.ChannelDraft(
            name=values.get("name", "").strip(),
            kind=kind,
            tenant_code="" if self.channel_scope == PROVINCE else self.channel_scope,
            config={key: values.get(key, "") for key in senders.CONFIG_KEYS.get(kind, ())},
            recipients=recipients,
            keep_recipients=self._keeps() and not recipients and kind != "feishu",
            per_hour=values.get("per_hour", "").strip(),
            enabled=self.channel_enabled,
        )

    @rx.event(background=True)
    async def save_channel(self, form: dict[str, str]):
        """Create or change the channel: every address checked against the allow-list now."""
        async with self:
            values = {**self.channel_form, **self._typed, **_texts(form)}
            draft, channel_id = self._draft(values), self.channel_id
            problems = service.channel_problems(draft, policy=_live_policy(), resolve=False)
            found = self._by_field(problems, values)
            if found:
                first = next(label for label in problems if self._field_of(label) in found)
                self.channel_errors = found
                self.channel_error = f"{first}：{problems[first]}"
                return
        policy = await asyncio.to_thread(outbound_service.policy)
        outcome = await self._call(
            lambda s, a: service.save_channel(
                session=s, actor=a, draft=draft, policy=policy, channel_id=channel_id or None
            )
        )
        async with self:
            if not outcome.ok:
                self.channel_errors = {self._field_of(outcome.field): outcome.error}
                self.channel_error = outcome.error_text
                return
            self.channel_open, self._typed = False, {}
        yield toast.success("通知渠道已保存")
        yield NotifyChannelState.load

    # ---- 测试发送, 删除

    @rx.event(background=True)
    async def test_send(self, channel_id: int):
        """Send one test message now and say how it went."""
        async with self:
            if self.testing_id:
                return
            self.testing_id = channel_id
            name = next((row.name for row in self.rows if row.id == channel_id), "")
        try:
            policy = await asyncio.to_thread(outbound_service.policy)
            outcome = await self._call(lambda s, a: _tested(s, a, channel_id, policy))
        finally:
            async with self:
                self.testing_id = 0
        if not outcome.ok:
            yield toast.error(outcome.error_text)
            return
        category = outcome.value
        if category:
            yield toast.error(f"“{name}”测试发送失败：{category}", duration=8000)
        else:
            yield toast.success(f"测试消息已发送到“{name}”，请在接收端确认")
        yield NotifyChannelState.load

    def _delete_one(self, session: Session, actor: Actor, key: str) -> None:
        service.delete_channel(session=session, actor=actor, channel_id=int(key))

    def _deleted_text(self) -> str:
        return "通知渠道已删除"


def _tested(session: Session, actor: Actor, channel_id: int, policy: OutboundPolicy) -> str:
    """One 测试发送: "" when sent, else the failure's category (Chinese)."""
    note = service.test_channel(session=session, actor=actor, channel_id=channel_id, policy=policy)
    return "" if note.state == "sent" else (note.category or "发送失败")


def _texts(form: dict) -> dict[str, str]:
    """The submitted form's text values (checkboxes and the like left out)."""
    return {key: value for key, value in form.items() if isinstance(value, str)}
