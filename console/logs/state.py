"""State of the 日志审计 page: search any stream, trace a case, export what was found."""

from __future__ import annotations

import dataclasses
import time
from datetime import date
from urllib.parse import quote

import reflex as rx

from console.authz.service import can
from console.core.paging import PageRequest
from console.logs import export, labels, search
from console.logs.contract import STREAM_LABELS
from console.logs.search import COLUMN_LABELS
from console.tenancy.service import tenant_names
from console.ui.actions import call
from console.ui.effects_state import toast
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 50
_FILTER_KEYS = ("case_no", "trace_id", "actor", "interface_code", "department", "text", "tenant")
_URL_KEYS = ("start", "end", "result", *_FILTER_KEYS)
_FILTER_LABELS = {
    "start": "开始日期", "end": "结束日期", "result": "结果", "case_no": "受理编号",
    "trace_id": "追踪号", "actor": "操作人", "interface_code": "接口代码", "department": "部门",
    "text": "文字", "tenant": "租户代码",
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class LogView:
    """One result row: its cells in the stream's column order, and its case number."""

    key: str
    cells: list[str]
    case_no: str
    failed: bool


@dataclasses.dataclass(frozen=True)
class TraceView:
    """One line of a case's timeline."""

    time: str
    title: str
    detail: str
    failed: bool
    gap: str


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


class AuditState(PagedListMixin, FormMixin, rx.State):
    """日志审计."""

    stream: str = "case_event"
    filters: dict[str, str] = {}
    headers: list[str] = []
    rows: list[LogView] = []
    can_export: bool = False
    exporting: bool = False

    trace_open: bool = False
    trace_case_no: str = ""
    trace: list[TraceView] = []
    trace_loading: bool = False

    def _query(self) -> search.LogQuery:
        values = self.filters
        return search.LogQuery(
            stream=self.stream,
            start=_day(values.get("start", "")),
            end=_day(values.get("end", "")),
            result=values.get("result", ""),
            **{key: values.get(key, "").strip() for key in _FILTER_KEYS},
        )

    @rx.event(background=True)
    async def load(self):
        """Run the search for the current page."""

        def prepare():  # inside the state lock: read what the fetch needs
            query, page = self._query(), self.page

            def fetch(session, actor):
                found = search.search_logs(
                    session=session, actor=actor, query=query, page=PageRequest(page, PAGE_SIZE)
                )
                tenants = tenant_names(session=session, actor=actor)
                return found, can(actor, search.OBJ, "export"), tenants

            return fetch

        def show(value):  # inside the state lock: what the page shows
            found, self.can_export, tenants = value
            columns = search.SUMMARY_COLUMNS[self.stream]
            self.headers = [COLUMN_LABELS.get(c, c) for c in ("time", "tenant", *columns)]
            self.rows = [
                LogView(
                    key=row.event_id,
                    # Names, the code beside them: 西湖区（330106）, 受理（accept）.
                    cells=[
                        row.time,
                        labels.named(tenants.get(row.tenant), row.tenant),
                        *[labels.shown(c, row.fields.get(c, "")) for c in columns],
                    ],
                    case_no=row.fields.get("case_no", ""),
                    failed=row.fields.get("success") == "false"
                    or row.fields.get("outcome", "success") != "success"
                    or self.stream == "exception",
                )
                for row in found.items
            ]
            self.total, self.pages = found.total, found.pages

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event
    def enter(self):
        """The page opened: take a search or a case handed over in the URL, then search.

        Dashboards drill down to here (``search.search_url``, ``search.trace_url``).
        """
        given = self.router.url.query_parameters
        if given.get("stream") in STREAM_LABELS:
            self.stream = given["stream"]
            self.filters = {k: given[k].strip() for k in _URL_KEYS if given.get(k, "").strip()}
            self.page = 1
        wanted = given.get("trace", "")
        return [AuditState.load, *([AuditState.open_trace(wanted)] if wanted else [])]

    @rx.var
    def filter_summary(self) -> str:
        """The filters in force, in words (shown when they came with a link)."""
        return "；".join(f"{_FILTER_LABELS.get(k, k)}：{v}" for k, v in self.filters.items())

    @rx.event
    def clear_filters(self):
        """Drop every filter and search again."""
        self.filters, self.page = {}, 1
        return AuditState.load

    @rx.event
    def set_stream(self, stream: str | list[str]):
        """Search another stream (the segmented control sends one value)."""
        chosen = stream[0] if isinstance(stream, list) else stream
        self.stream, self.page = chosen, 1
        return AuditState.load

    @rx.event
    def apply_filters(self, form: dict[str, str]):
        """Search with the filter form (from page 1)."""
        self.filters = {k: v.strip() for k, v in form.items() if v and v.strip()}
        self.page = 1
        return AuditState.load

    # --- trace ----------------------------------------------------------------------------

    @rx.event(background=True)
    async def open_trace(self, case_no: str):
        """One case's steps, sharing calls, operator actions and exceptions on one timeline."""
        async with self:
            token = await self._token()
            self.trace_case_no, self.trace, self.trace_open = case_no, [], True
            self.trace_loading = True
        outcome = await call(
            token, lambda s, a: search.trace_case(session=s, actor=a, case_no=case_no)
        )
        async with self:
            self.trace_loading = False
            if not outcome.ok:
                self.trace_open = False
                yield toast.error(outcome.error_text)
                return
            self.trace = [
                TraceView(e.time, e.title, e.detail, e.failed, e.gap_before)
                for e in outcome.value or []
            ]

    @rx.event
    def trace_form(self, form: dict[str, str]):
        """Trace the case number typed in the trace box."""
        return AuditState.open_trace(form.get("case_no", "").strip())

    # --- export ---------------------------------------------------------------------------

    @rx.event(background=True)
    async def export(self, fmt: str):
        """Download what the search found (masked, formulas neutralised, logged), streamed.

        The export is checked here, then fetched by URL with a short-lived sealed ticket, so
        a million rows never pass through the page's state.
        """
        async with self:
            token, query, self.exporting = await self._token(), self._query(), True
        outcome = await call(
            token, lambda _s, actor: export.check_export(actor=actor, query=query, fmt=fmt)
        )
        async with self:
            self.exporting = False
        if not outcome.ok or outcome.value is None:
            yield toast.error(outcome.error_text)
            return
        ticket = export.issue_ticket(session_token=token, query=query, fmt=fmt, now=time.time())
        yield toast.info(f"正在导出 {outcome.value:,} 条，浏览器将显示下载进度")
        yield rx.download(
            url=f"/api/v1/exports/logs?ticket={quote(ticket, safe='')}",
            filename=f"{STREAM_LABELS[query.stream]}.{fmt}",
        )
