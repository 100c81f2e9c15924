"""POST /api/v1/logs/{stream} over real HTTP: bad lines reported, good ones kept exactly once."""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from console.core.clock import CHINA_TZ
from console.logs.pending import ingest_path
from console.logs.store import IngestStore
from tests.support.server import ConsoleServer


def _push(
    server: ConsoleServer, stream: str, body: bytes, key: str, *, gzipped: bool = False
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {key}"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body)
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/logs/{stream}", method="POST", data=body, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _push_oversized(
    server: ConsoleServer, stream: str, body: bytes, key: str, *, gzipped: bool = False
) -> tuple[int, dict]:
    """POST a body the server refuses before reading it all: read its answer while sending.

    The server answers 413 as soon as it sees the size and closes the connection; a client
    that reads only after sending everything may get a broken pipe instead of the answer.
    """
    if gzipped:
        body = gzip.compress(body)
    address = urllib.parse.urlsplit(server.base_url)
    head = (
        f"POST /api/v1/logs/{stream} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/x-ndjson\r\n"
        + ("Content-Encoding: gzip\r\n" if gzipped else "")
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    received = bytearray()
    with socket.create_connection((address.hostname, address.port), timeout=60) as sock:

        def read() -> None:
            try:
                while chunk := sock.recv(65536):
                    received.extend(chunk)
            except OSError:
                pass

        reader = threading.Thread(target=read)
        reader.start()
        # Refused before the end of the body: the answer is already on its way.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + body)
        reader.join(60)
    header, _, payload = bytes(received).partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in header.lower():
        payload = payload.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0]
    return status, json.loads(payload)


def _ndjson(*records: dict) -> bytes:
    return b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in records) + b"\n"


# Today, so the server's scheduler does not seal these events while the test counts them.
NOW = datetime.now(CHINA_TZ).replace(microsecond=0).isoformat()


def _case(event_id: str, tenant: str = "330000", **changes: object) -> dict:
    return {
        "event_id": event_id,
        "ts": NOW,
        "tenant": tenant,
        "case_no": f"C-{event_id}",
        "business_code": "2000402",
        "registration_type": "200",
        "channel": "window",
        "step": "accept",
        **changes,
    }


def _stored(server: ConsoleServer, stream: str) -> int:
    store = IngestStore(ingest_path(Path(server.env["BDC_DATA_DIR"]) / "lake"))
    try:
        return store.count(stream)
    finally:
        store.close()


def _add_counties(server: ConsoleServer) -> None:
    """西湖区 and 滨江区 as tenants of the server (once, whichever test comes first)."""
    from console.core.db import session_scope
    from console.tenancy.models import Tenant

    with session_scope(server.db_url) as session:
        for code, name in (("330106", "西湖区"), ("330108", "滨江区")):
            if session.get(Tenant, code) is None:
                session.add(Tenant(code=code, name=name, parent_code="330000"))


@pytest.fixture(scope="module")
def province_key(api_only_server: ConsoleServer) -> str:
    streams = "logs.case_event,logs.operation,logs.interface_call,logs.exception"
    return api_only_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "省登记平台", "--streams", streams
    ).strip()


def test_bad_lines_are_reported_good_ones_kept_and_resends_counted_not_stored(
    api_only_server: ConsoleServer, province_key: str
) -> None:
    before = _stored(api_only_server, "case_event")
    body = (
        _ndjson(_case("a1"), _case("a2"))
        + b"{broken\n"
        + _ndjson(_case("a3", step="teleport"), _case("a4", tenant="339999"), _case("a1"))
    )
    status, report = _push(api_only_server, "case_event", body, province_key)
    assert status == 200
    assert (report["accepted"], report["duplicates"]) == (2, 1)
    expected = [(3, "不是有效的 JSON"), (4, "字段 step 应为"), (5, "租户 339999 不存在")]
    assert [r["line"] for r in report["rejected"]] == [line for line, _ in expected]
    for rejected, (_, reason) in zip(report["rejected"], expected, strict=True):
        assert reason in rejected["reason"]
    status, again = _push(
        api_only_server, "case_event", _ndjson(_case("a2"), _case("a5")), province_key
    )
    assert (status, again["accepted"], again["duplicates"]) == (200, 1, 1)
    assert _stored(api_only_server, "case_event") == before + 3


def test_gzip_bodies_are_accepted_and_oversized_ones_get_413(
    api_only_server: ConsoleServer, province_key: str
) -> None:
    operations = [
        {"event_id": f"op-{n}", "ts": NOW, "tenant": "330000",
         "actor": "clerk", "action": "受理", "object": "case", "outcome": "success"}
        for n in range(500)
    ]  # fmt: skip
    status, report = _push(
        api_only_server, "operation", _ndjson(*operations), province_key, gzipped=True
    )
    assert (status, report["accepted"]) == (200, 500)
    too_big = _ndjson(*[_case(f"big-{n}", detail="x" * 1000) for n in range(1200)])
    assert len(too_big) > 1024 * 1024
    status, refused = _push_oversized(api_only_server, "case_event", too_big, province_key)
    assert status == 413 and "上限" in refused["detail"]
    status, refused = _push(api_only_server, "case_event", too_big, province_key, gzipped=True)
    assert status == 413 and "解压后" in refused["detail"]


def test_a_county_key_pushes_only_its_own_tenant_and_only_its_streams(
    api_only_server: ConsoleServer,
) -> None:
    _add_counties(api_only_server)
    key = api_only_server.console(
        "apikey", "create", "--tenant", "330106", "--streams", "logs.case_event"
    ).strip()
    status, report = _push(
        api_only_server, "case_event", _ndjson(_case("x1", "330106"), _case("x2", "330108")), key
    )
    assert (status, report["accepted"]) == (200, 1)
    assert "不能提交租户 330108" in report["rejected"][0]["reason"]
    status, refused = _push(api_only_server, "operation", _ndjson(), key)
    assert status == 403 and "推送操作日志" in refused["detail"]
    assert _push(api_only_server, "metrics", _ndjson(), key)[0] == 404


def test_concurrent_senders_are_all_acknowledged(
    api_only_server: ConsoleServer, province_key: str
) -> None:
    # Regression: concurrent calls once collided on SQLite ("database is locked" → 500) when
    # the gateway read the key and then wrote its last-used time in the same transaction.
    import threading

    statuses: list[int] = []

    def send(worker: int) -> None:
        for batch in range(3):
            body = _ndjson(*[_case(f"cc-{worker}-{batch}-{n}") for n in range(200)])
            statuses.append(_push(api_only_server, "case_event", body, province_key)[0])

    threads = [threading.Thread(target=send, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 12


def _quarantined(server: ConsoleServer, key_tenant: str) -> list:
    from sqlmodel import select

    from console.core.db import session_scope
    from console.logs.models import QuarantinedLine

    with session_scope(server.db_url) as session:
        return list(
            session.exec(
                select(QuarantinedLine)
                .where(QuarantinedLine.key_tenant == key_tenant)
                .order_by(QuarantinedLine.id)  # type: ignore[arg-type]
            ).all()
        )


def test_poison_lines_cost_only_themselves_over_http(
    api_only_server: ConsoleServer, province_key: str
) -> None:
    before = _stored(api_only_server, "case_event")
    poison = [
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        json.dumps(_case("p-year1", ts="0001-01-01T00:00:00+08:00")).encode(),
        json.dumps(_case("p-utf8")).encode().replace(b"window", b"win\xffdow"),
        json.dumps(_case("p-ts", ts="9999-12-31T23:59:59-08:00")).encode(),
    ]
    body = b"\n".join(
        [json.dumps(_case("p-ok1")).encode(), *poison, json.dumps(_case("p-ok2")).encode()]
    )
    status, report = _push(api_only_server, "case_event", body, province_key)
    assert status == 200, report
    assert report["accepted"] == 2
    assert [r["line"] for r in report["rejected"]] == [2, 3, 4, 5]
    assert _stored(api_only_server, "case_event") == before + 2


def test_every_member_of_a_multi_member_gzip_body_is_read(
    api_only_server: ConsoleServer, province_key: str
) -> None:
    first = gzip.compress(_ndjson(_case("gz-1"), _case("gz-2")))
    second = gzip.compress(_ndjson(_case("gz-3")))
    request = urllib.request.Request(
        f"{api_only_server.base_url}/api/v1/logs/case_event",
        method="POST",
        data=first + second,
        headers={
            "Authorization": f"Bearer {province_key}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/x-ndjson",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert json.loads(response.read())["accepted"] == 3
    cut = (first + second)[:-9]  # the second member loses its trailer
    request.data = cut
    try:
        urllib.request.urlopen(request, timeout=60)
        raise AssertionError("a cut gzip body was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 400 and "不完整" in json.loads(error.read())["detail"]


@pytest.mark.parametrize(
    ("body", "encoding", "status", "detail"),
    [
        (b"", "", 400, "请求体为空"),
        (b"\n  \n", "", 400, "请求体为空"),
        (b'{"event_id": "x"}', "br", 415, "不支持的内容编码"),
    ],
)
def test_a_request_that_is_wrong_as_a_whole_is_refused_as_a_whole(
    api_only_server: ConsoleServer,
    province_key: str,
    body: bytes,
    encoding: str,
    status: int,
    detail: str,
) -> None:
    headers = {"Authorization": f"Bearer {province_key}", "Content-Type": "application/x-ndjson"}
    if encoding:
        headers["Content-Encoding"] = encoding
    request = urllib.request.Request(
        f"{api_only_server.base_url}/api/v1/logs/case_event",
        method="POST",
        data=body,
        headers=headers,
    )
    try:
        urllib.request.urlopen(request, timeout=60)
        raise AssertionError("accepted")
    except urllib.error.HTTPError as error:
        assert error.code == status
        assert detail in json.loads(error.read())["detail"]


def test_a_batch_with_none_of_the_keys_tenant_is_403_and_its_lines_are_quarantined(
    api_only_server: ConsoleServer,
) -> None:
    from console.core.crypto import KeyRing

    _add_counties(api_only_server)
    key = api_only_server.console(
        "apikey", "create", "--tenant", "330108", "--streams", "logs.case_event"
    ).strip()
    secret_id = "330106199001011234"
    foreign = _case("f-1", "330106", operator="张三丰", id_number=secret_id)
    status, refused = _push(
        api_only_server, "case_event", _ndjson(foreign, _case("f-2", "330106")), key
    )
    assert status == 403 and "330108" in refused["detail"]
    status, mixed = _push(
        api_only_server, "case_event", _ndjson(_case("f-3", "330108"), foreign), key
    )
    assert (status, mixed["accepted"], [r["line"] for r in mixed["rejected"]]) == (200, 1, [2])

    kept = _quarantined(api_only_server, "330108")
    assert [(row.line_no, row.stream) for row in kept] == [
        (1, "case_event"),
        (2, "case_event"),
        (2, "case_event"),
    ]
    assert all("不能提交租户 330106" in row.reason for row in kept)
    assert secret_id not in kept[0].content_enc and "张三丰" not in kept[0].content_enc
    keys = Path(api_only_server.env["BDC_DATA_DIR"]) / "keys"
    ring = KeyRing(
        sm4_key=bytes.fromhex((keys / "sm4.key").read_text().strip()),
        hmac_key=bytes.fromhex((keys / "hmac.key").read_text().strip()),
    )
    assert secret_id in ring.decrypt(kept[0].content_enc)  # the line as sent, for the auditor
