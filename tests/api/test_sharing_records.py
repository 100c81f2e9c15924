"""POST /api/v1/sharing-tasks/{task}/records over real HTTP: the per-line rules of log pushes."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request

import pytest
from sqlmodel import select

from console.core.db import session_scope
from console.interfaces.models import InterfaceDef, SharingOutbox, SharingTask
from tests.api.test_log_ingestion import _add_counties
from tests.support.server import ConsoleServer


def _post(
    server: ConsoleServer, task: str, body: bytes, key: str, *, gzipped: bool = False
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {key}"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body)
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/sharing-tasks/{task}/records",
        method="POST",
        data=body,
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _lines(*items: dict | bytes) -> bytes:
    return b"\n".join(
        i if isinstance(i, bytes) else json.dumps(i, ensure_ascii=False).encode() for i in items
    )


@pytest.fixture(scope="module")
def tasks(api_only_server: ConsoleServer) -> dict[str, str]:
    """A province-wide task and one of 西湖区 in the server's database."""
    _add_counties(api_only_server)
    with session_scope(api_only_server.db_url) as session:
        interface = InterfaceDef(
            code="tax.records", name="税务共享", direction="outbound",
            endpoint_url="http://127.0.0.1:9/in",
        )  # fmt: skip
        session.add(interface)
        session.flush()
        for code, tenant in (("prov.tax", ""), ("xihu.tax", "330106")):
            session.add(
                SharingTask(code=code, name=code, interface_id=interface.id, tenant_code=tenant)
            )
    return {"province": "prov.tax", "xihu": "xihu.tax"}


def test_good_lines_are_queued_bad_ones_refused_by_line_and_resends_counted(
    api_only_server: ConsoleServer, tasks: dict[str, str]
) -> None:
    key = api_only_server.console(
        "apikey", "create", "--tenant", "330106", "--name", "西湖登记系统",
        "--streams", "sharing.records",
    ).strip()  # fmt: skip
    body = _lines(
        {"record_id": "a1", "data": {"证书号": "浙(2026)西湖区不动产权第0000001号"}},
        b"oops",
        {"record_id": "a2", "data": {}},
    )
    status, report = _post(api_only_server, tasks["xihu"], body, key)
    assert (status, report["accepted"], report["duplicates"]) == (200, 2, 0)
    assert report["rejected"] == [{"line": 2, "reason": "不是有效的 JSON"}]
    status, report = _post(api_only_server, tasks["xihu"], body, key, gzipped=True)
    assert (status, report["accepted"], report["duplicates"]) == (200, 0, 2)
    with session_scope(api_only_server.db_url) as session:
        queued = session.exec(
            select(SharingOutbox.record_key, SharingOutbox.payload)
            .join(SharingTask, SharingTask.id == SharingOutbox.task_id)
            .where(SharingTask.code == tasks["xihu"])
        ).all()
    assert sorted(k for k, _ in queued) == ["a1", "a2"]
    assert all(p.startswith("sm4gcm1:") for _, p in queued)
    assert (
        _post(api_only_server, tasks["province"], _lines({"record_id": "p1", "data": {}}), key)[0]
        == 200
    )  # a county may hand records to a province-wide task


def test_what_a_sender_may_not_do_is_refused_as_a_whole(
    api_only_server: ConsoleServer, tasks: dict[str, str]
) -> None:
    binjiang = api_only_server.console(
        "apikey", "create", "--tenant", "330108", "--streams", "sharing.records"
    ).strip()
    status, refused = _post(api_only_server, tasks["xihu"], _lines({"record_id": "b"}), binjiang)
    assert status == 403 and "不能向其他租户的共享任务移交记录" in refused["detail"]
    status, refused = _post(api_only_server, "no.such", _lines({"record_id": "b"}), binjiang)
    assert (status, refused["detail"]) == (404, "共享任务 no.such 不存在")
    logs_only = api_only_server.console(
        "apikey", "create", "--tenant", "330106", "--streams", "logs.case_event"
    ).strip()
    status, refused = _post(api_only_server, tasks["xihu"], _lines({}), logs_only)
    assert status == 403 and "移交共享任务记录" in refused["detail"]
    assert _post(api_only_server, tasks["xihu"], b"  \n", binjiang)[0] == 400
    too_big = _lines(*[{"record_id": f"r{n}", "data": {"x": "x" * 1000}} for n in range(1200)])
    status, refused = _post(api_only_server, tasks["province"], too_big, binjiang, gzipped=True)
    assert status == 413 and "解压后" in refused["detail"]
