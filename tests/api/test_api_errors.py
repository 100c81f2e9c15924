"""The API under hostile calls: bounded parameters, JSON errors with ids, auth before routing.

The last test runs schemathesis over the published OpenAPI document against the real server
(a bounded number of examples per operation; longer fuzzing belongs in ``bench/``): whatever
it sends, nothing answers 5xx.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request

import pytest
import schemathesis
from fastapi import APIRouter
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from loguru import logger

from console.api.app import REQUEST_ID_HEADER, create_api
from tests.support.server import ConsoleServer


def _call(
    server: ConsoleServer, path: str, *, token: str = "", method: str = "GET", body: bytes = b""
) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(
        f"{server.base_url}{path}", method=method, data=body or None, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def auditor_token(console_server: ConsoleServer) -> str:
    # A new account each time: xdist may set a module's fixtures up more than once per run.
    account = f"err_reader_{secrets.token_hex(3)}"
    console_server.console(
        "user", "create", "--account", account, "--name", "接口测试", "--tenant", "330000",
        "--role", "province_supervisor", "--token-only",
    )  # fmt: skip
    return console_server.console("token", "create", "--user", account).strip()


@pytest.fixture(scope="module")
def every_stream_key(console_server: ConsoleServer) -> str:
    streams = "logs.case_event,logs.operation,logs.interface_call,logs.exception,iam.sync"
    return console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "模糊测试", "--streams", streams
    ).strip()


@pytest.mark.parametrize("page", ["9223372036854775807", "1000001", "0", "-1", "abc"])
def test_a_page_out_of_range_is_a_chinese_422_not_a_500(
    console_server: ConsoleServer, auditor_token: str, page: str
) -> None:
    status, body = _call(console_server, f"/api/v1/logs/operation?page={page}", token=auditor_token)
    assert status == 422, body
    assert "参数 page" in body["detail"]


def test_an_unknown_path_or_stream_asks_for_credentials_before_saying_it_is_unknown(
    console_server: ConsoleServer, auditor_token: str
) -> None:
    for path in ("/api/v1/nothing-here", "/api/v1/logs/metrics", "/api/v2/logs/operation"):
        assert _call(console_server, path)[0] == 401, path
    assert _call(console_server, "/api/v1/logs/metrics", method="POST", body=b"{}")[0] == 401
    assert _call(console_server, "/api/v1/nothing-here", token=auditor_token)[0] == 404
    status, body = _call(console_server, "/api/v1/logs/metrics", token=auditor_token)
    assert status == 404 and "没有日志流" in body["detail"]
    assert _call(console_server, "/api/v1/health")[0] == 200  # public routes stay public


def test_an_unhandled_error_answers_json_with_its_request_id_and_logs_the_trace() -> None:
    api = create_api()
    broken = APIRouter()

    @broken.get("/api/v1/broken")
    def explode() -> None:
        raise RuntimeError("boom")

    api.router.routes.insert(0, broken.routes[0])
    seen: list[str] = []
    sink = logger.add(lambda message: seen.append(str(message)), level="ERROR")
    try:
        with TestClient(api, raise_server_exceptions=False) as client:
            answer = client.get("/api/v1/broken", headers={REQUEST_ID_HEADER: "rid-boom-1"})
    finally:
        logger.remove(sink)
    assert answer.status_code == 500
    assert answer.json() == {"detail": "服务器内部错误", "request_id": "rid-boom-1"}
    assert answer.headers[REQUEST_ID_HEADER] == "rid-boom-1"
    assert any("boom" in line and "RuntimeError" in line for line in seen)


def test_the_document_declares_the_bearer_schemes_and_the_answers() -> None:
    document = create_api().openapi()
    assert set(document["components"]["securitySchemes"]) == {"ApiKey", "AccessToken"}
    push = document["paths"]["/api/v1/logs/{stream}"]["post"]
    assert push["security"] == [{"ApiKey": []}]
    assert {"400", "401", "403", "413", "415", "422", "429", "500"} <= set(push["responses"])
    read = document["paths"]["/api/v1/logs/{stream}"]["get"]
    assert read["security"] == [{"AccessToken": []}]
    stream = next(p for p in read["parameters"] if p["name"] == "stream")
    assert stream["schema"]["enum"] == ["operation", "interface_call", "exception", "case_event"]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_context: object, value: object) -> bytes:
    """The push body as generated: any text, lone surrogates passed through as bytes."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def test_no_generated_call_gets_a_5xx(
    console_server: ConsoleServer, auditor_token: str, every_stream_key: str
) -> None:
    schema = schemathesis.openapi.from_url(f"{console_server.base_url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    calls = [_fuzz(op, console_server, auditor_token, every_stream_key) for op in operations]
    assert sum(calls) >= 3 * len(operations)  # it really called, with varied input
    assert all(calls), "every operation was called"


def _fuzz(operation: schemathesis.APIOperation, server: ConsoleServer, token: str, key: str) -> int:
    """A bounded number of generated calls to one operation, with its own credential."""
    made: list[int] = []
    security = operation.definition.raw.get("security") or [{}]
    credential = token if "AccessToken" in security[0] else key

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def call(case: schemathesis.Case) -> None:
        response = case.call(
            base_url=server.base_url, headers={"Authorization": f"Bearer {credential}"}, timeout=60
        )
        made.append(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])

    call()
    return len(made)
