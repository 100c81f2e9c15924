"""Group robots: DingTalk (钉钉), WeCom (企业微信) and Feishu (飞书) webhooks.

Each robot takes one JSON POST through the guarded client and answers HTTP 200 with its own
error code, so the outcome is read from the body: ``errcode`` (DingTalk, WeCom) or ``code`` /
``StatusCode`` (Feishu), mapped to a category and whether a retry may help.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from console.alerts.delivery import (
    SEVERITIES,
    Message,
    SendResult,
    clip,
    clip_bytes,
    is_mobile,
    one_line,
    url_problem,
    vendor_code,
)
from console.core.outbound import OutboundPolicy, OutboundRefused, OutboundResponse, fetch

WEBHOOK = "Webhook 地址"
SECRET = "签名密钥"
MENTIONS = "提醒手机号"

_DINGTALK_SECRET = re.compile(r"SEC[0-9a-fA-F]{64}")
_TEXT_LIMIT = 4000  # characters of body; every robot takes more, a page of text is plenty
_WECOM_BYTES = 4096  # WeCom's markdown limit, in bytes of UTF-8
_FEISHU_COLOURS = {"critical": "red", "major": "orange", "minor": "yellow", "info": "blue"}
_WECOM_COLOURS = {"critical": "warning", "major": "warning", "minor": "comment", "info": "info"}

# Vendor code -> (category, retry). Codes not listed are "对方拒收", not retried.
_DINGTALK_CODES = {
    300001: ("令牌无效", False),
    300005: ("令牌无效", False),
    310000: ("签名校验失败", False),  # refined by its message below
    130101: ("发送过于频繁", True),
    410100: ("发送过于频繁", True),
    -1: ("对方服务异常", True),
}
_WECOM_CODES = {
    93000: ("令牌无效", False),
    45009: ("发送过于频繁", True),
    40008: ("请求格式错误", False),
    40058: ("请求格式错误", False),
    44004: ("请求格式错误", False),
    -1: ("对方服务异常", True),
}
_FEISHU_CODES = {
    19001: ("令牌无效", False),
    19021: ("签名校验失败", False),  # also a timestamp more than an hour off: the clock
    19022: ("来源地址不在白名单", False),
    19024: ("关键词不匹配", False),
    9499: ("请求格式错误", False),
    11232: ("发送过于频繁", True),
}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign``: Base64(HMAC-SHA256(key=secret, msg=timestamp + LF + secret)).

    Returned as Base64, *not* URL-encoded: the query is encoded exactly once, when it is built.
    """
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign``: Base64(HMAC-SHA256(key=timestamp + LF + secret, msg=b"")).

    Key and message are the other way round from DingTalk's (a common mistake).
    """
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def plain(text: str) -> str:
    """Text shown as written in robot markdown (escaped).

    A sender-chosen exception source or error message must not become a link, an image or a
    heading in the province's duty group.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def markdown(message: Message, *, heading: str = "####", limit: int = _TEXT_LIMIT) -> str:
    """The body as robot markdown: a heading, one paragraph a line, ``[查看证据](…)``."""
    lines = [plain(line.strip()) for line in clip(message.text, limit).splitlines() if line.strip()]
    parts = [f"{heading} {plain(one_line(message.title))}", *lines]
    if message.link:
        parts.append(f"[查看证据]({message.link})")
    return "\n\n".join(parts)


# -- configuration -----------------------------------------------------------------------------


def dingtalk_problems(
    config: Mapping[str, str], mobiles: Sequence[str], *, policy: OutboundPolicy, resolve: bool
) -> dict[str, str]:
    """Field -> reason for a DingTalk robot."""
    problems = _webhook_problems(config, policy, resolve, token="access_token")
    secret = config.get("secret", "")
    if secret and not _DINGTALK_SECRET.fullmatch(secret):
        problems[SECRET] = (
            "格式不正确：应为 SEC 开头、后接 64 位十六进制字符（机器人安全设置中的加签密钥）"
        )
    return problems | _mobile_problems(mobiles)


def wecom_problems(
    config: Mapping[str, str], mobiles: Sequence[str], *, policy: OutboundPolicy, resolve: bool
) -> dict[str, str]:
    """Field -> reason for a WeCom robot."""
    return _webhook_problems(config, policy, resolve, token="key") | _mobile_problems(mobiles)


def feishu_problems(
    config: Mapping[str, str], mobiles: Sequence[str], *, policy: OutboundPolicy, resolve: bool
) -> dict[str, str]:
    """Field -> reason for a Feishu robot."""
    problems = _webhook_problems(config, policy, resolve, token="")
    secret = config.get("secret", "")
    if secret and (
        len(secret) > 128 or not secret.isascii() or not secret.isprintable() or " " in secret
    ):
        problems[SECRET] = "格式不正确：应为机器人安全设置中的签名校验密钥（不含空格的可见字符）"
    if mobiles:
        problems[MENTIONS] = "飞书群机器人不支持按手机号提醒，请留空"
    return problems


def _webhook_problems(
    config: Mapping[str, str], policy: OutboundPolicy, resolve: bool, *, token: str
) -> dict[str, str]:
    url = config.get("webhook", "").strip()
    problem = url_problem(url, policy, resolve=resolve)
    if not problem:
        parts = urlsplit(url)
        if token and not parse_qs(parts.query).get(token, [""])[0]:
            problem = f"缺少 {token} 参数（请粘贴机器人设置中的完整 Webhook 地址）"
        elif not token and not parts.path.rstrip("/").rsplit("/", 1)[-1]:
            problem = "缺少机器人标识（请粘贴机器人设置中的完整 Webhook 地址）"
    return {WEBHOOK: problem} if problem else {}


def _mobile_problems(mobiles: Sequence[str]) -> dict[str, str]:
    for number, mobile in enumerate(mobiles, 1):
        if not is_mobile(mobile):
            return {MENTIONS: f"第 {number} 个不是有效的手机号（11 位，1 开头）"}
    return {}


# -- sending ---------------------------------------------------------------------------------


def send_dingtalk(
    config: Mapping[str, str],
    mobiles: Sequence[str],
    message: Message,
    *,
    policy: OutboundPolicy,
    deadline_seconds: float,
) -> SendResult:
    """One markdown message to a DingTalk group, mentioning ``mobiles``."""
    url = config["webhook"].strip()
    secret = config.get("secret", "")
    if secret:
        timestamp = int(time.time() * 1000)
        signed = urlencode({"timestamp": timestamp, "sign": dingtalk_sign(secret, timestamp)})
        url = f"{url}&{signed}" if urlsplit(url).query else f"{url}?{signed}"
    text = markdown(message)
    if mobiles:
        # DingTalk highlights a mention only when "@mobile" also appears in the text.
        text += "\n\n" + " ".join(f"@{mobile}" for mobile in mobiles)
    payload = {
        "msgtype": "markdown",
        "markdown": {"title": clip(one_line(message.title), 100), "text": text},
        "at": {"atMobiles": list(mobiles), "isAtAll": False},
    }
    return _post(url, payload, policy, deadline_seconds, _dingtalk_answer)


def send_wecom(
    config: Mapping[str, str],
    mobiles: Sequence[str],
    message: Message,
    *,
    policy: OutboundPolicy,
    deadline_seconds: float,
) -> SendResult:
    """One markdown message to a WeCom group; mentions follow as a short text message.

    WeCom's markdown cannot mention by mobile number, only its text message can.
    """
    url = config["webhook"].strip()
    colour = _WECOM_COLOURS.get(message.severity, "warning")
    title = f'<font color="{colour}">{one_line(message.title)}</font>'
    content = clip_bytes(markdown(Message(title, message.text, message.link)), _WECOM_BYTES)
    payload = {"msgtype": "markdown", "markdown": {"content": content}}
    started = time.monotonic()
    result = _post(url, payload, policy, deadline_seconds, _wecom_answer)
    if not result.ok or not mobiles:
        return result
    remaining = deadline_seconds - (time.monotonic() - started)
    if remaining < 0.2:  # the deadline is the caller's: no second request beyond it
        return SendResult.sent("消息已送达，手机号提醒未发送（时间不足）")
    mention = {
        "msgtype": "text",
        "text": {
            "content": clip(one_line(message.title), 200),
            "mentioned_mobile_list": list(mobiles),
        },
    }
    reminded = _post(url, mention, policy, remaining, _wecom_answer)
    if reminded.ok:
        return result
    # The alert itself arrived: report success, and say in the log that the mention did not.
    return SendResult.sent(f"消息已送达，手机号提醒未送达（{reminded.category}）")


def send_feishu(
    config: Mapping[str, str],
    mobiles: Sequence[str],
    message: Message,
    *,
    policy: OutboundPolicy,
    deadline_seconds: float,
) -> SendResult:
    """One card to a Feishu group: a coloured header and a markdown body."""
    del mobiles  # refused by feishu_problems; Feishu mentions by user id only
    payload: dict[str, Any] = {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": clip(one_line(message.title), 100)},
                "template": _FEISHU_COLOURS.get(message.severity, "orange"),
            },
            "elements": [{"tag": "markdown", "content": _feishu_body(message)}],
        },
    }
    secret = config.get("secret", "")
    if secret:
        timestamp = int(time.time())
        payload = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp)} | payload
    return _post(config["webhook"].strip(), payload, policy, deadline_seconds, _feishu_answer)


def _feishu_body(message: Message) -> str:
    severity = SEVERITIES.get(message.severity, message.severity)
    lines = [
        plain(line.strip()) for line in clip(message.text, _TEXT_LIMIT).splitlines() if line.strip()
    ]
    parts = [f"**级别**：{severity}", *lines]
    if message.link:
        parts.append(f"[查看证据]({message.link})")
    return "\n".join(parts)


# -- answers ---------------------------------------------------------------------------------


def _post(
    url: str,
    payload: dict[str, Any],
    policy: OutboundPolicy,
    deadline_seconds: float,
    read: Callable[[dict[str, Any], OutboundResponse], SendResult],
) -> SendResult:
    try:
        response = fetch(
            "POST",
            url,
            policy=policy,
            deadline_seconds=deadline_seconds,
            json=payload,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
    except OutboundRefused as refused:
        return SendResult.refused(refused)
    body = _json(response)
    if body is None:
        return _by_status(response)
    return read(body, response)


def _json(response: OutboundResponse) -> dict[str, Any] | None:
    if response.truncated:
        return None
    try:
        body = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _by_status(response: OutboundResponse) -> SendResult:
    """No readable body: the HTTP status is all there is to go on."""
    status = response.status_code
    detail = f"HTTP {status}"
    if status == 429:
        return SendResult.failed("发送过于频繁", detail)
    if status >= 500:
        return SendResult.failed("对方服务异常", detail)
    if status in (401, 403):
        return SendResult.failed("令牌无效", detail)
    if status == 404:
        return SendResult.failed("地址无效", detail)
    if 300 <= status < 400:
        return SendResult.failed("对方拒收", f"{detail}（不跟随跳转）")
    return SendResult.failed("应答无法识别", detail, retry=False)


def _coded(
    code: object, table: Mapping[int, tuple[str, bool]], response: OutboundResponse
) -> SendResult:
    if not isinstance(code, int) or isinstance(code, bool):
        return _by_status(response)
    if code == 0 and response.is_success:
        return SendResult.sent()
    category, retry = table.get(code, ("对方拒收", False))
    return SendResult.failed(category, f"错误码 {vendor_code(code)}", retry)


def _dingtalk_answer(body: dict[str, Any], response: OutboundResponse) -> SendResult:
    code = body.get("errcode")
    result = _coded(code, _DINGTALK_CODES, response)
    if code == 310000:
        # One code for every security setting; its message says which one failed.
        said = str(body.get("errmsg", "")).lower()
        if "keyword" in said:
            return SendResult.failed("关键词不匹配", result.detail, False)
        if "whitelist" in said or "ip " in said:
            return SendResult.failed("来源地址不在白名单", result.detail, False)
        if "timestamp" in said:
            return SendResult.failed(
                "签名校验失败", f"{result.detail}（时间戳无效，请检查本机时钟）", False
            )
    return result


def _wecom_answer(body: dict[str, Any], response: OutboundResponse) -> SendResult:
    return _coded(body.get("errcode"), _WECOM_CODES, response)


def _feishu_answer(body: dict[str, Any], response: OutboundResponse) -> SendResult:
    code = body["code"] if "code" in body else body.get("StatusCode")
    return _coded(code, _FEISHU_CODES, response)
