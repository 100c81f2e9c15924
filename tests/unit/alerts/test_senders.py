"""Notification senders against local look-alikes of DingTalk, WeCom, Feishu, Aliyun SMS, SMTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from console.alerts.delivery import NOT_LISTED
from console.alerts.mail import email_body
from console.alerts.robots import markdown
from console.alerts.senders import KINDS, SECRET_KEYS, Message, SendResult, config_problems, send
from console.alerts.sms import aliyun_signature, sms_params
from console.core.outbound import OutboundPolicy
from tests.support.receivers import (
    ALIYUN_KEYS,
    DINGTALK_SECRET,
    FEISHU_SECRET,
    Certificates,
    SmtpReceiver,
    VendorReceiver,
    make_certificates,
)

LOOPBACK = OutboundPolicy.parse("127.0.0.1")
NOTHING_EXTRA = OutboundPolicy()
LINK = "https://bdc.example.gov.cn/interfaces/12?tab=probes&alert=7"
MESSAGE = Message(
    title="【严重】共享接口不可用：公安身份核验",
    text="接口：公安身份核验（省公安厅）\n连续 3 次探测失败\n最近一次：超时（超过 3000 毫秒）",
    link=LINK,
    severity="critical",
)
KEY_ID, KEY_SECRET = next(iter(ALIYUN_KEYS.items()))
MOBILES = ["13800138000", "19912345678"]


@pytest.fixture
def vendors() -> Iterator[VendorReceiver]:
    receiver = VendorReceiver()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-tls"))


def _robot(kind: str, vendors: VendorReceiver, **overrides: str) -> dict[str, str]:
    config = {
        "dingtalk": {"webhook": vendors.dingtalk_url, "secret": DINGTALK_SECRET},
        "wecom": {"webhook": vendors.wecom_url},
        "feishu": {"webhook": vendors.feishu_url, "secret": FEISHU_SECRET},
        "sms_aliyun": {
            "access_key_id": KEY_ID,
            "access_key_secret": KEY_SECRET,
            "sign_name": "不动产登记中心",
            "template_code": "SMS_123456789",
            "endpoint": vendors.aliyun_endpoint,
        },
    }[kind]
    return config | overrides


def _recipients(kind: str) -> list[str]:
    return [] if kind == "feishu" else list(MOBILES)


# -- group robots ------------------------------------------------------------------------------


def test_dingtalk_markdown_arrives_signed_with_mentions(vendors: VendorReceiver) -> None:
    result = send("dingtalk", _robot("dingtalk", vendors), MOBILES, MESSAGE, policy=LOOPBACK)

    assert result == SendResult(ok=True, category="", detail="", retry=False)
    assert vendors.rejected == []
    [got] = vendors.received
    assert {"timestamp", "sign"} <= got.query.keys()  # the receiver checked them
    assert got.headers["content-type"].startswith("application/json")
    assert got.body["msgtype"] == "markdown"
    assert got.body["markdown"]["title"] == MESSAGE.title
    text = got.body["markdown"]["text"]
    assert MESSAGE.title in text and "连续 3 次探测失败" in text
    assert f"[查看证据]({LINK})" in text
    assert got.body["at"] == {"atMobiles": MOBILES, "isAtAll": False}
    assert all(f"@{mobile}" in text for mobile in MOBILES)  # DingTalk highlights only these


def test_dingtalk_without_signing_secret(vendors: VendorReceiver) -> None:
    vendors.dingtalk_secret = ""
    config = {"webhook": vendors.dingtalk_url}
    assert send("dingtalk", config, [], MESSAGE, policy=LOOPBACK).ok
    assert "sign" not in vendors.received[0].query


def test_wecom_markdown_arrives_and_mentions_follow(vendors: VendorReceiver) -> None:
    result = send("wecom", _robot("wecom", vendors), MOBILES, MESSAGE, policy=LOOPBACK)

    assert result.ok, result
    markdown_msg, mention = vendors.received
    content = markdown_msg.body["markdown"]["content"]
    assert markdown_msg.body["msgtype"] == "markdown"
    assert MESSAGE.title in content and f"[查看证据]({LINK})" in content
    assert mention.body["msgtype"] == "text"
    assert mention.body["text"]["mentioned_mobile_list"] == MOBILES


def test_wecom_markdown_is_cut_to_its_byte_limit(vendors: VendorReceiver) -> None:
    long = Message(MESSAGE.title, "不动产登记信息共享接口连续探测失败。\n" * 400, LINK, "major")
    result = send("wecom", _robot("wecom", vendors), [], long, policy=LOOPBACK)

    assert result.ok, result  # the receiver refuses more than 4096 bytes, as WeCom does
    content = vendors.received[0].body["markdown"]["content"]
    assert len(content.encode()) <= 4096 and content.endswith("…")


def test_feishu_card_arrives_signed(vendors: VendorReceiver) -> None:
    result = send("feishu", _robot("feishu", vendors), [], MESSAGE, policy=LOOPBACK)

    assert result.ok, result
    [got] = vendors.received
    assert isinstance(got.body["timestamp"], str) and got.body["sign"]
    assert got.body["msg_type"] == "interactive"
    header = got.body["card"]["header"]
    assert header["title"]["content"] == MESSAGE.title and header["template"] == "red"
    body = got.body["card"]["elements"][0]["content"]
    assert "级别**：严重" in body and f"[查看证据]({LINK})" in body


@pytest.mark.parametrize(
    ("kind", "secret"),
    [("dingtalk", "SEC" + "f" * 64), ("feishu", "another-secret-entirely")],
)
def test_wrong_secret_is_a_signature_failure_not_retried(
    vendors: VendorReceiver, kind: str, secret: str
) -> None:
    config = _robot(kind, vendors, secret=secret)
    result = send(kind, config, [], MESSAGE, policy=LOOPBACK)

    assert (result.ok, result.category, result.retry) == (False, "签名校验失败", False)
    assert vendors.received == [] and vendors.rejected
    assert secret not in result.detail and "token" not in result.detail


@pytest.mark.parametrize("kind", ["dingtalk", "wecom", "feishu", "sms_aliyun"])
def test_rate_limit_is_retried_later(vendors: VendorReceiver, kind: str) -> None:
    vendors.mode = "rate_limit"
    result = send(kind, _robot(kind, vendors), _recipients(kind), MESSAGE, policy=LOOPBACK)

    assert (result.ok, result.category, result.retry) == (False, "发送过于频繁", True)
    assert result.detail.startswith("错误码 ")


@pytest.mark.parametrize(
    ("kind", "token"), [("dingtalk", "dt-token-0123456789"), ("wecom", "wecom-key-0123456789")]
)
def test_unknown_token_is_not_retried_and_never_logged(
    vendors: VendorReceiver, kind: str, token: str
) -> None:
    vendors.dingtalk_token = vendors.wecom_key = "the-real-one"
    config = _robot(kind, vendors)
    config["webhook"] = config["webhook"].replace("the-real-one", token)

    result = send(kind, config, [], MESSAGE, policy=LOOPBACK)

    assert (result.ok, result.category, result.retry) == (False, "令牌无效", False)
    assert token not in result.detail


def test_a_slow_robot_times_out_within_the_deadline(vendors: VendorReceiver) -> None:
    vendors.mode, vendors.delay = "slow", 5.0
    started = time.monotonic()
    result = send(
        "wecom", _robot("wecom", vendors), [], MESSAGE, policy=LOOPBACK, deadline_seconds=0.5
    )

    assert (result.ok, result.category, result.retry) == (False, "超时", True)
    assert time.monotonic() - started < 2.5
    assert vendors.received == []


def test_cloud_metadata_is_refused_whatever_the_allow_list() -> None:
    policy = OutboundPolicy.parse("169.254.0.0/16")
    config = {"webhook": "https://169.254.169.254/robot/send?access_token=abc"}

    assert config_problems("dingtalk", config, policy=policy) == {"Webhook 地址": NOT_LISTED}
    result = send("dingtalk", config, [], MESSAGE, policy=policy)
    assert (result.ok, result.category, result.retry) == (False, "地址不允许", False)


def test_loopback_without_allow_list_is_refused_before_any_connection(
    vendors: VendorReceiver,
) -> None:
    port = vendors.server.server_address[1]
    config = {"webhook": f"https://127.0.0.1:{port}/cgi-bin/webhook/send?key=k"}

    assert config_problems("wecom", config, policy=NOTHING_EXTRA) == {"Webhook 地址": NOT_LISTED}
    result = send("wecom", config, [], MESSAGE, policy=NOTHING_EXTRA)

    assert (result.ok, result.category) == (False, "地址不允许")
    assert vendors.connections == 0


def test_plain_http_only_to_listed_hosts(vendors: VendorReceiver) -> None:
    outside = {"webhook": "http://oapi.dingtalk.com/robot/send?access_token=abc"}
    problems = config_problems("dingtalk", outside, policy=NOTHING_EXTRA, resolve=False)
    assert "https" in problems["Webhook 地址"]
    refused = send("dingtalk", outside, [], MESSAGE, policy=NOTHING_EXTRA)
    assert (refused.category, refused.retry) == ("配置无效", False)
    assert refused.detail.startswith("Webhook 地址：") and "abc" not in refused.detail

    listed = {"webhook": vendors.wecom_url}
    assert config_problems("wecom", listed, policy=LOOPBACK) == {}


# -- configuration checks ----------------------------------------------------------------------

GOOD_EMAIL = {
    "host": "smtp.example.gov.cn",
    "security": "starttls",
    "sender": "alert@example.gov.cn",
}
DT = "https://oapi.dingtalk.com/robot/send"
WC = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
FS = "https://open.feishu.cn/open-apis/bot/v2/hook/x"
TO = ["a@example.gov.cn"]
W = "Webhook 地址"
PLAIN_LOGIN = {"security": "none", "username": "u", "password": "p"}
ALIYUN_HTTP = {"endpoint": "http://dysmsapi.aliyuncs.com/"}
GOOD_SMS = {
    "access_key_id": KEY_ID,
    "access_key_secret": KEY_SECRET,
    "sign_name": "不动产登记中心",
    "template_code": "SMS_123456789",
}


@pytest.mark.parametrize(
    ("kind", "config", "recipients", "field", "says"),
    [
        ("dingtalk", {"webhook": f"{DT}?access_token=t", "secret": "abc"}, [], "签名密钥", "SEC"),
        ("dingtalk", {"webhook": DT}, [], W, "access_token"),
        ("dingtalk", {"webhook": "https://u:p@oapi.dingtalk.com/"}, [], W, "用户名"),
        ("dingtalk", {"webhook": "ftp://oapi.dingtalk.com/?access_token=t"}, [], W, "https"),
        ("dingtalk", {"webhook": ""}, [], "Webhook 地址", "必须填写"),
        ("wecom", {"webhook": f"{WC}?key=k"}, ["12345"], "提醒手机号", "第 1 个"),
        ("wecom", {"webhook": WC}, [], "Webhook 地址", "key"),
        ("feishu", {"webhook": FS, "secret": "a b"}, [], "签名密钥", "空格"),
        ("feishu", {"webhook": FS}, MOBILES, "提醒手机号", "不支持"),
        ("email", GOOD_EMAIL | {"sender": "alert"}, TO, "发件人", "电子邮件"),
        ("email", GOOD_EMAIL | {"port": "70000"}, TO, "端口", "65535"),
        ("email", GOOD_EMAIL | {"port": "25a"}, TO, "端口", "整数"),
        ("email", GOOD_EMAIL | {"security": "tls"}, TO, "安全方式", "starttls"),
        ("email", GOOD_EMAIL | {"host": "smtp example"}, TO, "SMTP 服务器", "主机名"),
        ("email", GOOD_EMAIL | PLAIN_LOGIN, TO, "安全方式", "不加"),
        ("email", GOOD_EMAIL | {"username": "u"}, TO, "密码", "密码"),
        ("email", GOOD_EMAIL | {"username": "u", "password": "口令"}, TO, "密码", "中文"),
        ("email", GOOD_EMAIL | {"ca_pem": "-----BEGIN CERTIFICATE-----\n"}, TO, "CA 证书", "PEM"),
        ("email", GOOD_EMAIL, ["a@example.gov.cn", "not an address"], "收件人", "第 2 个"),
        ("email", GOOD_EMAIL, ["a@example.gov.cn\r\nBcc: x@evil.example"], "收件人", "第 1 个"),
        ("email", GOOD_EMAIL, [], "收件人", "至少"),
        ("sms_aliyun", GOOD_SMS, ["1380013800"], "接收手机号", "第 1 个"),
        ("sms_aliyun", GOOD_SMS, ["13800138000", "12800138000"], "接收手机号", "第 2 个"),
        ("sms_aliyun", GOOD_SMS | {"template_code": "ABC"}, MOBILES, "模板编号", "SMS_"),
        ("sms_aliyun", GOOD_SMS | {"access_key_secret": ""}, MOBILES, "AccessKey Secret", "必须"),
        ("sms_aliyun", GOOD_SMS | ALIYUN_HTTP, MOBILES, "接口地址", "https"),
        ("pager", {}, [], "渠道类型", "不支持"),
    ],
)  # fmt: skip
def test_config_problems_name_the_field(
    kind: str, config: dict[str, str], recipients: list[str], field: str, says: str
) -> None:
    problems = config_problems(
        kind, config, policy=NOTHING_EXTRA, recipients=recipients, resolve=False
    )
    assert field in problems, problems
    assert says in problems[field]
    refused = send(kind, config, recipients, MESSAGE, policy=NOTHING_EXTRA)
    assert (refused.ok, refused.category, refused.retry) == (False, "配置无效", False)


@pytest.mark.parametrize("kind", ["dingtalk", "wecom", "feishu", "sms_aliyun"])
def test_a_good_configuration_has_no_problems(vendors: VendorReceiver, kind: str) -> None:
    config = _robot(kind, vendors)
    assert config_problems(kind, config, policy=LOOPBACK, recipients=_recipients(kind)) == {}


def test_every_kind_declares_its_secrets() -> None:
    assert KINDS.keys() == SECRET_KEYS.keys()
    assert SECRET_KEYS["dingtalk"] == {"webhook", "secret"}
    assert SECRET_KEYS["email"] == {"password"}
    assert SECRET_KEYS["sms_aliyun"] == {"access_key_secret"}


# -- rendering -------------------------------------------------------------------------------


def test_email_body_keeps_the_link_on_its_own_line() -> None:
    lines = email_body(MESSAGE).splitlines()
    assert lines[0] == MESSAGE.title
    assert LINK in lines and "连续 3 次探测失败" in lines
    assert "查看证据" not in email_body(Message("标题", "正文", "", "info"))


def test_robot_markdown_links_the_evidence_only_when_there_is_a_link() -> None:
    assert f"[查看证据]({LINK})" in markdown(MESSAGE)
    assert "查看证据" not in markdown(Message("标题", "正文", "", "info"))
    assert markdown(Message("一\n二", "x")).startswith("#### 一 二\n\n")  # the title, one line


def test_sms_carries_only_the_title_cut_to_35_characters() -> None:
    long = Message("【严重】" + "共享接口不可用" * 10, "正文不进短信", LINK, "critical")
    params = sms_params(long)
    assert list(params) == ["title"] and len(params["title"]) == 35
    assert params["title"].startswith("【严重】共享接口不可用") and params["title"].endswith("…")
    assert sms_params(MESSAGE, "name") == {"name": MESSAGE.title}


# -- SMS -------------------------------------------------------------------------------------


def test_aliyun_signature_matches_the_vendors_worked_example() -> None:
    # The example in Aliyun's SendSms signature documentation (AccessKeySecret "testSecret").
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun_signature("testSecret", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_aliyun_sms_arrives_signed(vendors: VendorReceiver) -> None:
    long = Message(
        "【严重】共享接口不可用：" + "不动产登记信息共享交换接口" * 3, "正文", LINK, "critical"
    )
    result = send("sms_aliyun", _robot("sms_aliyun", vendors), MOBILES, long, policy=LOOPBACK)

    assert result.ok, (result, vendors.rejected)
    [got] = vendors.received
    assert got.query["PhoneNumbers"] == ",".join(MOBILES)
    assert (
        got.query["SignName"] == "不动产登记中心" and got.query["TemplateCode"] == "SMS_123456789"
    )
    assert got.body == {"title": sms_params(long)["title"]}


def test_aliyun_wrong_secret_and_unknown_key(vendors: VendorReceiver) -> None:
    wrong = _robot("sms_aliyun", vendors, access_key_secret="NotTheSecret000000000000000001")
    result = send("sms_aliyun", wrong, MOBILES, MESSAGE, policy=LOOPBACK)
    assert (result.ok, result.category, result.retry) == (False, "签名校验失败", False)
    assert result.detail == "错误码 SignatureDoesNotMatch"  # not Aliyun's string to sign

    unknown = _robot("sms_aliyun", vendors, access_key_id="LTAI5tNoSuchKey0000")
    result = send("sms_aliyun", unknown, MOBILES, MESSAGE, policy=LOOPBACK)
    assert (result.ok, result.category, result.retry) == (False, "认证失败", False)
    assert vendors.received == []


# -- e-mail ----------------------------------------------------------------------------------


def _mail_config(port: int, **overrides: str) -> dict[str, str]:
    config = {
        "host": "127.0.0.1",
        "port": str(port),
        "security": "none",
        "sender": "alert@bdc.example.gov.cn",
        "sender_name": "不动产登记运维监管平台",
    }
    return config | overrides


def test_email_arrives_with_a_chinese_subject_and_the_link() -> None:
    smtp = SmtpReceiver()
    try:
        to = ["ops@bdc.example.gov.cn", "duty@bdc.example.gov.cn"]
        config = _mail_config(smtp.port) | {"port": smtp.port}  # as JSON may give it: a number
        result = send("email", config, to, MESSAGE, policy=LOOPBACK)
        assert result == SendResult(ok=True)
        [(envelope, email)] = smtp.messages
    finally:
        smtp.stop()
    assert envelope.mail_from == "alert@bdc.example.gov.cn" and envelope.rcpt_tos == to
    raw_subject = next(
        line
        for line in envelope.original_content.decode("ascii").splitlines()
        if line.startswith("Subject:")
    )
    assert "=?utf-8?" in raw_subject.lower()  # RFC 2047, the raw message is all ASCII
    assert email["Subject"] == MESSAGE.title
    assert email["From"].addresses[0].display_name == "不动产登记运维监管平台"
    body = email.get_content()
    assert LINK in body.splitlines() and "连续 3 次探测失败" in body


def test_starttls_with_a_private_ca_and_login(certificates: Certificates) -> None:
    smtp = SmtpReceiver(tls="starttls", certificates=certificates, login=("alert", "s3cret-Pass"))
    try:
        config = _mail_config(
            smtp.port,
            host="localhost",
            security="starttls",
            username="alert",
            password="s3cret-Pass",
            ca_pem=certificates.ca_pem,
        )
        result = send("email", config, ["ops@bdc.example.gov.cn"], MESSAGE, policy=LOOPBACK)
        assert result.ok, result
        assert len(smtp.messages) == 1 and smtp.auth_attempts == 1
    finally:
        smtp.stop()


def test_starttls_without_the_ca_is_a_certificate_error(certificates: Certificates) -> None:
    smtp = SmtpReceiver(tls="starttls", certificates=certificates)
    try:
        config = _mail_config(smtp.port, host="localhost", security="starttls")
        result = send("email", config, ["ops@bdc.example.gov.cn"], MESSAGE, policy=LOOPBACK)
        assert (result.ok, result.category, result.retry) == (False, "证书错误", False)
        assert smtp.messages == []
    finally:
        smtp.stop()


def test_wrong_password_is_an_authentication_failure(certificates: Certificates) -> None:
    smtp = SmtpReceiver(tls="starttls", certificates=certificates, login=("alert", "right"))
    try:
        config = _mail_config(
            smtp.port,
            host="localhost",
            security="starttls",
            username="alert",
            password="wrong-password",
            ca_pem=certificates.ca_pem,
        )
        result = send("email", config, ["ops@bdc.example.gov.cn"], MESSAGE, policy=LOOPBACK)
        assert (result.ok, result.category, result.retry) == (False, "认证失败", False)
        assert "wrong-password" not in result.detail and result.detail.startswith("登录阶段")
        assert smtp.messages == []
    finally:
        smtp.stop()


def test_implicit_tls_checks_the_host_name_not_the_address(certificates: Certificates) -> None:
    smtp = SmtpReceiver(tls="ssl", certificates=certificates)
    try:
        # "localhost" is checked against the certificate; the connection goes to 127.0.0.1.
        config = _mail_config(
            smtp.port, host="localhost", security="ssl", ca_pem=certificates.ca_pem
        )
        result = send("email", config, ["ops@bdc.example.gov.cn"], MESSAGE, policy=LOOPBACK)
        assert result.ok, result
        assert len(smtp.messages) == 1
    finally:
        smtp.stop()


def test_smtp_to_loopback_without_allow_list_is_refused() -> None:
    smtp = SmtpReceiver()
    try:
        config = _mail_config(smtp.port)
        problems = config_problems("email", config, policy=NOTHING_EXTRA, recipients=["a@b.cn"])
        assert problems == {"SMTP 服务器": NOT_LISTED}
        result = send("email", config, ["a@b.cn"], MESSAGE, policy=NOTHING_EXTRA)
        assert (result.ok, result.category, result.retry) == (False, "地址不允许", False)
        assert smtp.messages == []
    finally:
        smtp.stop()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dripping_server(listener: socket.socket, stop: threading.Event) -> None:
    """Greets a byte every 0.1 s, never finishing the line: each read is quick, the whole is not."""
    connection, _ = listener.accept()
    with connection:
        connection.sendall(b"220-")
        for _ in range(30):  # 3 s at most, so a broken deadline fails the test, not hangs it
            if stop.wait(0.1):
                return
            try:
                connection.sendall(b"x")
            except OSError:
                return


def test_smtp_refused_and_dripping_servers() -> None:
    refused = send("email", _mail_config(_closed_port()), ["a@b.cn"], MESSAGE, policy=LOOPBACK)
    assert (refused.ok, refused.category, refused.retry) == (False, "拒绝连接", True)

    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        drip = threading.Thread(target=_dripping_server, args=(listener, stop), daemon=True)
        drip.start()
        started = time.monotonic()
        config = _mail_config(listener.getsockname()[1])
        result = send("email", config, ["a@b.cn"], MESSAGE, policy=LOOPBACK, deadline_seconds=0.6)
        elapsed = time.monotonic() - started
        stop.set()
        drip.join(5)
    assert (result.ok, result.category, result.retry) == (False, "超时", True)
    assert elapsed < 2.5  # the total deadline, not the socket timeout per read
