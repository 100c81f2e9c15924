"""State of the 报表中心 page: the filtered list, generation and its progress, subscriptions."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from datetime import date
from urllib.parse import quote

import reflex as rx
from sqlmodel import Session

from console.authz.service import can
from console.core.actor import Actor
from console.core.clock import local_day
from console.core.paging import PageRequest
from console.core.tickets import seal_ticket
from console.reports import service
from console.reports.definitions import definitions
from console.reports.service import ReportRow, SubscriptionRow
from console.ui.actions import call
from console.ui.choice import Choice
from console.ui.effects_state import toast
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 20
POLL_SECONDS = 1.0
ALL = "*"
PROVINCE = "province"  # the select's value for 全省 (a select item cannot be empty)
STATUS_FILTERS = [
    Choice(ALL, "全部状态"),
    *(Choice(k, v) for k, v in service.STATUS_LABELS.items()),
]


@dataclasses.dataclass(frozen=True)
class _Listing:
    rows: list[ReportRow]
    total: int
    pages: int
    subscriptions: list[SubscriptionRow]
    scopes: list[Choice]
    can_generate: bool
    can_export: bool


def _tenant(scope: str) -> str:
    return service.PROVINCE_WIDE if scope == PROVINCE else scope


def _listing(session: Session, actor: Actor, page: int, filters: dict[str, str]) -> _Listing:
    listing = service.list_reports(
        session=session,
        actor=actor,
        page=PageRequest(page, PAGE_SIZE),
        definition_code="" if filters["definition"] == ALL else filters["definition"],
        tenant=None if filters["scope"] == ALL else _tenant(filters["scope"]),
        status="" if filters["status"] == ALL else filters["status"],
        keyword=filters["keyword"],
    )
    return _Listing(
        rows=listing.items,
        total=listing.total,
        pages=listing.pages,
        subscriptions=service.subscriptions(session=session, actor=actor),
        scopes=[
            Choice(v or PROVINCE, label)
            for v, label in service.scope_choices(session=session, actor=actor)
        ],
        can_generate=can(actor, service.OBJ, "generate"),
        can_export=can(actor, service.OBJ, "export"),
    )


class ReportsState(PagedListMixin, rx.State):
    """报表中心: generate a report, follow its progress, download it; subscriptions."""

    rows: list[ReportRow] = []
    subscriptions: list[SubscriptionRow] = []
    scopes: list[Choice] = []
    can_generate: bool = False
    can_export: bool = False
    # Filters of the list.
    definition_filter: str = ALL
    scope_filter: str = ALL
    status_filter: str = ALL
    # The 生成报表 form.
    form_definition: str = "monthly"
    form_scope: str = ""
    form_period: str = ""
    generating: bool = False
    _polling: bool = False

    @rx.var
    def definition_choices(self) -> list[Choice]:
        """Templates from ``reports/``."""
        return [Choice(d.code, d.title) for d in definitions().values()]

    @rx.var
    def definition_filters(self) -> list[Choice]:
        """Templates, and 全部模板."""
        return [Choice(ALL, "全部模板"), *self.definition_choices]

    @rx.var
    def scope_filters(self) -> list[Choice]:
        """Scopes, and 全部范围."""
        return [Choice(ALL, "全部范围"), *self.scopes]

    @rx.var
    def status_filters(self) -> list[Choice]:
        """Statuses, and 全部状态."""
        return STATUS_FILTERS

    @rx.var
    def period_choices(self) -> list[Choice]:
        """Finished periods of the chosen template, newest first."""
        template = definitions().get(self.form_definition)
        if template is None:
            return []
        spans = service.period_choices(template.period, today=local_day())
        return [Choice(span.start.isoformat(), span.label) for span in spans]

    @rx.var
    def busy(self) -> bool:
        """Whether a report on this page is still queued or being generated."""
        return any(row.status in ("queued", "running") for row in self.rows)

    def _filters(self) -> dict[str, str]:
        return {
            "definition": self.definition_filter,
            "scope": self.scope_filter,
            "status": self.status_filter,
            "keyword": self.keyword,
        }

    def _show(self, value: _Listing) -> None:
        self.rows, self.total, self.pages = value.rows, value.total, value.pages
        self.subscriptions, self.scopes = value.subscriptions, value.scopes
        self.can_generate, self.can_export = value.can_generate, value.can_export
        if value.scopes and self.form_scope not in {c.value for c in value.scopes}:
            self.form_scope = value.scopes[0].value
        if not self.form_period and self.period_choices:
            self.form_period = self.period_choices[0].value

    @rx.event(background=True)
    async def load(self):
        """Fetch the current page of reports, the user's subscriptions and choices."""

        def prepare():
            page, filters = self.page, self._filters()
            return lambda s, a: _listing(s, a, page, filters)

        async for event in self._load_page(prepare, self._show):
            yield event
        async with self:
            follow = self.busy and not self._polling
        if follow:
            yield ReportsState.follow

    @rx.event(background=True)
    async def follow(self):
        """Refresh the list every second while a report on it is being generated."""
        async with self:
            if self._polling:
                return
            self._polling = True
        try:
            while True:
                await asyncio.sleep(POLL_SECONDS)
                async with self:
                    token, page, filters = await self._token(), self.page, self._filters()
                fetch = functools.partial(_listing, page=page, filters=filters)
                outcome = await call(token, fetch)
                if not outcome.ok or outcome.value is None:
                    return
                async with self:
                    self._show(outcome.value)
                    if not self.busy:
                        return
        finally:
            async with self:
                self._polling = False

    # --- filters and form -----------------------------------------------------------------

    @rx.event
    def set_filter(self, name: str, value: str):
        """Change one filter of the list, back to page 1."""
        if name in ("definition", "scope", "status"):
            setattr(self, f"{name}_filter", value)
        self.page = 1
        return ReportsState.load

    @rx.event
    def set_form_definition(self, value: str) -> None:
        """Pick the template (the periods follow it)."""
        self.form_definition = value
        choices = self.period_choices
        self.form_period = choices[0].value if choices else ""

    @rx.event
    def set_form_scope(self, value: str) -> None:
        """Pick the scope: 全省 or a county."""
        self.form_scope = value

    @rx.event
    def set_form_period(self, value: str) -> None:
        """Pick the month or quarter."""
        self.form_period = value

    # --- actions --------------------------------------------------------------------------

    @rx.event(background=True)
    async def generate(self):
        """Queue the report, then generate it off the page (progress shows in the list)."""
        async with self:
            token, self.generating = await self._token(), True
            code, scope, period = self.form_definition, self.form_scope, self.form_period
        if not period:
            async with self:
                self.generating = False
            yield toast.error("期间：请选择要生成的月份或季度")
            return
        outcome = await call(
            token,
            lambda s, a: (
                service.request_report(
                    session=s,
                    actor=a,
                    definition_code=code,
                    tenant=_tenant(scope),
                    period_start=date.fromisoformat(period),
                ).id
            ),
        )
        async with self:
            self.generating = False
        if not outcome.ok or outcome.value is None:
            yield toast.error(outcome.error_text)
            return
        yield toast.info("已开始生成，完成后可在列表中下载")
        async with self:
            self.page = 1
        yield ReportsState.load
        report_id = outcome.value
        await asyncio.to_thread(service.generate_report, report_id=report_id)

    @rx.event(background=True)
    async def download(self, report_id: int, fmt: str):
        """Check the download (permission, scope, file), then let the browser fetch it by ticket."""
        async with self:
            token = await self._token()
        outcome = await call(
            token,
            lambda s, a: service.check_download(session=s, actor=a, report_id=report_id, fmt=fmt),
        )
        if not outcome.ok or outcome.value is None:
            yield toast.error(outcome.error_text)
            return
        ticket = seal_ticket(
            session_token=token, payload={"r": report_id, "f": fmt}, now=time.time()
        )
        yield rx.download(
            url=f"/api/v1/reports/download?ticket={quote(ticket, safe='')}",
            filename=outcome.value.filename,
        )

    @rx.event(background=True)
    async def subscribe(self):
        """Generate the chosen template and scope after every period from now on."""
        async with self:
            code, scope = self.form_definition, self.form_scope
        async for event in self._act(
            lambda s, a: service.subscribe(
                session=s, actor=a, definition_code=code, tenant=_tenant(scope)
            ),
            "已订阅：每期结束后自动生成",
        ):
            yield event

    @rx.event(background=True)
    async def unsubscribe(self, subscription_id: int):
        """Cancel a standing order."""
        async for event in self._act(
            lambda s, a: service.unsubscribe(session=s, actor=a, subscription_id=subscription_id),
            "已取消订阅",
        ):
            yield event
