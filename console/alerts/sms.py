"""Text messages (短信) through a provider: Aliyun's ``SendSms`` is the first adapter.

An SMS carries only a pre-approved template, so the alert travels as the template's
parameters (the title, cut to the 35 characters a variable may hold). Another provider
(Tencent Cloud, a provincial SMS gateway) is another class with the same ``send``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

from console.alerts.delivery import (
    DEFAULT_DEADLINE_SECONDS,
    Message,
    SendResult,
    clip,
    is_mobile,
    one_line,
    url_problem,
    vendor_code,
)
from console.core.outbound import OutboundPolicy, OutboundRefused, OutboundResponse, fetch

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
PARAM_LIMIT = 35  # characters a template variable may hold
MAX_PHONES = 1000  # SendSms takes at most this many numbers a call

PHONES = "接收手机号"
_KEY_ID = re.compile(r"[A-Za-z0-9]{8,64}")
_TEMPLATE = re.compile(r"SMS_\d{1,20}")
_PARAM = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")

# Aliyun's Code -> (category, retry); codes not listed are "对方拒收", not retried.
_ALIYUN_CODES = {
    "SignatureDoesNotMatch": ("签名校验失败", False),
    "IncompleteSignature": ("签名校验失败", False),
    "InvalidTimeStamp.Expired": ("签名校验失败", False),  # this machine's clock is off
    "SignatureNonceUsed": ("签名校验失败", True),  # a fresh nonce next time
    "InvalidAccessKeyId.NotFound": ("认证失败", False),
    "InvalidAccessKeyId.Inactive": ("认证失败", False),
    "Forbidden.RAM": ("认证失败", False),
    "isv.BUSINESS_LIMIT_CONTROL": ("发送过于频繁", True),
    "isv.DAY_LIMIT_CONTROL": ("发送过于频繁", True),
    "Throttling": ("发送过于频繁", True),
    "Throttling.User": ("发送过于频繁", True),
    "isv.MOBILE_NUMBER_ILLEGAL": ("收件人无效", False),
    "isv.MOBILE_COUNT_OVER_LIMIT": ("收件人无效", False),
    "isv.SMS_TEMPLATE_ILLEGAL": ("模板或签名无效", False),
    "isv.SMS_SIGNATURE_ILLEGAL": ("模板或签名无效", False),
    "isv.TEMPLATE_MISSING_PARAMETERS": ("模板或签名无效", False),
    "isv.PARAM_LENGTH_LIMIT": ("模板或签名无效", False),
    "isv.INVALID_PARAMETERS": ("模板或签名无效", False),
    "isv.AMOUNT_NOT_ENOUGH": ("账户欠费或停用", False),
    "isv.OUT_OF_SERVICE": ("账户欠费或停用", False),
    "isp.SYSTEM_ERROR": ("对方服务异常", True),
    "ServiceUnavailable": ("对方服务异常", True),
    "InternalError": ("对方服务异常", True),
}


class SmsProvider(Protocol):
    """Sends one templated text message to some mobile numbers."""

    def send(self, phones: Sequence[str], template_params: Mapping[str, str]) -> SendResult:
        """Send, and say how it went (never raises for a network or vendor failure)."""
        ...


def sms_params(message: Message, param_name: str = "title") -> dict[str, str]:
    """The template's parameters: only the title fits in a text message."""
    return {param_name: clip(one_line(message.title), PARAM_LIMIT)}


def percent_encode(text: str) -> str:
    """RFC 3986 encoding as Aliyun signs it: only ``A-Z a-z 0-9 - _ . ~`` stay, space is %20."""
    return quote(text, safe="")


def aliyun_signature(secret: str, params: Mapping[str, str], method: str = "GET") -> str:
    """RPC signature v1: Base64(HMAC-SHA1(key=secret+"&", "GET&%2F&" + encoded canonical query))."""
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}" for key in sorted(params)
    )
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class AliyunSms:
    """Aliyun SMS (``dysmsapi``, version 2017-05-25), a signed GET per send."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    sign_name: str
    template_code: str
    policy: OutboundPolicy
    endpoint: str = ALIYUN_ENDPOINT
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS

    def params(self, phones: Sequence[str], template_params: Mapping[str, str]) -> dict[str, str]:
        """The request's parameters, unsigned, with a fresh nonce and the current time."""
        return {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": ",".join(phones),
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps(dict(template_params), ensure_ascii=False),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }

    def url(self, params: Mapping[str, str]) -> str:
        """The endpoint with the signed query (every value percent-encoded once)."""
        signature = aliyun_signature(self.access_key_secret, params)
        query = "&".join(
            f"{percent_encode(key)}={percent_encode(value)}"
            for key, value in [("Signature", signature), *sorted(params.items())]
        )
        return f"{self.endpoint.split('?', 1)[0]}?{query}"

    def send(self, phones: Sequence[str], template_params: Mapping[str, str]) -> SendResult:
        """One ``SendSms`` call for all ``phones``."""
        url = self.url(self.params(phones, template_params))
        try:
            response = fetch("GET", url, policy=self.policy, deadline_seconds=self.deadline_seconds)
        except OutboundRefused as refused:
            return SendResult.refused(refused)
        return _aliyun_answer(response)


def _aliyun_answer(response: OutboundResponse) -> SendResult:
    body: Any = None
    if not response.truncated:
        try:
            body = json.loads(response.body)
        except (ValueError, UnicodeDecodeError):
            body = None
    if not isinstance(body, dict) or "Code" not in body:
        if response.status_code >= 500:
            return SendResult.failed("对方服务异常", f"HTTP {response.status_code}")
        return SendResult.failed("应答无法识别", f"HTTP {response.status_code}", retry=False)
    code = str(body["Code"])
    if code == "OK" and response.is_success:
        return SendResult.sent()
    category, retry = _ALIYUN_CODES.get(code, ("对方拒收", False))
    return SendResult.failed(category, f"错误码 {vendor_code(code) or '（无法识别）'}", retry)


# -- configuration -----------------------------------------------------------------------------


def aliyun_problems(
    config: Mapping[str, str], phones: Sequence[str], *, policy: OutboundPolicy, resolve: bool
) -> dict[str, str]:
    """Field -> reason for the Aliyun SMS channel."""
    problems: dict[str, str] = {}
    if not _KEY_ID.fullmatch(config.get("access_key_id", "")):
        problems["AccessKey ID"] = "必须填写（8–64 位字母或数字）"
    secret = config.get("access_key_secret", "")
    if not secret or len(secret) > 128 or not secret.isascii() or not secret.isprintable():
        problems["AccessKey Secret"] = "必须填写（不含空格的可见字符）"
    elif " " in secret:
        problems["AccessKey Secret"] = "不能含有空格"
    sign_name = config.get("sign_name", "")
    if not sign_name.strip() or len(sign_name) > 64 or one_line(sign_name) != sign_name:
        problems["短信签名"] = "必须填写（短信服务中已审核通过的签名名称）"
    if not _TEMPLATE.fullmatch(config.get("template_code", "")):
        problems["模板编号"] = "格式不正确：应形如 SMS_123456789"
    if not _PARAM.fullmatch(config.get("param_name") or "title"):
        problems["模板变量名"] = "格式不正确：字母、数字或下划线，以字母开头"
    endpoint = config.get("endpoint") or ALIYUN_ENDPOINT
    problem = url_problem(endpoint, policy, resolve=resolve)
    if problem:
        problems["接口地址"] = problem
    return problems | phone_problems(phones)


def phone_problems(phones: Sequence[str]) -> dict[str, str]:
    """Field -> reason for a list of mobile numbers that must not be empty."""
    if not phones:
        return {PHONES: "至少填写一个手机号"}
    if len(phones) > MAX_PHONES:
        return {PHONES: f"一次最多 {MAX_PHONES} 个手机号"}
    for number, phone in enumerate(phones, 1):
        if not is_mobile(phone):
            return {PHONES: f"第 {number} 个不是有效的手机号（11 位，1 开头）"}
    return {}


def aliyun_from_config(
    config: Mapping[str, str], *, policy: OutboundPolicy, deadline_seconds: float
) -> AliyunSms:
    """The provider a checked configuration describes."""
    return AliyunSms(
        access_key_id=config["access_key_id"],
        access_key_secret=config["access_key_secret"],
        sign_name=config["sign_name"],
        template_code=config["template_code"],
        policy=policy,
        endpoint=config.get("endpoint") or ALIYUN_ENDPOINT,
        deadline_seconds=deadline_seconds,
    )
