"""The read API over real HTTP: personal access tokens carry their owner's rights and scope."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
from datetime import datetime

import polars as pl
import pytest
from openpyxl import load_workbook

from console.core.clock import CHINA_TZ
from console.core.db import session_scope
from console.tenancy.models import Tenant
from tests.support.server import ConsoleServer

TODAY = datetime.now(CHINA_TZ).replace(microsecond=0).isoformat()


def _get(server: ConsoleServer, path: str, token: str | None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"{server.base_url}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _token(server: ConsoleServer, account: str, *roles: str, tenant: str) -> str:
    role_args = [arg for role in roles for arg in ("--role", role)]
    server.console(
        "user", "create", "--account", account, "--name", "读取测试", "--tenant", tenant,
        *role_args, "--token-only",
    )  # fmt: skip
    return server.console("token", "create", "--user", account).strip()


@pytest.fixture(scope="module")
def cases(api_only_server: ConsoleServer) -> None:
    with session_scope(api_only_server.db_url) as session:
        for code, name in (("330106", "西湖区"), ("330108", "滨江区")):
            if session.get(Tenant, code) is None:
                session.add(Tenant(code=code, name=name, parent_code="330000"))
    key = api_only_server.console(
        "apikey", "create", "--tenant", "330000", "--streams", "logs.case_event"
    ).strip()
    lines = [
        json.dumps({
            "event_id": f"read-{tenant}", "ts": TODAY, "tenant": tenant,
            "case_no": f"READ-{tenant}", "business_code": "2000402", "registration_type": "200",
            "channel": "online", "step": "accept",
        })
        for tenant in ("330106", "330108")
    ]  # fmt: skip
    request = urllib.request.Request(
        f"{api_only_server.base_url}/api/v1/logs/case_event",
        method="POST",
        data="\n".join(lines).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["accepted"] == 2


def test_a_token_reads_with_its_owners_scope(api_only_server: ConsoleServer, cases: None) -> None:
    auditor = _token(api_only_server, "read_auditor", "audit_admin", tenant="330000")
    county = _token(api_only_server, "read_county", "county_supervisor", tenant="330106")
    status, body = _get(api_only_server, "/api/v1/logs/case_event?case_no=READ-330108", auditor)
    assert (status, [i["event_id"] for i in body["items"]]) == (200, ["read-330108"])
    status, body = _get(api_only_server, "/api/v1/logs/case_event?size=200", county)
    assert status == 200 and {i["tenant"] for i in body["items"]} == {"330106"}
    status, body = _get(api_only_server, "/api/v1/cases/READ-330108/trace", county)
    assert (status, body["entries"]) == (200, [])
    status, body = _get(api_only_server, "/api/v1/cases/READ-330106/trace", county)
    assert status == 200 and body["entries"][0]["title"] == "办件：受理"


def test_tokens_are_refused_without_rights_or_when_invalid(
    api_only_server: ConsoleServer, cases: None
) -> None:
    clerk = _token(api_only_server, "read_clerk", "window_clerk", tenant="330106")
    status, body = _get(api_only_server, "/api/v1/logs/case_event", clerk)
    assert status == 403 and "日志审计" in body["detail"]
    assert _get(api_only_server, "/api/v1/logs/case_event", None)[0] == 401
    forged = "bdcp_000000000000_" + "A" * 43
    assert _get(api_only_server, "/api/v1/logs/case_event", forged) == (
        401,
        {"detail": "访问令牌无效"},
    )
    assert _get(api_only_server, "/api/v1/logs/metrics", clerk)[0] == 404


def _download(server: ConsoleServer, path: str, token: str | None) -> tuple[int, dict, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"{server.base_url}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def test_exports_stream_over_http_in_each_format_within_the_tokens_scope(
    api_only_server: ConsoleServer, cases: None
) -> None:
    auditor = _token(api_only_server, "export_auditor", "audit_admin", tenant="330000")
    county = _token(api_only_server, "export_county", "audit_admin", tenant="330106")
    path = "/api/v1/logs/case_event/export"
    status, headers, body = _download(api_only_server, f"{path}?format=csv", auditor)
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "UTF-8''%E5%8A%9E%E4%BB%B6%E8%BF%9B%E5%BA%A6.csv" in headers["content-disposition"]
    text = body.decode("utf-8-sig")
    assert "READ-330106" in text and "READ-330108" in text
    status, _, body = _download(
        api_only_server, "/api/v1/logs/case_event/export?format=parquet", county
    )
    frame = pl.read_parquet(io.BytesIO(body))
    assert status == 200 and set(frame.get_column("tenant")) == {"330106"}
    status, _, body = _download(
        api_only_server, "/api/v1/logs/case_event/export?format=xlsx", county
    )
    assert status == 200 and body[:2] == b"PK"  # a zip: the XLSX container
    clerk = _token(api_only_server, "export_clerk", "window_clerk", tenant="330106")
    assert _download(api_only_server, path, clerk)[0] == 403
    assert _download(api_only_server, "/api/v1/exports/logs?ticket=forged", None)[0] == 401


def _rows_in(body: bytes, fmt: str) -> int:
    if fmt == "csv":
        return len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) - 1
    if fmt == "xlsx":
        sheets = load_workbook(io.BytesIO(body), read_only=True).worksheets
        return sum(sheet.max_row - 1 for sheet in sheets)
    return pl.read_parquet(io.BytesIO(body)).height


@pytest.mark.parametrize("stream", ["case_event", "operation"])
def test_the_row_count_header_equals_the_rows_in_the_file(
    api_only_server: ConsoleServer, cases: None, stream: str
) -> None:
    auditor = _token(api_only_server, f"count_{stream}", "audit_admin", tenant="330000")
    for fmt in ("csv", "xlsx", "parquet"):
        path = f"/api/v1/logs/{stream}/export?format={fmt}"
        status, headers, body = _download(api_only_server, path, auditor)
        assert status == 200, body[:200]
        assert int(headers["x-export-rows"]) == _rows_in(body, fmt) > 0, (stream, fmt)


def test_stats_answer_with_the_tokens_scope_and_refuse_bad_groupings(
    api_only_server: ConsoleServer, cases: None
) -> None:
    day = TODAY[:10]
    supervisor = _token(api_only_server, "stats_province", "province_supervisor", tenant="330000")
    county = _token(api_only_server, "stats_county", "county_supervisor", tenant="330106")
    path = f"/api/v1/stats/cases?from={day}&to={day}&group_by=tenant"
    status, body = _get(api_only_server, path, supervisor)
    received = {row["tenant"]: row["received"] for row in body["rows"]}
    assert status == 200 and received["330106"] >= 1 and received["330108"] >= 1
    status, body = _get(api_only_server, path, county)
    assert status == 200 and {row["tenant"] for row in body["rows"]} == {"330106"}
    status, body = _get(api_only_server, f"/api/v1/stats/interfaces?from={day}&to={day}", county)
    assert status == 200 and body["group_by"] == []
    status, body = _get(api_only_server, f"{path},county", supervisor)
    assert status == 400 and "不支持 county" in body["detail"]
    clerk = _token(api_only_server, "stats_clerk", "window_clerk", tenant="330106")
    assert _get(api_only_server, path, clerk)[0] == 403


def _report_as(server: ConsoleServer, account: str, tenant: str, monkeypatch) -> int:
    """Request and generate last month's report in this process, on the server's data."""
    from sqlmodel import select

    from console.core.settings import get_settings
    from console.iam.models import User
    from console.iam.token_service import acting_user
    from console.reports import render, service
    from console.reports.builder import period_span, previous_span

    monkeypatch.setenv("BDC_DATA_DIR", str(server.data_dir))
    monkeypatch.setenv("BDC_DATABASE_URL", server.db_url)
    monkeypatch.setattr(render, "chromium_binary", lambda: None)
    get_settings.cache_clear()
    today = datetime.now(CHINA_TZ).date()
    with session_scope() as session:
        user_id = session.exec(select(User.id).where(User.account == account)).one()
        report = service.request_report(
            session=session,
            actor=acting_user(session=session, user_id=user_id),
            definition_code="monthly",
            tenant=tenant,
            period_start=previous_span("month", period_span("month", today)).start,
        )
        report_id = report.id
    assert service.generate_report(report_id=report_id).status == "done"
    get_settings.cache_clear()
    return report_id


def test_reports_download_with_the_tokens_scope(
    api_only_server: ConsoleServer, cases: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    county = _token(api_only_server, "report_county", "county_supervisor", tenant="330106")
    _token(api_only_server, "report_other", "county_supervisor", tenant="330108")
    mine = _report_as(api_only_server, "report_county", "330106", monkeypatch)
    theirs = _report_as(api_only_server, "report_other", "330108", monkeypatch)
    status, headers, body = _download(api_only_server, f"/api/v1/reports/{mine}/xlsx", county)
    assert status == 200 and body[:2] == b"PK"
    assert headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=utf-8''" in headers["content-disposition"].lower()
    status, _, body = _download(api_only_server, f"/api/v1/reports/{mine}/html", county)
    assert status == 200 and "西湖区" in body.decode("utf-8")
    assert _download(api_only_server, f"/api/v1/reports/{theirs}/xlsx", county)[0] == 404
    assert _download(api_only_server, f"/api/v1/reports/{mine}/pdf", county)[0] == 404
    assert _download(api_only_server, f"/api/v1/reports/{mine}/doc", county)[0] == 400
    clerk = _token(api_only_server, "report_clerk", "window_clerk", tenant="330106")
    assert _download(api_only_server, f"/api/v1/reports/{mine}/xlsx", clerk)[0] == 403
    assert _download(api_only_server, "/api/v1/reports/download?ticket=forged", None)[0] == 401
