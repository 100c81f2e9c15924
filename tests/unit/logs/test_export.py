"""Exports: CSV, XLSX (split into sheets) and Parquet equal the search, masked, logged, scoped."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime

import polars as pl
import pytest
from openpyxl import load_workbook
from sqlmodel import select

from console.audit.models import OperationLog
from console.core import exporting
from console.core.crypto import ensure_key_files
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, Forbidden, ValidationFailed
from console.core.tickets import TICKET_SECONDS, open_ticket
from console.dictionaries.seed import load_seed
from console.iam import service
from console.logs import export
from console.logs.export import export_logs, issue_ticket, log_ticket_query
from console.logs.search import LogQuery, search_logs
from tests.support.world import PASSWORD, XIHU, World, add_user
from tests.unit.logs.conftest import push

QUERY = LogQuery(stream="case_event")


def _download(actor, query: LogQuery, fmt: str) -> bytes:
    with session_scope() as session:
        made = export_logs(session=session, actor=actor, query=query, fmt=fmt)
    return b"".join(made.chunks)


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_rows_equal_the_search_rows_and_formulas_are_not_run(lake: None, world: World) -> None:
    push(
        "operation",
        {"event_id": "f1", "ts": "2026-11-27T10:00:00+08:00", "tenant": XIHU, "actor": "clerk",
         "action": "导出", "object": "case", "outcome": "success", "detail": "=HYPERLINK(\"x\")"},
    )  # fmt: skip
    auditor = world.actor("audit_admin")
    with session_scope() as session:
        load_seed(session)  # the names come from the dictionaries
        page = search_logs(session=session, actor=auditor, query=QUERY)
    rows = _csv_rows(_download(auditor, QUERY, "csv"))
    assert rows[0][:5] == ["时间", "租户", "租户名称", "事件编号", "受理编号"]
    codes = [n for n, header in enumerate(rows[0]) if not header.endswith("名称")]
    searched = sorted([r.time, r.tenant, r.event_id, *r.fields.values()] for r in page.items)
    assert sorted([row[n] for n in codes] for row in rows[1:]) == searched
    # Each code column is followed by its name: 西湖区, 转移登记, 窗口, 受理 … never a bare code.
    named = dict(zip(rows[0], rows[1], strict=True))
    assert named["租户名称"] == "西湖区"
    for code, name in [("登记类型", "登记类型名称"), ("渠道", "渠道名称"), ("环节", "环节名称")]:
        assert named[code] and named[name] and named[name] != named[code], code
    operations = _csv_rows(_download(auditor, LogQuery(stream="operation", actor="clerk"), "csv"))
    assert operations[1][operations[0].index("详情")] == '\'=HYPERLINK("x")'


def test_xlsx_keeps_text_as_text_and_continues_on_a_new_sheet_when_full(
    lake: None, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exporting, "XLSX_SHEET_ROWS", 3)  # header + 2 rows per sheet
    content = _download(world.actor("audit_admin"), QUERY, "xlsx")
    book = load_workbook(io.BytesIO(content), read_only=True)
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]
    assert [len(rows) for rows in sheets] == [3, 3, 1 + 1]  # five events, header on each
    assert all(rows[0][0] == "时间" for rows in sheets)
    assert book.sheetnames[1] == "办件进度（2）"
    column = sheets[0][0].index("事件编号")
    event_ids = [row[column] for rows in sheets for row in rows[1:]]
    assert sorted(event_ids) == ["b1", "s1", "s2", "s3", "s4"]


def test_xlsx_holds_time_durations_and_outcomes_as_typed_cells(lake: None, world: World) -> None:
    query = LogQuery(stream="interface_call")
    content = _download(world.actor("audit_admin"), query, "xlsx")
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert {"时间", "耗时（毫秒）", "成功"} <= set(header)
    assert isinstance(first["时间"], datetime)  # a date cell, Beijing time
    assert isinstance(first["耗时（毫秒）"], int) and isinstance(first["成功"], bool)
    assert all(isinstance(row[header.index("租户")], str) for row in rows[1:])


def test_parquet_is_typed_and_masked(lake: None, world: World) -> None:
    content = _download(world.actor("audit_admin"), LogQuery(stream="exception"), "parquet")
    frame = pl.read_parquet(io.BytesIO(content))
    assert frame.schema["ts"] == pl.Datetime("us", "UTC") and "raw" not in frame.columns
    assert frame.get_column("message").to_list() == ["公安接口超时，证件号 330106********1234"]


def test_a_parquet_export_holds_no_line_as_sent_and_names_masked(lake: None, world: World) -> None:
    content = _download(world.actor("audit_admin"), QUERY, "parquet")
    frame = pl.read_parquet(io.BytesIO(content))
    assert not {"raw", "raw_enc", "pii", "sender"} & set(frame.columns)
    operators = [name for name in frame.get_column("operator").to_list() if name]
    assert operators and all("*" in name for name in operators)
    assert "张*丰" in operators


def test_a_county_auditor_exports_only_its_county_and_a_clerk_not_at_all(
    lake: None, world: World
) -> None:
    add_user("xihu_auditor", XIHU, ("audit_admin",))
    with session_scope() as session:
        _, county_auditor = service.authenticate(
            session=session, account="xihu_auditor", password=PASSWORD
        )
    rows = _csv_rows(_download(county_auditor, QUERY, "csv"))
    assert {row[1] for row in rows[1:]} == {XIHU}
    with pytest.raises(Forbidden):
        _download(world.actor("county_supervisor"), QUERY, "csv")


def test_an_export_is_logged_and_one_too_large_is_refused_with_a_reason(
    lake: None, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    auditor = world.actor("audit_admin")
    _download(auditor, QUERY, "parquet")
    with session_scope() as session:
        logged = session.exec(select(OperationLog).where(OperationLog.action == "export")).one()
    assert '"rows": 5' in logged.detail and '"format": "parquet"' in logged.detail
    monkeypatch.setattr(export, "MAX_EXPORT_ROWS", 4)
    with pytest.raises(ValidationFailed, match="超过单次导出上限"):
        _download(auditor, QUERY, "csv")
    with pytest.raises(ValidationFailed, match="应为 csv、xlsx、parquet 之一"):
        _download(auditor, QUERY, "pdf")


def redeem_ticket(ticket: str, *, now: float) -> tuple[str, LogQuery, str]:
    """What the download route does with a ticket: open it, read the search back."""
    token, payload = open_ticket(ticket, now=now)
    return token, *log_ticket_query(payload)


def test_a_download_ticket_is_sealed_and_short_lived() -> None:
    ensure_key_files()
    query = LogQuery(stream="operation", case_no="XH-1")
    now = time.time()
    ticket = issue_ticket(session_token="tok", query=query, fmt="csv", now=now)
    assert redeem_ticket(ticket, now=now + 60) == ("tok", query, "csv")
    with pytest.raises(AuthenticationFailed, match="已过期"):
        redeem_ticket(ticket, now=now + TICKET_SECONDS + 1)
    forged = ticket[:-6] + ("A" if ticket[-6] != "A" else "B") + ticket[-5:]
    with pytest.raises(AuthenticationFailed, match="无效"):
        redeem_ticket(forged, now=now)
