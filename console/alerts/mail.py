"""E-mail (电子邮件) over SMTP, with the outbound guard the HTTP client has.

The SMTP host is resolved once and every address checked against the outbound policy before
connecting; the connection goes to a checked address while TLS still verifies the host name.
One total deadline covers the whole conversation: a watchdog shuts the socket when it passes.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from console.alerts.delivery import (
    NOT_LISTED,
    SEVERITIES,
    Message,
    SendResult,
    clip,
    host_problem,
    is_email,
    is_host,
    one_line,
)
from console.core.outbound import OutboundPolicy, OutboundRefused

SECURITY = {"starttls": "STARTTLS（587）", "ssl": "SSL/TLS（465）", "none": "不加密（25）"}
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
MAX_RECIPIENTS = 100
SIGNATURE = "——不动产登记运维监管平台（自动发送，请勿回复）"

HOST, PORT, MODE, USER, PASSWORD = "SMTP 服务器", "端口", "安全方式", "用户名", "密码"
SENDER, SENDER_NAME, CA, RECIPIENTS = "发件人", "发件人名称", "CA 证书", "收件人"


# -- configuration -----------------------------------------------------------------------------


def email_problems(
    config: Mapping[str, str], recipients: Sequence[str], *, policy: OutboundPolicy, resolve: bool
) -> dict[str, str]:
    """Field -> reason for an SMTP channel."""
    problems: dict[str, str] = {}
    host = config.get("host", "").strip()
    if not host or not is_host(host):
        problems[HOST] = "必须填写有效的主机名或 IP 地址"
    elif resolve and (problem := host_problem(host, policy)):
        problems[HOST] = problem
    security = config.get("security") or "starttls"
    if security not in SECURITY:
        problems[MODE] = "只能是 starttls、ssl 或 none"
    if port_problem := _port_problem(config.get("port", "")):
        problems[PORT] = port_problem
    problems |= _login_problems(config, security)
    if not is_email(config.get("sender", "")):
        problems[SENDER] = "必须填写有效的电子邮件地址"
    name = config.get("sender_name", "")
    if len(name) > 64 or one_line(name) != name.strip():
        problems[SENDER_NAME] = "不能超过 64 个字符，也不能换行"
    if config.get("ca_pem") and not _context(config.get("ca_pem", "")):
        problems[CA] = "不是有效的 PEM 格式证书"
    return problems | recipient_problems(recipients)


def recipient_problems(recipients: Sequence[str]) -> dict[str, str]:
    """Field -> reason for the e-mail recipients (the addresses are not repeated back)."""
    if not recipients:
        return {RECIPIENTS: "至少填写一个收件人"}
    if len(recipients) > MAX_RECIPIENTS:
        return {RECIPIENTS: f"最多 {MAX_RECIPIENTS} 个收件人"}
    for number, address in enumerate(recipients, 1):
        if not is_email(address):
            return {RECIPIENTS: f"第 {number} 个不是有效的电子邮件地址"}
    return {}


def _port_problem(port: str) -> str:
    if not port:
        return ""
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return "必须是 1–65535 之间的整数"
    return ""


def _login_problems(config: Mapping[str, str], security: str) -> dict[str, str]:
    username, password = config.get("username", ""), config.get("password", "")
    if password and not username:
        return {USER: "填写密码时必须填写用户名"}
    if username and not password:
        return {PASSWORD: "填写用户名时必须填写密码"}
    if username and security == "none":
        # The password would cross the network in clear (AUTH PLAIN/LOGIN is only Base64).
        return {MODE: "需要登录时不能选择不加密，请选择 starttls 或 ssl"}
    if one_line(username) != username or len(username) > 254:
        return {USER: "格式不正确"}
    # smtplib sends AUTH PLAIN/LOGIN as ASCII only; better said here than failing at 3 a.m.
    if not username.isascii():
        return {USER: "只能包含英文字母、数字和符号"}
    if not password.isascii():
        return {PASSWORD: "只能包含英文字母、数字和符号（SMTP 登录不支持中文等字符）"}
    return {}


def _context(ca_pem: str) -> ssl.SSLContext | None:
    """A verifying context; with ``ca_pem`` it trusts only that (private) CA."""
    try:
        return ssl.create_default_context(cadata=ca_pem or None)
    except (ssl.SSLError, ValueError):  # not PEM, or no certificate in it
        return None


# -- the message -------------------------------------------------------------------------------


def email_body(message: Message) -> str:
    """Plain text: the title, the lines, the link on a line of its own, a signature."""
    severity = SEVERITIES.get(message.severity, message.severity)
    parts = [one_line(message.title), f"级别：{severity}", "", message.text.strip()]
    if message.link:
        parts += ["", "查看证据：", message.link]
    parts += ["", SIGNATURE]
    return "\n".join(parts) + "\n"


def build_email(
    config: Mapping[str, str], recipients: Sequence[str], message: Message
) -> EmailMessage:
    """The MIME message: UTF-8 throughout, the Chinese subject RFC 2047-encoded by the library."""
    sender = config["sender"]
    email = EmailMessage()
    email["Subject"] = clip(one_line(message.title), 200)  # a line break would inject headers
    email["From"] = Address(one_line(config.get("sender_name", "")), addr_spec=sender)
    email["To"] = ", ".join(recipients)
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[1])
    # Base64 body: safe through servers without 8BITMIME, and long links are never re-wrapped.
    email.set_content(email_body(message), charset="utf-8", cte="base64")
    return email


# -- sending ---------------------------------------------------------------------------------


class _PinnedSMTP(smtplib.SMTP):
    """Connects to a checked address; STARTTLS still verifies the host name (``_host``)."""

    def __init__(self, host: str, address: str, timeout: float) -> None:
        super().__init__(timeout=timeout, local_hostname=socket.gethostname())
        self._host, self._address = host, address

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._address, port), timeout, self.source_address)


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    """Implicit TLS to a checked address, verifying the host name."""

    def __init__(self, host: str, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(timeout=timeout, local_hostname=socket.gethostname(), context=context)
        self._host, self._address = host, address

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = socket.create_connection((self._address, port), timeout, self.source_address)
        return self.context.wrap_socket(raw, server_hostname=self._host)


def _allowed_addresses(host: str, port: int, policy: OutboundPolicy) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise OutboundRefused("无法解析域名", host) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    allowed = [address for address in addresses if policy.address_allowed(host, address)]
    if not allowed:
        raise OutboundRefused("地址不允许", f"{host}：{NOT_LISTED}")
    return allowed


class _Watchdog:
    """Shuts the session's socket when the total deadline passes: a blocked read returns."""

    def __init__(self, deadline_seconds: float, policy: OutboundPolicy) -> None:
        self.policy = policy
        self.smtp: smtplib.SMTP | None = None
        self.started = time.monotonic()
        self.deadline = deadline_seconds
        self._timer = threading.Timer(deadline_seconds, self._shut)
        self._timer.daemon = True

    @property
    def passed(self) -> bool:
        """Has the deadline passed?"""
        return time.monotonic() - self.started >= self.deadline

    def _shut(self) -> None:
        sock = self.smtp.sock if self.smtp is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing to end
                # The plain socket's shutdown: SSLSocket's own would race the reading thread.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _open(
    host: str, port: int, security: str, context: ssl.SSLContext, watchdog: _Watchdog
) -> smtplib.SMTP:
    """A connected session to the first checked address that answers."""
    failure: OSError | None = None
    for address in _allowed_addresses(host, port, watchdog.policy):
        smtp = (
            _PinnedSMTPSSL(host, address, watchdog.deadline, context)
            if security == "ssl"
            else _PinnedSMTP(host, address, watchdog.deadline)
        )
        watchdog.smtp = smtp
        try:
            smtp.connect(host, port)
        except (ConnectionRefusedError, ConnectionResetError) as error:
            failure = error
            smtp.close()
            continue
        except BaseException:
            smtp.close()
            raise
        return smtp
    assert failure is not None
    raise failure


def send_email(
    config: Mapping[str, str],
    recipients: Sequence[str],
    message: Message,
    *,
    policy: OutboundPolicy,
    deadline_seconds: float,
) -> SendResult:
    """One e-mail to all ``recipients`` through the configured SMTP server."""
    host = config["host"].strip()
    security = config.get("security") or "starttls"
    port = int(config.get("port") or DEFAULT_PORTS[security])
    context = _context(config.get("ca_pem", ""))
    assert context is not None  # checked by email_problems
    email = build_email(config, recipients, message)
    stage = "连接"
    with _Watchdog(deadline_seconds, policy) as watchdog:
        try:
            smtp = _open(host, port, security, context, watchdog)
            try:
                if security == "starttls":
                    stage = "加密"
                    smtp.starttls(context=context)
                if config.get("username"):
                    stage = "登录"
                    smtp.login(config["username"], config.get("password", ""))
                stage = "发送"
                refused = smtp.send_message(email, config["sender"], list(recipients))
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()  # the message is accepted: a lost goodbye changes nothing
            finally:
                smtp.close()
        except OutboundRefused as error:
            return SendResult.refused(error)
        except (smtplib.SMTPException, OSError, UnicodeError) as error:
            return _failure(error, stage, watchdog.passed)
    if refused:
        return SendResult.sent(f"{len(refused)} 个收件人被拒收")
    return SendResult.sent()


def _failure(error: Exception, stage: str, timed_out: bool) -> SendResult:
    """An SMTP or socket failure as a category; ``stage`` tells the run log where it happened."""
    code = getattr(error, "smtp_code", None)
    temporary = isinstance(code, int) and 400 <= code < 500
    detail = f"{stage}阶段" + (f"：SMTP {code}" if isinstance(code, int) else "")
    if isinstance(error, smtplib.SMTPAuthenticationError) or code in (530, 535, 534, 538):
        return SendResult.failed("认证失败", detail, retry=False)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        missing = "服务器不支持加密" if stage == "加密" else "服务器不支持登录"
        return SendResult.failed(missing, detail, retry=False)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [answer[0] for answer in error.recipients.values()]
        temporary = all(400 <= c < 500 for c in codes)
        return SendResult.failed("收件人无效", f"{detail}：{len(codes)} 个收件人被拒收", temporary)
    if isinstance(error, smtplib.SMTPSenderRefused):
        return SendResult.failed("发件人被拒", detail, temporary)
    if isinstance(error, smtplib.SMTPResponseException):
        return SendResult.failed("对方拒收", detail, temporary)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return SendResult.failed("超时" if timed_out else "连接中断", detail)
    return _socket_failure(error, detail, timed_out)


def _socket_failure(error: Exception, detail: str, timed_out: bool) -> SendResult:
    if isinstance(error, UnicodeError):  # a server that cannot take UTF-8 where it is needed
        return SendResult.failed("对方拒收", f"{detail}：字符编码不受支持", retry=False)
    if isinstance(error, ssl.SSLCertVerificationError):
        return SendResult.failed("证书错误", detail)
    if timed_out or isinstance(error, TimeoutError):
        return SendResult.failed("超时", detail)
    if isinstance(error, ConnectionRefusedError):
        return SendResult.failed("拒绝连接", detail)
    if isinstance(error, ssl.SSLError):
        return SendResult.failed("加密连接失败", detail, retry=False)
    if isinstance(error, smtplib.SMTPException):
        return SendResult.failed("通信失败", detail)
    return SendResult.failed("连接失败", detail)
