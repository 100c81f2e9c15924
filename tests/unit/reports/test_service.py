"""Report centre: generated as the requester, listed, downloaded, in scope, on schedule."""

from __future__ import annotations

from datetime import date, timedelta

import openpyxl
import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.core.paging import PageRequest
from console.iam.models import User, UserStatus
from console.reports import render, service
from console.reports.models import Report, ReportStatus
from tests.support.world import BINJIANG, XIHU, World

TODAY = date(2026, 11, 27)
OCTOBER = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def no_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chromium's PDF is proven once below and in test_render; elsewhere it only costs time."""
    monkeypatch.setattr(render, "chromium_binary", lambda: None)


def _request(world: World, role: str, tenant: str, start: date = OCTOBER) -> int:
    with session_scope() as session:
        report = service.request_report(
            session=session,
            actor=world.actor(role),
            definition_code="monthly",
            tenant=tenant,
            period_start=start,
            today=TODAY,
        )
        assert report.id is not None
        return report.id


def _list(world: World, role: str) -> list[service.ReportRow]:
    with session_scope() as session:
        return service.list_reports(
            session=session, actor=world.actor(role), page=PageRequest(1, 50)
        ).items


def _file(world: World, role: str, report_id: int, fmt: str) -> service.ReportFile:
    with session_scope() as session:
        return service.report_file(
            session=session, actor=world.actor(role), report_id=report_id, fmt=fmt
        )


def _actions(obj: str = service.OBJ) -> list[tuple[str, str, str]]:
    with session_scope() as session:
        rows = session.exec(
            select(OperationLog).where(OperationLog.object == obj).order_by(OperationLog.id)
        ).all()
        return [(r.actor_account, r.action, r.outcome) for r in rows]


def test_a_report_is_generated_as_its_requester_listed_and_downloaded(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # this one prints the PDF too, when Chromium is here
    report_id = _request(world, "province_supervisor", "")
    assert _list(world, "province_supervisor")[0].status_label == "排队中"
    done = service.generate_report(report_id=report_id)
    assert done is not None and done.status == ReportStatus.DONE, done and done.note
    row = _list(world, "province_supervisor")[0]
    pdf = ["pdf"] if render.chromium_binary() else []
    assert (row.status_label, row.scope, row.period, row.formats, row.progress) == (
        "已生成", "全省", "2026年10月", ["xlsx", "html", *pdf], 100,
    )  # fmt: skip
    assert row.requested_by and row.trigger == "手动"
    xlsx = _file(world, "province_supervisor", report_id, "xlsx")
    assert xlsx.filename == "不动产登记月度监管报表_全省_2026年10月.xlsx"
    book = openpyxl.load_workbook(xlsx.path)
    assert book.sheetnames[0] == "概要" and len(book.sheetnames) == 9
    html = _file(world, "province_supervisor", report_id, "html").path.read_text("utf-8")
    assert "不动产登记月度监管报表" in html and "2026年10月" in html and "八、合作机构办件" in html
    if pdf:
        assert (
            _file(world, "province_supervisor", report_id, "pdf").path.read_bytes()[:4] == b"%PDF"
        )
    account = world.accounts["province_supervisor"]
    assert (account, "generate", "success") in _actions()
    assert _actions().count((account, "export", "success")) == 2 + len(pdf)


def test_county_users_see_and_fetch_only_their_countys_reports(world: World) -> None:
    province = _request(world, "province_supervisor", "")
    xihu = _request(world, "province_supervisor", XIHU)
    binjiang = _request(world, "province_supervisor", BINJIANG)
    for report_id in (province, xihu, binjiang):
        service.generate_report(report_id=report_id)
    assert [r.id for r in _list(world, "county_supervisor")] == [xihu]
    assert {r.id for r in _list(world, "province_supervisor")} == {province, xihu, binjiang}
    assert _file(world, "county_supervisor", xihu, "xlsx").path.is_file()
    for other in (province, binjiang):
        with pytest.raises(NotFound):
            _file(world, "county_supervisor", other, "xlsx")
    with pytest.raises(ValidationFailed, match="省级用户"):
        _request(world, "county_supervisor", "")
    with pytest.raises(NotFound):
        _request(world, "county_supervisor", BINJIANG)
    account = world.accounts["county_supervisor"]
    assert (account, "export", "denied") in _actions()


def test_bad_requests_are_refused_and_a_waiting_report_is_not_doubled(world: World) -> None:
    with pytest.raises(ValidationFailed, match="尚未结束") as unfinished:
        _request(world, "county_supervisor", XIHU, start=date(2026, 11, 1))
    assert unfinished.value.field == "期间"
    with pytest.raises(Forbidden), session_scope() as session:
        service.request_report(session=session, actor=world.actor("window_clerk"),
                               definition_code="monthly", tenant=XIHU, period_start=OCTOBER,
                               today=TODAY)  # fmt: skip
    assert (world.accounts["window_clerk"], "generate", "denied") in _actions()
    with pytest.raises(ValidationFailed, match="没有报表模板"), session_scope() as session:
        service.request_report(session=session, actor=world.actor("county_supervisor"),
                               definition_code="weekly", tenant=XIHU, period_start=OCTOBER,
                               today=TODAY)  # fmt: skip
    first = _request(world, "county_supervisor", XIHU)
    assert _request(world, "county_supervisor", XIHU) == first
    service.generate_report(report_id=first)
    assert _request(world, "county_supervisor", XIHU) != first  # a finished one may be redone


def test_a_report_is_generated_once_and_a_stale_one_is_taken_up_again(world: World) -> None:
    report_id = _request(world, "county_supervisor", XIHU)
    assert service._claim(report_id) is True
    assert service.generate_report(report_id=report_id) is None  # another worker has it
    assert service.run_queued(limit=5) == []
    later = utcnow() + service.STALE_AFTER + timedelta(minutes=1)
    assert service.run_queued(limit=5, now=later) == [report_id]
    assert _list(world, "county_supervisor")[0].status == "done"


def test_a_subscription_makes_one_report_per_period_as_the_subscriber(world: World) -> None:
    with session_scope() as session:
        service.subscribe(session=session, actor=world.actor("county_supervisor"),
                          definition_code="quarterly", tenant=XIHU)  # fmt: skip
    queued = service.enqueue_scheduled(today=TODAY)
    assert len(queued) == 1 and service.enqueue_scheduled(today=TODAY) == []
    assert service.run_queued(limit=5) == queued
    (row,) = _list(world, "county_supervisor")
    assert (row.period, row.trigger, row.scope, row.status) == (
        "2026年第3季度", "定时", "西湖区", "done",
    )  # fmt: skip
    with session_scope() as session:
        user = session.exec(
            select(User).where(User.account == world.accounts["county_supervisor"])
        ).one()
        user.status = UserStatus.DISABLED
        session.add(user)
    assert service.enqueue_scheduled(today=date(2027, 1, 5)) == []  # nobody to act as


def test_a_failed_generation_says_why_and_leaves_no_files(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(render, "write_xlsx", broken)
    report_id = _request(world, "county_supervisor", XIHU)
    failed = service.generate_report(report_id=report_id)
    assert failed is not None and failed.status == ReportStatus.FAILED
    assert failed.note == "内部错误，详见运行日志"
    assert not list(service.reports_dir().iterdir())
    with pytest.raises(NotFound):
        _file(world, "county_supervisor", report_id, "xlsx")
    assert (world.accounts["county_supervisor"], "generate", "failure") in _actions()
    with session_scope() as session:
        assert session.get(Report, report_id).formats == ""


def test_without_a_working_chromium_the_workbook_and_page_are_kept(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "chromium_binary", lambda: "/bin/false")
    report_id = _request(world, "county_supervisor", XIHU)
    done = service.generate_report(report_id=report_id)
    assert done is not None and done.status == ReportStatus.DONE
    assert done.formats == "xlsx,html" and done.note.startswith("PDF 未生成：生成 PDF 失败")
    assert _file(world, "county_supervisor", report_id, "html").path.is_file()


def test_the_page_checks_a_download_without_logging_it_as_one(world: World) -> None:
    report_id = _request(world, "county_supervisor", XIHU)
    service.generate_report(report_id=report_id)
    with session_scope() as session:
        found = service.check_download(session=session, actor=world.actor("county_supervisor"),
                                       report_id=report_id, fmt="html")  # fmt: skip
    assert found.filename.endswith("_西湖区_2026年10月.html") and found.path.is_file()
    assert (world.accounts["county_supervisor"], "export", "success") not in _actions()
    with pytest.raises(Forbidden), session_scope() as session:
        service.check_download(session=session, actor=world.actor("window_clerk"),
                               report_id=report_id, fmt="html")  # fmt: skip
