"""Report centre: request, generate, list and download reports; subscriptions for the schedule.

A report is requested (checked, logged, queued), then generated off the request path as the
user who asked for it, so that user's permissions and tenant scope decide every figure. The
files (XLSX, HTML and, where Chromium is present, PDF) are kept under ``<data>/reports/<id>/``
and listed with who generated them. A subscription asks for a template and scope after every
period; the scheduler turns it into one report per period, generated as the subscriber.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from loguru import logger
from sqlmodel import Session, col, select

from console.audit.models import Outcome
from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import local_day, to_local_text, utcnow
from console.core.db import session_scope
from console.core.errors import NotFound, UserError, ValidationFailed
from console.core.paging import Page, PageRequest, contains, paginate
from console.core.settings import get_settings
from console.iam.token_service import acting_user
from console.reports import render
from console.reports.builder import Span, build_report, period_span, previous_span
from console.reports.definitions import definition, definitions
from console.reports.models import PROVINCE_WIDE, Report, ReportStatus, ReportSubscription
from console.tenancy.scope import ensure_visible, restrict, scope_of
from console.tenancy.service import get_tenant_name, tenant_names

OBJ = "reports.center"
PROVINCE_LABEL = "全省"
STALE_AFTER = timedelta(minutes=30)  # a report "running" this long lost its worker
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
STATUS_LABELS = {
    ReportStatus.QUEUED: "排队中",
    ReportStatus.RUNNING: "生成中",
    ReportStatus.DONE: "已生成",
    ReportStatus.FAILED: "生成失败",
}
TRIGGER_LABELS = {"manual": "手动", "schedule": "定时"}
CADENCES = {"month": "每月结束后自动生成", "quarter": "每季度结束后自动生成"}


def reports_dir() -> Path:
    """Where generated reports are kept, one folder per report."""
    return get_settings().resolved_data_dir / "reports"


# --- choices ----------------------------------------------------------------------------


def scope_choices(*, session: Session, actor: Actor) -> list[tuple[str, str]]:
    """Scopes the actor may report on: 全省 for province users, then each tenant in scope."""
    names = sorted(tenant_names(session=session, actor=actor).items())
    province = [(PROVINCE_WIDE, PROVINCE_LABEL)] if scope_of(actor).all_tenants else []
    return province + names


def period_choices(kind: str, *, today: date, count: int = 12) -> list[Span]:
    """The last ``count`` finished months or quarters, newest first."""
    spans, span = [], previous_span(kind, period_span(kind, today))
    for _ in range(count):
        spans.append(span)
        span = previous_span(kind, span)
    return spans


# --- request and generate ---------------------------------------------------------------


def _scope_label(session: Session, actor: Actor, tenant: str) -> str:
    """The report's scope name, refusing a scope outside the actor's."""
    if tenant == PROVINCE_WIDE:
        if not scope_of(actor).all_tenants:
            raise ValidationFailed("只有省级用户可以生成全省报表", field="范围")
        return PROVINCE_LABEL
    ensure_visible(actor, tenant, obj=OBJ, action="generate", target=tenant)
    return get_tenant_name(session, tenant)


def request_report(
    *,
    session: Session,
    actor: Actor,
    definition_code: str,
    tenant: str,
    period_start: date,
    subscription_id: int | None = None,
    today: date | None = None,
) -> Report:
    """Check and queue a report; the same report already waiting is returned, not doubled.

    Raises:
        Forbidden: the actor may not generate reports.
        NotFound: the tenant is outside the actor's scope.
        ValidationFailed: unknown template, province scope for a county user, unfinished period.
    """
    authz.require(actor, OBJ, "generate", target=definition_code)
    template = definition(definition_code)
    scope_label = _scope_label(session, actor, tenant)
    span = period_span(template.period, period_start)
    if span.end >= (today or local_day()):
        raise ValidationFailed(f"{span.label}尚未结束，只能生成已结束期间的报表", field="期间")
    waiting = session.exec(
        select(Report).where(
            Report.definition == template.code,
            Report.tenant_code == tenant,
            Report.period_start == span.start,
            col(Report.status).in_([ReportStatus.QUEUED, ReportStatus.RUNNING]),
        )
    ).first()
    if waiting is not None:
        return waiting
    report = Report(
        definition=template.code,
        title=template.title,
        tenant_code=tenant,
        scope_label=scope_label,
        period_start=span.start,
        period_end=span.end,
        period_label=span.label,
        trigger="schedule" if subscription_id else "manual",
        requested_by=actor.user_id,
        requested_name=actor.display_name,
        subscription_id=subscription_id,
    )
    session.add(report)
    session.flush()
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="generate",
        target=f"{template.title}·{scope_label}·{span.label}",
        tenant=tenant or None,
        detail={"report": report.id, "trigger": report.trigger},
    )
    return report


def _claim(report_id: int) -> bool:
    """Take a queued report for generation (one worker wins, however many try)."""
    with session_scope() as session:
        claimed = session.execute(
            sa.update(Report)
            .where(col(Report.id) == report_id, col(Report.status) == ReportStatus.QUEUED)
            .values(status=ReportStatus.RUNNING, started_at=utcnow(), progress=0)
        )
        return claimed.rowcount == 1  # type: ignore[attr-defined]


def _set_progress(report_id: int, percent: int) -> None:
    with session_scope() as session:
        session.execute(
            sa.update(Report).where(col(Report.id) == report_id).values(progress=percent)
        )


def _finish(report_id: int, *, status: ReportStatus, formats: list[str], note: str) -> None:
    with session_scope() as session:
        report = session.get(Report, report_id)
        assert report is not None
        report.status, report.formats, report.note = status, ",".join(formats), note[:500]
        report.progress = 100 if status == ReportStatus.DONE else report.progress
        report.finished_at = utcnow()
        session.add(report)
        actor = _actor_or_none(session, report.requested_by)
        if actor is not None:
            record(
                session,
                actor=actor,
                obj=OBJ,
                action="generate",
                outcome=Outcome.SUCCESS if status == ReportStatus.DONE else Outcome.FAILURE,
                target=f"{report.title}·{report.scope_label}·{report.period_label}",
                tenant=report.tenant_code or None,
                detail={"report": report_id, "formats": formats, "note": note[:200]},
            )


def _actor_or_none(session: Session, user_id: int) -> Actor | None:
    try:
        return acting_user(session=session, user_id=user_id)
    except UserError:
        return None


def _write_files(report: Report, actor: Actor, folder: Path) -> tuple[list[str], str]:
    """Build the content as ``actor`` and write every format; (formats, note)."""
    with session_scope() as session:
        content = build_report(
            session=session,
            actor=actor,
            definition=definition(report.definition),
            tenant=report.tenant_code,
            scope_label=report.scope_label,
            span=Span(report.period_start, report.period_end, report.period_label),
            progress=lambda done: _set_progress(report.id or 0, min(90, done * 8 // 10)),
        )
    stem = file_stem(report)
    render.write_xlsx(content, folder / f"{stem}.xlsx")
    html = folder / f"{stem}.html"
    html.write_text(render.render_html(content), encoding="utf-8")
    _set_progress(report.id or 0, 92)
    if render.chromium_binary() is None:
        return ["xlsx", "html"], "未找到 Chromium，未生成 PDF"
    try:
        render.write_pdf(html, folder / f"{stem}.pdf")
    except UserError as failed:  # the workbook and the page are still worth keeping
        logger.warning("report {} has no PDF: {}", report.id, failed.message)
        return ["xlsx", "html"], f"PDF 未生成：{failed.message}"
    return ["xlsx", "html", "pdf"], ""


def generate_report(*, report_id: int) -> Report | None:
    """Generate a queued report as the user who asked for it; None if another worker has it.

    Failures end as status ``failed`` with the reason; nothing half-written stays behind.
    """
    if not _claim(report_id):
        return None
    with session_scope() as session:
        report = session.get(Report, report_id)
        assert report is not None
        session.expunge(report)
        try:
            actor = acting_user(session=session, user_id=report.requested_by)
        except UserError as refused:
            actor, note = None, f"生成人无法操作：{refused.message}"
    if actor is None:
        _finish(report_id, status=ReportStatus.FAILED, formats=[], note=note)
        return _reloaded(report_id)
    target = reports_dir() / str(report_id)
    reports_dir().mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{report_id}-", dir=reports_dir()))
    try:
        formats, note = _write_files(report, actor, building)
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
    except UserError as refused:
        shutil.rmtree(building, ignore_errors=True)
        _finish(report_id, status=ReportStatus.FAILED, formats=[], note=refused.message)
    except Exception:
        shutil.rmtree(building, ignore_errors=True)
        logger.exception("report {} failed", report_id)
        _finish(report_id, status=ReportStatus.FAILED, formats=[], note="内部错误，详见运行日志")
    else:
        _finish(report_id, status=ReportStatus.DONE, formats=formats, note=note)
    return _reloaded(report_id)


def _reloaded(report_id: int) -> Report | None:
    with session_scope() as session:
        report = session.get(Report, report_id)
        if report is not None:
            session.expunge(report)
        return report


def file_stem(report: Report) -> str:
    """The download's file name without extension, e.g. 不动产登记月度监管报表_全省_2026年10月."""
    return f"{report.title}_{report.scope_label}_{report.period_label}"


# --- list and download ------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One report as the list shows it."""

    id: int
    title: str
    scope: str
    period: str
    status: str
    status_label: str
    progress: int
    trigger: str
    requested_by: str
    created_at: str
    finished_at: str
    formats: list[str]
    note: str


def _visible(statement: sa.Select, actor: Actor) -> sa.Select:
    """Reports of tenants in scope; province-wide ones only for province users."""
    if scope_of(actor).all_tenants:
        return statement
    return restrict(statement, Report.tenant_code, actor)  # type: ignore[arg-type]


def list_reports(
    *,
    session: Session,
    actor: Actor,
    page: PageRequest,
    definition_code: str = "",
    tenant: str | None = None,
    status: str = "",
    keyword: str = "",
) -> Page[ReportRow]:
    """Reports in the actor's scope, newest first, filtered and paged on the server."""
    authz.require(actor, OBJ, "read")
    statement = _visible(select(Report), actor)
    if definition_code:
        statement = statement.where(Report.definition == definition_code)
    if tenant is not None:
        statement = statement.where(Report.tenant_code == tenant)
    if status:
        statement = statement.where(Report.status == status)
    if keyword.strip():
        text = keyword.strip()
        statement = statement.where(
            sa.or_(
                contains(col(Report.period_label), text),
                contains(col(Report.scope_label), text),
                contains(col(Report.requested_name), text),
            )
        )
    statement = statement.order_by(col(Report.created_at).desc(), col(Report.id).desc())
    reports, total = paginate(session, statement, page)
    return Page([_row(r) for r in reports], total, page.page, page.size)


def _row(report: Report) -> ReportRow:
    status = ReportStatus(report.status)
    return ReportRow(
        id=report.id or 0,
        title=report.title,
        scope=report.scope_label,
        period=report.period_label,
        status=status.value,
        status_label=STATUS_LABELS[status],
        progress=report.progress,
        trigger=TRIGGER_LABELS.get(report.trigger, report.trigger),
        requested_by=report.requested_name,
        created_at=to_local_text(report.created_at),
        finished_at=to_local_text(report.finished_at),
        formats=[f for f in report.formats.split(",") if f],
        note=report.note,
    )


def _visible_report(session: Session, actor: Actor, report_id: int, *, action: str) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound("报表不存在")
    if report.tenant_code == PROVINCE_WIDE and not scope_of(actor).all_tenants:
        raise NotFound("报表不存在")
    if report.tenant_code != PROVINCE_WIDE:
        ensure_visible(actor, report.tenant_code, obj=OBJ, action=action, target=str(report_id))
    return report


@dataclass(frozen=True)
class ReportFile:
    """A file ready to send: where it is, what to call it, its media type."""

    path: Path
    filename: str
    media_type: str


def check_download(*, session: Session, actor: Actor, report_id: int, fmt: str) -> ReportFile:
    """The file a download would send, if the actor may have it (``reports.center:export``).

    Raises:
        Forbidden: the actor may not download reports.
        NotFound: no such report in the actor's scope, or it has no file of that format.
    """
    return _located(session, actor, report_id, fmt)[1]


def _located(session: Session, actor: Actor, report_id: int, fmt: str) -> tuple[Report, ReportFile]:
    authz.require(actor, OBJ, "export", target=str(report_id))
    if fmt not in MEDIA_TYPES:
        raise ValidationFailed(f"应为 {'、'.join(MEDIA_TYPES)} 之一", field="格式")
    report = _visible_report(session, actor, report_id, action="export")
    path = reports_dir() / str(report_id) / f"{file_stem(report)}.{fmt}"
    if fmt not in report.formats.split(",") or not path.is_file():
        raise NotFound("该报表没有这种格式的文件")
    return report, ReportFile(path, path.name, MEDIA_TYPES[fmt])


def report_file(*, session: Session, actor: Actor, report_id: int, fmt: str) -> ReportFile:
    """Allow, log and locate one file of a report (``check_download``, then logged)."""
    report, found = _located(session, actor, report_id, fmt)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="export",
        target=f"{report.title}·{report.scope_label}·{report.period_label}",
        tenant=report.tenant_code or None,
        detail={"report": report_id, "format": fmt},
    )
    return found


# --- subscriptions and the schedule -----------------------------------------------------


@dataclass(frozen=True)
class SubscriptionRow:
    """A standing order as its owner sees it."""

    id: int
    title: str
    scope: str
    cadence: str


def subscribe(
    *, session: Session, actor: Actor, definition_code: str, tenant: str
) -> ReportSubscription:
    """Ask for a template and scope after every period (idempotent)."""
    authz.require(actor, OBJ, "generate", target=definition_code)
    template = definition(definition_code)
    scope_label = _scope_label(session, actor, tenant)
    existing = session.exec(
        select(ReportSubscription).where(
            ReportSubscription.definition == template.code,
            ReportSubscription.tenant_code == tenant,
            ReportSubscription.user_id == actor.user_id,
        )
    ).first()
    if existing is not None:
        return existing
    order = ReportSubscription(definition=template.code, tenant_code=tenant, user_id=actor.user_id)
    session.add(order)
    session.flush()
    record(session, actor=actor, obj=OBJ, action="subscribe",
           target=f"{template.title}·{scope_label}", tenant=tenant or None)  # fmt: skip
    return order


def unsubscribe(*, session: Session, actor: Actor, subscription_id: int) -> None:
    """Cancel one of the actor's own standing orders."""
    authz.require(actor, OBJ, "generate", target=str(subscription_id))
    order = session.get(ReportSubscription, subscription_id)
    if order is None or order.user_id != actor.user_id:
        raise NotFound("订阅不存在")
    session.delete(order)
    record(session, actor=actor, obj=OBJ, action="unsubscribe", target=str(subscription_id),
           tenant=order.tenant_code or None)  # fmt: skip


def subscriptions(*, session: Session, actor: Actor) -> list[SubscriptionRow]:
    """The actor's standing orders."""
    authz.require(actor, OBJ, "read")
    orders = session.exec(
        select(ReportSubscription)
        .where(ReportSubscription.user_id == actor.user_id)
        .order_by(col(ReportSubscription.id))
    ).all()
    names = {PROVINCE_WIDE: PROVINCE_LABEL, **tenant_names(session=session, actor=actor)}
    known = definitions()
    rows = []
    for order in orders:
        template = known.get(order.definition)
        cadence = CADENCES[template.period] if template else "模板已删除，不再生成"
        rows.append(
            SubscriptionRow(
                id=order.id or 0,
                title=template.title if template else order.definition,
                scope=names.get(order.tenant_code, order.tenant_code),
                cadence=cadence,
            )
        )
    return rows


def enqueue_scheduled(*, today: date) -> list[int]:
    """Queue, for every subscription, the report of the period that ended last (once).

    Each is requested as its subscriber; one whose account or permission is gone is skipped
    (the refusal is in the operation log).
    """
    with session_scope() as session:
        orders = session.exec(select(ReportSubscription)).all()
        for order in orders:
            session.expunge(order)
    queued = []
    for order in orders:
        template = definitions().get(order.definition)
        if template is None:
            continue
        last = previous_span(template.period, period_span(template.period, today))
        try:
            with session_scope() as session:
                done = session.exec(
                    select(Report.id).where(
                        Report.subscription_id == order.id, Report.period_start == last.start
                    )
                ).first()
                if done is not None:
                    continue
                actor = acting_user(session=session, user_id=order.user_id)
                report = request_report(
                    session=session,
                    actor=actor,
                    definition_code=order.definition,
                    tenant=order.tenant_code,
                    period_start=last.start,
                    subscription_id=order.id,
                    today=today,
                )
                queued.append(report.id or 0)
        except (UserError, sa.exc.IntegrityError) as refused:
            logger.warning("subscription {} not queued: {}", order.id, refused)
    return queued


def run_queued(*, limit: int = 1, now: datetime | None = None) -> list[int]:
    """Generate up to ``limit`` queued reports, oldest first; stale running ones go back."""
    now = now or utcnow()
    with session_scope() as session:
        session.execute(
            sa.update(Report)
            .where(
                col(Report.status) == ReportStatus.RUNNING,
                col(Report.started_at) < now - STALE_AFTER,
            )
            .values(status=ReportStatus.QUEUED)
        )
        waiting = session.exec(
            select(Report.id)
            .where(Report.status == ReportStatus.QUEUED)
            .order_by(col(Report.id))
            .limit(limit)
        ).all()
    return [rid for rid in waiting if rid is not None and generate_report(report_id=rid)]
