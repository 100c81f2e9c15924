"""Notification senders: one alert message through one configured channel.

Pure: no database and no Reflex; the caller loads the channel, decrypts its secrets and
records the outcome. Every HTTP call goes through ``console.core.outbound.fetch`` and SMTP
through the same address check, so a channel can reach only what the outbound policy allows.
A failure is a ``SendResult`` with a Chinese category, never an exception, never a secret.

Configuration keys per kind (``SECRET_KEYS`` are the ones to store encrypted and never show):

- ``email``: host, port, security (starttls | ssl | none), username, *password*, sender,
  sender_name, ca_pem (a private CA in PEM; when set, only it is trusted)
- ``dingtalk``: *webhook*, *secret* (``SEC…``, 加签)
- ``wecom``: *webhook*
- ``feishu``: *webhook*, *secret* (签名校验)
- ``sms_aliyun``: access_key_id, *access_key_secret*, sign_name, template_code, endpoint,
  param_name (the template variable that takes the title, ``title`` by default)

Recipients: e-mail addresses (email), mobiles to mention (dingtalk, wecom; none for feishu),
mobiles to text (sms_aliyun).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

from console.alerts import mail, robots, sms
from console.alerts.delivery import DEFAULT_DEADLINE_SECONDS, Message, SendResult
from console.core.outbound import OutboundPolicy

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_DEADLINE_SECONDS",
    "KINDS",
    "SECRET_KEYS",
    "Message",
    "SendResult",
    "config_problems",
    "send",
]

KINDS = {
    "email": "电子邮件",
    "dingtalk": "钉钉群机器人",
    "wecom": "企业微信群机器人",
    "feishu": "飞书群机器人",
    "sms_aliyun": "短信（阿里云）",
}
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "email": (
        "host", "port", "security", "username", "password", "sender", "sender_name", "ca_pem",
    ),
    "dingtalk": ("webhook", "secret"),
    "wecom": ("webhook",),
    "feishu": ("webhook", "secret"),
    "sms_aliyun": (
        "access_key_id", "access_key_secret", "sign_name", "template_code", "endpoint",
        "param_name",
    ),
}  # fmt: skip
# A robot's webhook carries its token: whoever has the URL can post to the group.
SECRET_KEYS: dict[str, frozenset[str]] = {
    "email": frozenset({"password"}),
    "dingtalk": frozenset({"webhook", "secret"}),
    "wecom": frozenset({"webhook"}),
    "feishu": frozenset({"webhook", "secret"}),
    "sms_aliyun": frozenset({"access_key_secret"}),
}

_Problems = Callable[..., dict[str, str]]
_PROBLEMS: dict[str, _Problems] = {
    "email": mail.email_problems,
    "dingtalk": robots.dingtalk_problems,
    "wecom": robots.wecom_problems,
    "feishu": robots.feishu_problems,
    "sms_aliyun": sms.aliyun_problems,
}


def config_problems(
    kind: str,
    config: Mapping[str, object],
    *,
    policy: OutboundPolicy,
    recipients: Sequence[str] = (),
    resolve: bool = True,
) -> dict[str, str]:
    """Field label (Chinese) -> reason, for live form checks and for refusing a save.

    With ``resolve`` (the default) host names are looked up now and every address is checked
    against the outbound policy, as the send will; a form may pass False while typing.
    Recipients are checked too (e-mail addresses, mainland mobile numbers), never echoed back.
    """
    check = _PROBLEMS.get(kind)
    if check is None:
        return {"渠道类型": "不支持的渠道类型"}
    return check(normalized(config), list(recipients), policy=policy, resolve=resolve)


def normalized(config: Mapping[str, object]) -> dict[str, str]:
    """Every value as text, pasted blanks trimmed (a password keeps its own)."""
    texts = {key: "" if value is None else str(value) for key, value in config.items()}
    return {key: text if key == "password" else text.strip() for key, text in texts.items()}


def send(
    kind: str,
    config: Mapping[str, object],
    recipients: Sequence[str],
    message: Message,
    *,
    policy: OutboundPolicy,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
) -> SendResult:
    """Send ``message`` through one channel; never raises for a network or vendor failure.

    The configuration is checked first (without a DNS lookup: the connection itself checks
    every address it resolves, so a refused address is ``地址不允许``, not a form error).
    """
    config = normalized(config)
    problems = config_problems(kind, config, policy=policy, recipients=recipients, resolve=False)
    if problems:
        field, reason = next(iter(problems.items()))
        return SendResult.failed("配置无效", f"{field}：{reason}", retry=False)
    result = _dispatch(kind, config, list(recipients), message, policy, deadline_seconds)
    return _scrubbed(result, kind, config)


def _dispatch(
    kind: str,
    config: Mapping[str, str],
    recipients: list[str],
    message: Message,
    policy: OutboundPolicy,
    deadline_seconds: float,
) -> SendResult:
    if kind == "email":
        return mail.send_email(
            config, recipients, message, policy=policy, deadline_seconds=deadline_seconds
        )
    if kind == "sms_aliyun":
        provider: sms.SmsProvider = sms.aliyun_from_config(
            config, policy=policy, deadline_seconds=deadline_seconds
        )
        return provider.send(
            recipients, sms.sms_params(message, config.get("param_name") or "title")
        )
    robot = {
        "dingtalk": robots.send_dingtalk,
        "wecom": robots.send_wecom,
        "feishu": robots.send_feishu,
    }
    return robot[kind](
        config, recipients, message, policy=policy, deadline_seconds=deadline_seconds
    )


def _scrubbed(result: SendResult, kind: str, config: Mapping[str, str]) -> SendResult:
    """The result with any secret masked out of its detail."""
    # Details are built without secrets; this keeps it so should a later change slip.
    detail = result.detail
    for secret in _secret_values(kind, config):
        detail = detail.replace(secret, "***")
    if detail == result.detail:
        return result
    return SendResult(result.ok, result.category, detail, result.retry)


def _secret_values(kind: str, config: Mapping[str, str]) -> list[str]:
    values = [config.get(key, "") for key in SECRET_KEYS.get(kind, ())]
    webhook = config.get("webhook", "")
    if webhook:
        # The token inside the URL: its query values and the last path segment (Feishu).
        parts = urlsplit(webhook)
        values += [value for _, value in parse_qsl(parts.query)]
        values.append(parts.path.rstrip("/").rsplit("/", 1)[-1])
    # Long ones first, so a secret containing another is masked whole.
    return sorted((value for value in values if len(value) >= 6), key=len, reverse=True)
