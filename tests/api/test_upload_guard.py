"""POST /_upload is checked before its body is read: the handler, the session, the size."""

from __future__ import annotations

import json
import secrets
import socket
import urllib.parse

from sqlmodel import select

from console.audit.models import OperationLog
from console.core.crypto import sm3_hex
from console.core.db import session_scope
from console.iam.models import LoginSession, User
from tests.support.server import ConsoleServer

DICTIONARY_IMPORT = (
    "reflex___state____state.console___dictionaries___state____dictionary_state.upload_import"
)


def _session_cookie(server: ConsoleServer, account: str, role: str) -> str:
    """A signed-in browser's cookie for a new account holding ``role``."""
    server.console(
        "user", "create", "--account", account, "--name", "上传测试", "--tenant", "330000",
        "--role", role,
    )  # fmt: skip
    token = secrets.token_urlsafe(32)
    with session_scope(server.db_url) as session:
        user = session.exec(select(User).where(User.account == account)).one()
        user.must_change_password = False
        session.add(user)
        session.add(LoginSession(token_digest=sm3_hex(token), user_id=user.id))
    return f"bdc_session={token}"


def _post_head(
    server: ConsoleServer, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict]:
    """Send the request line and headers (and ``body``), read the answer; no full body needed."""
    address = urllib.parse.urlsplit(server.base_url)
    lines = ["POST /_upload HTTP/1.1", f"Host: {address.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, {}


def test_an_upload_without_a_session_is_refused_before_its_body(
    console_server: ConsoleServer,
) -> None:
    status, body = _post_head(
        console_server,
        {"Reflex-Event-Handler": DICTIONARY_IMPORT, "Content-Length": "5000000"},
    )
    assert status == 401 and body["detail"]


def test_an_upload_to_an_unknown_handler_is_refused(console_server: ConsoleServer) -> None:
    status, _ = _post_head(
        console_server,
        {"Reflex-Event-Handler": "reflex___state____state.anything.else", "Content-Length": "10"},
        b"0123456789",
    )
    assert status == 404


def test_an_upload_over_its_cap_is_refused_by_its_declared_size(
    console_server: ConsoleServer,
) -> None:
    cookie = _session_cookie(console_server, "upload_admin", "sys_admin")
    status, body = _post_head(
        console_server,
        {
            "Reflex-Event-Handler": DICTIONARY_IMPORT,
            "Content-Length": str(2 * 1024 * 1024 * 1024),  # 2 GB declared, nothing sent
            "Cookie": cookie,
        },
    )
    assert status == 413 and "MB" in body["detail"]
    status, _ = _post_head(
        console_server,
        {"Reflex-Event-Handler": DICTIONARY_IMPORT, "Transfer-Encoding": "chunked",
         "Cookie": cookie},
    )  # fmt: skip
    assert status == 411


def test_an_upload_by_someone_without_the_permission_is_refused_and_logged(
    console_server: ConsoleServer,
) -> None:
    cookie = _session_cookie(console_server, "upload_clerk", "window_clerk")
    status, body = _post_head(
        console_server,
        {"Reflex-Event-Handler": DICTIONARY_IMPORT, "Content-Length": "100", "Cookie": cookie},
    )
    assert status == 403 and "无权限" in body["detail"]
    with session_scope(console_server.db_url) as session:
        denied = session.exec(
            select(OperationLog).where(
                OperationLog.actor_account == "upload_clerk", OperationLog.outcome == "denied"
            )
        ).all()
    assert len(denied) == 1
