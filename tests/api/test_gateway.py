"""The API gateway over real HTTP: key lifecycle, streams and tenants, rate limit, channels."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import timedelta

from sqlmodel import select

from console.audit.models import OperationLog
from console.core.clock import utcnow
from console.core.db import session_scope
from console.iam.models import Organization
from console.interfaces.models import ApiKey, Channel, ChannelCounter, ChannelEvent
from console.tenancy.models import Tenant
from tests.support.server import ConsoleServer


def _call(
    server: ConsoleServer, path: str, key: str | None, *, body: dict | None = None
) -> tuple[int, dict, dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        f"{server.base_url}{path}",
        method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def _key(server: ConsoleServer, *args: str) -> str:
    return server.console("apikey", "create", *args).strip()


def _ensure_tenant(server: ConsoleServer, code: str, name: str) -> None:
    with session_scope(server.db_url) as session:
        if session.get(Tenant, code) is None:
            session.add(Tenant(code=code, name=name, parent_code="330000"))


def _denials(server: ConsoleServer, key: str) -> list[OperationLog]:
    with session_scope(server.db_url) as session:
        return list(
            session.exec(
                select(OperationLog).where(
                    OperationLog.actor_account == f"apikey:{key.split('_')[1]}",
                    OperationLog.outcome == "denied",
                )
            ).all()
        )


def test_key_lifecycle_create_use_rotate_grace_revoke(api_only_server: ConsoleServer) -> None:
    old = _key(api_only_server, "--tenant", "330000", "--streams", "iam.sync")
    assert _call(api_only_server, "/api/v1/whoami", old)[0] == 200
    new = api_only_server.console("apikey", "rotate", old.split("_")[1], "--grace-hours", "2")
    new = new.strip()
    assert new != old
    status, body, _ = _call(api_only_server, "/api/v1/whoami", new)
    assert (status, body["scopes"]) == (200, ["iam.sync"])
    assert _call(api_only_server, "/api/v1/whoami", old)[0] == 200  # within the grace period
    with session_scope(api_only_server.db_url) as session:
        stored = session.exec(select(ApiKey).where(ApiKey.key_id == old.split("_")[1])).one()
        assert stored.replaced_by == new.split("_")[1] and stored.last_used_at is not None
        stored.expires_at = utcnow() - timedelta(seconds=1)  # the grace period is over
        session.add(stored)
    status, body, headers = _call(api_only_server, "/api/v1/whoami", old)
    assert status == 401 and "宽限期已过" in body["detail"]
    assert headers.get("www-authenticate") == "Bearer"
    api_only_server.console("apikey", "revoke", new.split("_")[1])
    assert _call(api_only_server, "/api/v1/whoami", new)[:2] == (401, {"detail": "接入密钥已吊销"})


def test_a_key_calls_only_its_streams_and_its_tenant(api_only_server: ConsoleServer) -> None:
    _ensure_tenant(api_only_server, "330106", "西湖区")
    key = _key(api_only_server, "--tenant", "330106", "--streams", "logs.case_event")
    status, body, _ = _call(api_only_server, "/api/v1/iam/sync", key, body={"records": []})
    assert (status, body["detail"]) == (403, "接入密钥无权调用：一体化平台用户同步")
    status, body, _ = _call(api_only_server, "/api/v1/whoami?tenant=330108", key)
    assert status == 403 and "不能代表租户 330108" in body["detail"]
    assert _call(api_only_server, "/api/v1/whoami?tenant=330106", key)[0] == 200
    reasons = [json.loads(row.detail)["reason"] for row in _denials(api_only_server, key)]
    assert "接入密钥无权调用：一体化平台用户同步" in reasons and len(reasons) == 2


def test_past_the_rate_limit_429_with_retry_after_then_success(
    api_only_server: ConsoleServer,
) -> None:
    key = _key(api_only_server, "--tenant", "330000", "--streams", "iam.sync", "--rate-limit", "3")
    assert [_call(api_only_server, "/api/v1/whoami", key)[0] for _ in range(3)] == [200] * 3
    status, body, headers = _call(api_only_server, "/api/v1/whoami", key)
    assert status == 429 and "调用过于频繁" in body["detail"]
    retry_after = int(headers["retry-after"])
    assert 1 <= retry_after <= 3  # the test server counts in 3-second windows
    time.sleep(retry_after + 0.2)
    assert _call(api_only_server, "/api/v1/whoami", key)[0] == 200
    assert len(_denials(api_only_server, key)) == 1


def test_a_closed_channel_is_refused_at_its_next_call_and_reopened_with_a_note(
    api_only_server: ConsoleServer,
) -> None:
    _ensure_tenant(api_only_server, "330106", "西湖区")
    with session_scope(api_only_server.db_url) as session:
        bank = Organization(tenant_code="330106", name="网关测试银行", kind="bank")
        session.add(bank)
        session.flush()
        channel = Channel(
            tenant_code="330106",
            org_id=bank.id,
            name=bank.name,
            kind="bank",
            business_codes="9000101",
        )
        session.add(channel)
        session.flush()
        channel_id = channel.id
    key = _key(
        api_only_server, "--tenant", "330106", "--org", "网关测试银行", "--streams", "iam.sync"
    )
    status, body, _ = _call(api_only_server, "/api/v1/whoami?business_code=9000101", key)
    assert (status, body["channel_state"]) == (200, "open")
    status, body, _ = _call(api_only_server, "/api/v1/whoami?business_code=2000402", key)
    assert (status, body["detail"]) == (403, "机构通道未开通业务 2000402")

    _set_state(api_only_server, channel_id, "closed", "违规收取费用")
    status, body, _ = _call(api_only_server, "/api/v1/whoami?business_code=9000101", key)
    assert (status, body["detail"]) == (403, "机构通道已关闭：违规收取费用")
    with session_scope(api_only_server.db_url) as session:
        refusals = session.exec(
            select(ChannelEvent).where(
                ChannelEvent.channel_id == channel_id, ChannelEvent.kind == "refusal"
            )
        ).all()
        counter = session.exec(
            select(ChannelCounter).where(ChannelCounter.channel_id == channel_id)
        ).one()
    assert [e.reason for e in refusals][-1] == "机构通道已关闭：违规收取费用"
    assert (counter.calls, counter.refusals) == (3, 2)
    assert "机构通道已关闭：违规收取费用" in [
        json.loads(row.detail)["reason"] for row in _denials(api_only_server, key)
    ]

    _set_state(api_only_server, channel_id, "open", "整改完成")
    assert _call(api_only_server, "/api/v1/whoami?business_code=9000101", key)[0] == 200


def _set_state(server: ConsoleServer, channel_id: int, state: str, reason: str) -> None:
    # The decision itself (with its permission, reason and rectification checks) is the channel
    # service's, tested in tests/unit/interfaces; here only its effect on the next call matters.
    with session_scope(server.db_url) as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        channel.state, channel.reason = state, reason
        session.add(channel)
