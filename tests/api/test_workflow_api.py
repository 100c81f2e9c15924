"""GET /api/v1/workflows/{business_code} over real HTTP: what a county's system is served."""

from __future__ import annotations

import json

from sqlmodel import select

from console.core.clock import utcnow
from console.core.db import session_scope
from console.workflows.models import Definition, Kind, Status, Version
from tests.api.test_gateway import _call, _ensure_tenant, _key
from tests.support.server import ConsoleServer

OVERRIDING, INHERITING = "330182", "330122"


def _override_mortgage(server: ConsoleServer) -> None:
    """建德市 publishes its own 抵押权登记 with one more material."""
    with session_scope(server.db_url) as session:
        if session.exec(select(Definition).where(Definition.tenant_code == OVERRIDING)).first():
            return
        template = session.exec(
            select(Definition).where(
                Definition.kind == Kind.BUSINESS.value,
                Definition.key == "9000101",
                Definition.tenant_code == "330000",
            )
        ).one()
        source = session.exec(select(Version).where(Version.definition_id == template.id)).one()
        body = json.loads(source.body)
        body["materials"].append({**body["materials"][-1], "name": "建德市抵押补充材料"})
        own = Definition(
            kind="business",
            key="9000101",
            tenant_code=OVERRIDING,
            name="抵押权登记",
            created_by="t",
        )
        session.add(own)
        session.flush()
        session.add(
            Version(
                definition_id=own.id,
                number=1,
                status=Status.PUBLISHED.value,
                body=json.dumps(body, ensure_ascii=False),
                created_by="t",
                published_by="t",
                published_at=utcnow(),
            )
        )


def _materials(payload: dict) -> list[str]:
    return [m["name"] for m in payload["business"]["materials"]]


def test_a_county_key_gets_its_override_and_others_the_province_template(
    api_only_server: ConsoleServer,
) -> None:
    _ensure_tenant(api_only_server, OVERRIDING, "建德市")
    _ensure_tenant(api_only_server, INHERITING, "桐庐县")
    _override_mortgage(api_only_server)
    own_key = _key(api_only_server, "--tenant", OVERRIDING, "--streams", "workflows.read")
    other_key = _key(api_only_server, "--tenant", INHERITING, "--streams", "workflows.read")

    status, own, _ = _call(api_only_server, "/api/v1/workflows/9000101", own_key)
    assert status == 200
    assert (own["tenant"], own["business"]["origin"], own["business"]["owner"]) == (
        OVERRIDING,
        "tenant",
        OVERRIDING,
    )
    assert "建德市抵押补充材料" in _materials(own)
    assert own["workflow"]["key"] == "certificate"
    assert [s["name"] for s in own["workflow"]["steps"] if s["kind"] == "task"] == [
        "受理",
        "审核",
        "登簿",
        "缮证",
        "发证",
    ]

    status, other, _ = _call(api_only_server, "/api/v1/workflows/9000101", other_key)
    assert status == 200
    assert other["business"]["origin"] == "province"
    assert "建德市抵押补充材料" not in _materials(other)
    assert other["business"]["opinions"][0]["step"] == "受理"


def test_keys_without_the_scope_or_for_another_county_are_refused(
    api_only_server: ConsoleServer,
) -> None:
    _ensure_tenant(api_only_server, INHERITING, "桐庐县")
    logs_only = _key(api_only_server, "--tenant", INHERITING, "--streams", "logs.case_event")
    status, body, _ = _call(api_only_server, "/api/v1/workflows/9000101", logs_only)
    assert (status, body["detail"]) == (403, "接入密钥无权调用：读取流程配置")
    reader = _key(api_only_server, "--tenant", INHERITING, "--streams", "workflows.read")
    status, body, _ = _call(
        api_only_server, f"/api/v1/workflows/9000101?tenant={OVERRIDING}", reader
    )
    assert (status, body["detail"]) == (
        403,
        f"接入密钥属于租户 {INHERITING}，不能代表租户 {OVERRIDING} 调用",
    )
    status, body, _ = _call(api_only_server, "/api/v1/workflows/5000402", reader)
    assert (status, body["detail"]) == (404, "业务 5000402 未配置或尚未发布")
    status, _, _ = _call(api_only_server, "/api/v1/workflows/9000101", None)
    assert status == 401


def test_a_province_key_reads_what_a_named_county_is_served(api_only_server: ConsoleServer) -> None:
    _ensure_tenant(api_only_server, OVERRIDING, "建德市")
    _override_mortgage(api_only_server)
    province = _key(api_only_server, "--tenant", "330000", "--streams", "workflows.read")
    status, body, _ = _call(
        api_only_server, f"/api/v1/workflows/9000101?tenant={OVERRIDING}", province
    )
    assert (status, body["business"]["owner"]) == (200, OVERRIDING)
    status, body, _ = _call(api_only_server, "/api/v1/workflows/9000101", province)
    assert (status, body["business"]["origin"]) == (200, "province")
