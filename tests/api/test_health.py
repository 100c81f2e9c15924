import json
import time
import urllib.request

from console.core.db import head_revision
from tests.support.server import ConsoleServer


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), json.loads(response.read())


def test_health_reports_the_migrated_database_without_a_key(api_only_server: ConsoleServer) -> None:
    status, headers, body = _get(f"{api_only_server.base_url}/api/v1/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "backend": "SQLite", "revision": head_revision()}
    assert len(headers["x-request-id"]) == 16


def test_health_echoes_the_callers_request_id(api_only_server: ConsoleServer) -> None:
    _, headers, _ = _get(
        f"{api_only_server.base_url}/api/v1/health", {"X-Request-ID": "caller-trace-42"}
    )
    assert headers["x-request-id"] == "caller-trace-42"


def test_openapi_document_lists_the_api(api_only_server: ConsoleServer) -> None:
    status, _, body = _get(f"{api_only_server.base_url}/api/v1/openapi.json")
    assert status == 200
    assert "/api/v1/health" in body["paths"]


def test_request_id_appears_in_the_server_log(api_only_server: ConsoleServer) -> None:
    _get(f"{api_only_server.base_url}/api/v1/health", {"X-Request-ID": "log-trace-77"})
    log = api_only_server.data_dir / "logs" / "console.log"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "log-trace-77" not in log.read_text("utf-8"):
        time.sleep(0.1)
    assert "log-trace-77" in log.read_text("utf-8")
