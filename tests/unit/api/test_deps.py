"""The API's dependencies in process: key checks happen before IAM sees a batch."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlmodel import select

from console.api.app import create_api
from console.audit.models import OperationLog
from console.core.db import session_scope
from console.interfaces.key_service import create_key
from tests.support.world import BINJIANG, XIHU, World

GOOD = {"account": "zw_deps", "real_name": "李明", "tenant_code": XIHU, "phone": "13600001234"}


def _key(scopes: set[str]) -> str:
    with session_scope() as session:
        return create_key(
            session, name="一体化平台", tenant_code=XIHU, scopes=scopes, created_by="test"
        )


def _sync(key: str, records: list[dict]) -> tuple[int, dict]:
    # TestClient runs the app on a loop of its own thread: the worker's main thread may hold
    # Playwright's loop (the cluster's browser tests run on either worker).
    with TestClient(create_api(), base_url="http://console") as client:
        answer = client.post(
            "/api/v1/iam/sync",
            json={"records": records},
            headers={"Authorization": f"Bearer {key}"},
        )
    return answer.status_code, answer.json()


def test_a_key_without_the_sync_scope_is_refused_and_logged(world: World) -> None:
    key = _key({"logs.case_event"})
    assert _sync(key, [GOOD]) == (403, {"detail": "接入密钥无权调用：一体化平台用户同步"})
    with session_scope() as session:
        denied = session.exec(
            select(OperationLog).where(
                OperationLog.actor_account == f"apikey:{key.split('_')[1]}",
                OperationLog.outcome == "denied",
            )
        ).all()
    assert [json.loads(row.detail)["reason"] for row in denied] == [
        "接入密钥无权调用：一体化平台用户同步"
    ]


def test_a_county_key_syncs_only_its_own_county(world: World) -> None:
    status, body = _sync(
        _key({"iam.sync"}), [GOOD, {**GOOD, "account": "zw_bj", "tenant_code": BINJIANG}]
    )
    assert status == 200
    assert [r["outcome"] for r in body["records"]] == ["created", "rejected"]
    assert body["records"][1]["reason"] == f"租户 {BINJIANG} 不在您的数据范围内"
