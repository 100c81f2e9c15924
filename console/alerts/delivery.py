"""What the notification senders share: the message, the outcome, and the field checks.

Pure: no database, no Reflex. The vendor modules (``mail``, ``robots``, ``sms``) build on it and
``senders`` puts them behind one ``send``.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from console.core.net import parse_address
from console.core.outbound import OutboundPolicy, OutboundRefused

DEFAULT_DEADLINE_SECONDS = 15.0
SEVERITIES = {"critical": "严重", "major": "重要", "minor": "一般", "info": "提示"}

# Failures where a later attempt may well succeed; everything else needs a person first.
RETRYABLE = frozenset(
    {
        "超时",
        "拒绝连接",
        "连接失败",
        "连接中断",
        "通信失败",
        "无法解析域名",
        "发送过于频繁",
        "对方服务异常",
    }
)
NOT_LISTED = "地址不在对外访问白名单内"

_MOBILE = re.compile(r"1[3-9]\d{9}")
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CODE = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Message:
    """What an alert says, whatever the channel."""

    title: str  # e.g. "【严重】共享接口不可用：公安身份核验"
    text: str  # Chinese body, several lines
    link: str = ""  # absolute URL to the evidence; "" when no external URL is configured
    severity: str = "major"  # critical | major | minor | info


@dataclass(frozen=True)
class SendResult:
    """How one send went: ``category`` is what a page may show, ``detail`` goes to the run log."""

    ok: bool
    category: str = ""  # "" when ok
    detail: str = ""  # short and safe: never a secret, never the remote's free text
    retry: bool = False  # whether trying again later may help

    @classmethod
    def sent(cls, detail: str = "") -> SendResult:
        """Delivered (as far as the other side said)."""
        return cls(True, "", detail, False)

    @classmethod
    def failed(cls, category: str, detail: str = "", retry: bool | None = None) -> SendResult:
        """Not delivered; ``retry`` defaults to what the category suggests."""
        return cls(False, category, detail[:200], category in RETRYABLE if retry is None else retry)

    @classmethod
    def refused(cls, error: OutboundRefused) -> SendResult:
        """From the guarded client's refusal (its detail names the host, never a secret)."""
        return cls.failed(error.category, error.detail)


def vendor_code(value: object) -> str:
    """A vendor's error code fit for the run log, or "" (free text from outside is never kept)."""
    text = str(value)
    return text if _CODE.fullmatch(text) else ""


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_bytes(text: str, limit: int) -> str:
    """At most ``limit`` bytes of UTF-8 (robots count bytes), cut on a character boundary."""
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[: limit - 3].decode(errors="ignore")
    return cut + "…"


def one_line(text: str) -> str:
    """Line breaks and tabs as spaces: a title travels in headers and notification previews."""
    return " ".join(text.split())


def is_mobile(text: str) -> bool:
    """A mainland mobile number (11 digits, 13x–19x)."""
    return bool(_MOBILE.fullmatch(text))


def is_email(text: str) -> bool:
    """A plain ``local@domain`` address (no display name, no quoting, at most 254 characters)."""
    return len(text) <= 254 and bool(_EMAIL.fullmatch(text))


def is_host(text: str) -> bool:
    """A host name or an IP address."""
    if parse_address(text) is not None:
        return True
    labels = text.rstrip(".").split(".")
    return len(text) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def listed(policy: OutboundPolicy, host: str) -> bool:
    """Is ``host`` itself on the allow-list (a listed name, or an address in a listed network)?"""
    address = parse_address(host)
    if address is not None:
        return any(address in network for network in policy.networks)
    return policy.host_allowed(host)


def host_problem(host: str, policy: OutboundPolicy) -> str:
    """Why the console may not connect to ``host`` (resolved now), or ""."""
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # gaierror, or a name the IDNA codec refuses
        return "无法解析域名"
    addresses = {str(info[4][0]) for info in found}
    if not any(policy.address_allowed(host, address) for address in addresses):
        return NOT_LISTED
    return ""


def url_problem(url: str, policy: OutboundPolicy, *, resolve: bool) -> str:
    """Why ``url`` is not a usable webhook or API address, or "".

    https only; plain http is accepted for hosts on the allow-list (an intranet relay, a test
    receiver), since everything else would carry the token in clear over the internet.
    """
    if not url:
        return "必须填写"
    if len(url) > 2048 or any(char.isspace() or not char.isprintable() for char in url):
        return "格式不正确：过长或含有空白字符"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "格式不正确"
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or not is_host(host):
        return "须为 https:// 开头的完整地址"
    if parts.username is not None or parts.password is not None:
        return "不能包含用户名或密码"
    if parts.scheme == "http" and not listed(policy, host):
        return "须使用 https（http 仅限对外访问白名单内的地址）"
    return host_problem(host, policy) if resolve else ""
