"""Vendor look-alikes on 127.0.0.1 for the notification senders' tests.

``VendorReceiver`` plays DingTalk, WeCom and Feishu group robots and Aliyun SMS on one HTTP
server. It checks each signature the way the vendor documents it, recomputed here from the
shared secret (independently of the sender's code), records what it accepted, and answers
with the vendor's own success or error JSON. ``SmtpReceiver`` is an aiosmtpd server that
keeps every message it is given, with STARTTLS / implicit TLS and AUTH when asked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote_plus, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DINGTALK_SECRET = "SEC" + "0123456789abcdef" * 4
FEISHU_SECRET = "kGSr3VN2mRdyLcFi8AOkS"
ALIYUN_KEYS = {"LTAI5tTestKeyId0001": "TestAccessKeySecret0000000001"}
HOUR = 3600


@dataclass
class Received:
    """One accepted request."""

    vendor: str  # dingtalk | wecom | feishu | aliyun
    query: dict[str, str]
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class VendorReceiver:
    """DingTalk, WeCom, Feishu and Aliyun SMS on one local HTTP server."""

    dingtalk_token: str = "dt-token-0123456789"
    dingtalk_secret: str = DINGTALK_SECRET
    wecom_key: str = "wecom-key-0123456789"
    feishu_token: str = "feishu-hook-0123456789"
    feishu_secret: str = FEISHU_SECRET
    aliyun_keys: dict[str, str] = field(default_factory=lambda: dict(ALIYUN_KEYS))
    mode: str = "ok"  # ok | rate_limit | slow
    delay: float = 3.0  # how long "slow" waits before answering
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # why requests were turned away
    connections: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._nonces: set[str] = set()
        self.server = _CountingServer(("127.0.0.1", 0), _handler(self), self)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:port``."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def dingtalk_url(self) -> str:
        """The robot's webhook, as DingTalk shows it."""
        return f"{self.base}/robot/send?access_token={self.dingtalk_token}"

    @property
    def wecom_url(self) -> str:
        """The robot's webhook, as WeCom shows it."""
        return f"{self.base}/cgi-bin/webhook/send?key={self.wecom_key}"

    @property
    def feishu_url(self) -> str:
        """The robot's webhook, as Feishu shows it."""
        return f"{self.base}/open-apis/bot/v2/hook/{self.feishu_token}"

    @property
    def aliyun_endpoint(self) -> str:
        """Where SendSms is called."""
        return f"{self.base}/"

    def stop(self) -> None:
        """Release any held answer and stop serving."""
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    # -- the vendors ---------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any]:
        """(status, JSON) for one request."""
        if self.mode == "slow":
            self._release.wait(self.delay)
        parts = urlsplit(path)
        if method == "GET" and parts.path == "/":
            return self._aliyun(parts.query)
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"errcode": 40001, "errmsg": "invalid json"}
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == "/robot/send":
            return self._dingtalk(query, body, headers)
        if parts.path == "/cgi-bin/webhook/send":
            return self._wecom(query, body, headers)
        if parts.path.startswith("/open-apis/bot/v2/hook/"):
            return self._feishu(parts.path.rsplit("/", 1)[1], body, headers)
        return 404, {"error": "not found"}

    def _accept(
        self, vendor: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> None:
        with self._lock:
            self.received.append(Received(vendor, query, body, headers))

    def _reject(self, why: str) -> None:
        with self._lock:
            self.rejected.append(why)

    def _dingtalk(
        self, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        # https://open.dingtalk.com/document/robots/customize-robot-security-settings
        if query.get("access_token") != self.dingtalk_token:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if self.dingtalk_secret:
            timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
            if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > HOUR * 1000:
                self._reject("dingtalk: timestamp")
                return 200, {"errcode": 310000, "errmsg": "invalid timestamp"}
            # string_to_sign = timestamp + "\n" + secret, HmacSHA256 with the secret as key,
            # Base64, then urlEncode once: parse_qs above undid exactly that one encoding.
            string_to_sign = f"{timestamp}\n{self.dingtalk_secret}"
            expected = base64.b64encode(
                hmac.new(
                    self.dingtalk_secret.encode("utf-8"),
                    string_to_sign.encode("utf-8"),
                    digestmod=hashlib.sha256,
                ).digest()
            ).decode()
            if not hmac.compare_digest(sign, expected):
                self._reject("dingtalk: sign")
                return 200, {
                    "errcode": 310000,
                    "errmsg": "sign not match, more: [https://ding-doc]",
                }
        if self.mode == "rate_limit":
            return 200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        if body.get("msgtype") not in ("markdown", "text"):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 json"}
        self._accept("dingtalk", query, body, headers)
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _wecom(self, query: dict[str, str], body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        # https://developer.work.weixin.qq.com/document/path/91770
        if query.get("key") != self.wecom_key:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1]"}
        if self.mode == "rate_limit":
            return 200, {"errcode": 45009, "errmsg": "api freq out of limit"}
        kind = body.get("msgtype")
        content = (body.get(kind) or {}).get("content", "") if kind in ("markdown", "text") else ""
        if not content:
            return 200, {"errcode": 44004, "errmsg": "empty content"}
        if kind == "markdown" and len(content.encode()) > 4096:
            return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        self._accept("wecom", query, body, headers)
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _feishu(self, token: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        # https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
        if token != self.feishu_token:
            return 200, {
                "code": 19001,
                "msg": "param invalid: incoming webhook access token invalid",
            }
        if self.feishu_secret:
            timestamp, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
            # stringToSign = timestamp + "\n" + secret is the HmacSHA256 *key*; the data is empty.
            string_to_sign = f"{timestamp}\n{self.feishu_secret}"
            expected = base64.b64encode(
                hmac.new(string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest()
            ).decode()
            stale = not timestamp.isdigit() or abs(time.time() - int(timestamp)) > HOUR
            if stale or not hmac.compare_digest(sign, expected):
                self._reject("feishu: sign")
                return 200, {
                    "code": 19021,
                    "data": {},
                    "msg": "sign match fail or timestamp is not within one hour from current time",
                }
        if self.mode == "rate_limit":
            return 200, {"code": 11232, "data": {}, "msg": "frequency limited psm[x]appID[1]"}
        if body.get("msg_type") not in ("text", "post", "interactive", "image", "share_chat"):
            return 200, {"code": 9499, "data": {}, "msg": "Bad Request"}
        self._accept("feishu", {}, body, headers)
        return 200, {
            "StatusCode": 0,
            "StatusMessage": "success",
            "code": 0,
            "data": {},
            "msg": "success",
        }

    def _aliyun(self, raw_query: str) -> tuple[int, Any]:
        # https://help.aliyun.com/zh/sdk/product-overview/rpc-mechanism (signature v1)
        request_id = "F655A8D5-B967-440B-8683-DAD6FF8DE990"
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        signature = params.pop("Signature", "")
        secret = self.aliyun_keys.get(params.get("AccessKeyId", ""))
        if secret is None:
            return 404, {
                "Code": "InvalidAccessKeyId.NotFound",
                "Message": "Specified access key is not found.",
                "RequestId": request_id,
            }
        canonical = "&".join(
            f"{_aliyun_encode(k)}={_aliyun_encode(params[k])}" for k in sorted(params)
        )
        string_to_sign = "GET&" + _aliyun_encode("/") + "&" + _aliyun_encode(canonical)
        expected = base64.b64encode(
            hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if not hmac.compare_digest(signature, expected):
            self._reject("aliyun: signature")
            return 400, {
                "Code": "SignatureDoesNotMatch",
                # Aliyun echoes its string to sign; the sender must not copy it into a log.
                "Message": "Specified signature is not matched with our calculation. "
                f"server string to sign is:{string_to_sign}",
                "RequestId": request_id,
            }
        problem = self._aliyun_params(params)
        if problem is not None:
            return problem
        if self.mode == "rate_limit":
            return 200, {
                "Code": "isv.BUSINESS_LIMIT_CONTROL",
                "Message": "触发分钟级流控Permits:1",
                "RequestId": request_id,
            }
        self._accept("aliyun", params, json.loads(params["TemplateParam"]), {})
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": "900619746936498440^0",
            "RequestId": request_id,
        }

    def _aliyun_params(self, params: dict[str, str]) -> tuple[int, Any] | None:
        fixed = {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "Format": "JSON",
        }
        if any(params.get(key) != value for key, value in fixed.items()):
            return 400, {"Code": "MissingParameter", "Message": "wrong fixed parameter"}
        moment = datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC
        )
        if abs(datetime.now(UTC) - moment) > timedelta(minutes=15):
            return 400, {"Code": "InvalidTimeStamp.Expired", "Message": "expired"}
        with self._lock:
            if params["SignatureNonce"] in self._nonces:
                return 400, {"Code": "SignatureNonceUsed", "Message": "nonce used"}
            self._nonces.add(params["SignatureNonce"])
        if not all(
            re.fullmatch(r"1[3-9]\d{9}", p) for p in params.get("PhoneNumbers", "").split(",")
        ):
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        template = json.loads(params.get("TemplateParam") or "{}")
        if any(len(str(value)) > 35 for value in template.values()):
            return 200, {"Code": "isv.PARAM_LENGTH_LIMIT", "Message": "参数超出长度限制"}
        return None


def _aliyun_encode(value: str) -> str:
    """Aliyun's documented percentEncode: URLEncoder.encode, then + → %20, * → %2A, %7E → ~."""
    return quote_plus(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


class _CountingServer(ThreadingHTTPServer):
    """Counts every connection, so a test can prove none was made."""

    def __init__(self, address: tuple[str, int], handler: type, receiver: VendorReceiver) -> None:
        super().__init__(address, handler)
        self.receiver = receiver

    def verify_request(self, request: Any, client_address: Any) -> bool:
        with self.receiver._lock:
            self.receiver.connections += 1
        return True


def _handler(receiver: VendorReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, answer = receiver.answer(method, self.path, headers, raw)
            data = json.dumps(answer, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the sender gave up (its deadline passed)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


# -- SMTP --------------------------------------------------------------------------------------


@dataclass
class Certificates:
    """A private CA and a server certificate it signed for ``localhost`` (the name only)."""

    ca_pem: str
    cert_file: Path
    key_file: Path


def make_certificates(folder: Path) -> Certificates:
    """Generate the CA and the server's certificate (EC P-256, valid for a day)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "BDC Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    # Only the name: a sender that verified the address it connected to would fail.
    names = [x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificates(ca.public_bytes(serialization.Encoding.PEM).decode(), cert_file, key_file)


class _Inbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, EmailMessage]] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = message_from_bytes(raw, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 Message accepted for delivery"


class _AnyPortController(Controller):
    """aiosmtpd's Controller on a port the system picks (port 0)."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpReceiver:
    """An SMTP server on 127.0.0.1 that keeps what it is sent.

    ``tls``: None (plain), "starttls" or "ssl"; with ``login`` AUTH is required and only that
    (user, password) is accepted.
    """

    def __init__(
        self,
        *,
        tls: str | None = None,
        certificates: Certificates | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.inbox = _Inbox()
        self.auth_attempts = 0
        context = None
        if tls:
            assert certificates is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certificates.cert_file, certificates.key_file)
        options: dict[str, Any] = {}
        if login is not None:
            options = {"auth_required": True, "authenticator": self._authenticator(login)}
        if tls == "starttls":
            options |= {"tls_context": context, "require_starttls": True}
        elif login is not None and tls is None:
            options["auth_require_tls"] = False
        self.controller = _AnyPortController(
            self.inbox,
            hostname="127.0.0.1",
            port=0,
            ssl_context=context if tls == "ssl" else None,
            ready_timeout=10,
            **options,
        )
        self.controller.start()
        self.port = self.controller.port

    def _authenticator(self, login: tuple[str, str]) -> Any:
        def check(
            server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            self.auth_attempts += 1
            ok = (
                isinstance(data, LoginPassword)
                and (
                    data.login.decode(),
                    data.password.decode(),
                )
                == login
            )
            return AuthResult(success=ok, handled=False)

        return check

    @property
    def messages(self) -> list[tuple[Envelope, EmailMessage]]:
        """(envelope, parsed message) for every message accepted."""
        return self.inbox.messages

    def stop(self) -> None:
        """Stop serving."""
        self.controller.stop()
