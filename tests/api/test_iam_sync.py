"""POST /api/v1/iam/sync over real HTTP: keys checked, records applied one by one."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.iam.models import User
from tests.support.server import ConsoleServer

RECORDS = [
    {"account": "api_wang", "real_name": "王小二", "tenant_code": "330000", "phone": "13500001111"},
    {"account": "api_bad", "real_name": "坏数据", "tenant_code": "330000", "phone": "12"},
]


def _post(server: ConsoleServer, body: dict, key: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/iam/sync",
        method="POST",
        data=json.dumps(body).encode(),
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_unknown_or_missing_keys_get_401_in_chinese_and_are_logged(
    api_only_server: ConsoleServer,
) -> None:
    assert _post(api_only_server, {"records": RECORDS}, None) == (
        401,
        {"detail": "接入密钥格式不正确"},
    )
    forged = "bdc_000000000000_" + "A" * 43
    assert _post(api_only_server, {"records": RECORDS}, forged) == (401, {"detail": "接入密钥无效"})
    with session_scope(api_only_server.db_url) as session:
        refused = session.exec(
            select(OperationLog).where(OperationLog.actor_account == "apikey:unknown")
        ).all()
    assert len(refused) >= 2


def test_sync_keeps_good_records_reports_bad_ones_and_is_idempotent(
    api_only_server: ConsoleServer,
) -> None:
    key = api_only_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "一体化平台", "--streams", "iam.sync"
    ).strip()
    status, body = _post(api_only_server, {"records": RECORDS}, key)
    assert status == 200
    assert (body["created"], body["rejected"]) == (1, 1)
    assert body["records"][1]["line"] == 2 and "手机号" in body["records"][1]["reason"]
    status, again = _post(api_only_server, {"records": RECORDS[:1]}, key)
    assert (status, again["unchanged"]) == (200, 1)
    with session_scope(api_only_server.db_url) as session:
        user = session.exec(select(User).where(User.account == "api_wang")).one()
        assert "13500001111" not in (user.phone_enc or "")
        logged = session.exec(
            select(OperationLog).where(
                OperationLog.action == "sync",
                OperationLog.actor_account == f"apikey:{key.split('_')[1]}",
            )
        ).all()
    assert len(logged) == 2


def test_revoked_key_is_refused_at_its_next_call(api_only_server: ConsoleServer) -> None:
    key = api_only_server.console(
        "apikey", "create", "--tenant", "330000", "--streams", "iam.sync"
    ).strip()
    assert _post(api_only_server, {"records": []}, key)[0] == 200
    api_only_server.console("apikey", "revoke", key.split("_")[1])
    assert _post(api_only_server, {"records": []}, key) == (401, {"detail": "接入密钥已吊销"})
