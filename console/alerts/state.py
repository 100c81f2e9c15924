"""State of 告警中心 (tiles, list, acknowledge, resolve, silence, confirm) and of the bell."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import TypeVar

import reflex as rx
from sqlmodel import Session

from console.alerts import service
from console.alerts.kinds import KINDS
from console.alerts.models import SEVERITIES
from console.core.actor import Actor
from console.core.paging import PageRequest
from console.tenancy import service as tenancy
from console.ui.actions import Outcome, call
from console.ui.effects_state import toast
from console.ui.form_state import FilterMixin, FormMixin
from console.ui.list_state import PagedListMixin
from console.ui.session import session_token

T = TypeVar("T")
ROUTE = "/alerts"
PAGE_SIZE = 20
# While the page is open it reloads itself: rules are evaluated once a minute.
REFRESH_SECONDS = 30
REFRESH_ROUNDS = 40  # 20 minutes; any filter or action starts a new round of refreshes
STATE_FILTERS = [("open", "未恢复"), ("firing", "告警中"), ("acknowledged", "已确认"),
                 ("resolved", "已恢复"), ("*", "全部状态")]  # fmt: skip
SEVERITY_FILTERS = list(SEVERITIES.items())
KIND_FILTERS = [(kind.key, kind.label) for kind in KINDS]
MIN_HOURS, MAX_HOURS = 1, 720
BELL_ITEMS = 10
REASON_PROBLEM = "请填写原因（至少 2 个字）"

# The service's display rows go to the page as they are.
SilenceView = service.SilenceRow
HistoryView = service.HistoryLine
BellItem = service.InboxRow


AlertView = service.AlertRow


@dataclasses.dataclass(frozen=True)
class Listing:
    """What one load fetches."""

    rows: list[AlertView]
    total: int
    pages: int
    counts: dict[str, int]
    silences: list[service.SilenceRow]
    rights: service.Rights


def fetch(where: service.AlertFilter, page: int) -> Callable[[Session, Actor], Listing]:
    """The page's read as one service call."""

    def read(session: Session, actor: Actor) -> Listing:
        found = service.list_alerts(
            session=session, actor=actor, where=where, request=PageRequest(page, PAGE_SIZE)
        )
        names = tenancy.tenant_names(session=session, actor=actor)
        return Listing(
            rows=list(found.items),
            total=found.total,
            pages=found.pages,
            counts=service.counts(session=session, actor=actor),
            silences=[  # a county's code as its name (the subject of a county's rule)
                dataclasses.replace(s, subject=names.get(s.subject, s.subject))
                for s in service.list_silences(session=session, actor=actor)
            ],
            rights=service.permissions(actor),
        )

    return read


def reason_problem(text: str) -> str:
    """What is wrong with a typed reason ("" when fine), as the service would say."""
    return "" if len(text.strip()) >= 2 else REASON_PROBLEM


def hours_problem(text: str) -> str:
    """What is wrong with a typed silence length in hours ("" when fine)."""
    try:
        hours = float(text.strip())
    except ValueError:
        return "请填写小时数"
    return (
        ""
        if MIN_HOURS <= hours <= MAX_HOURS
        else f"静默时长应在 {MIN_HOURS} 到 {MAX_HOURS} 小时之间"
    )


def _url_id(text: object) -> int:
    """A row id from the address bar, 0 when it is not one (typed by anyone)."""
    text = str(text)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0


class AlertsState(PagedListMixin, FilterMixin, FormMixin, rx.State):
    """告警中心."""

    rows: list[AlertView] = []
    state_filter: str = "open"
    severity_filter: str = "*"
    kind_filter: str = "*"
    rule_filter: int = 0  # from a notification's link (/alerts?rule=N)
    severity_counts: dict[str, int] = {}
    silences: list[SilenceView] = []
    can_write: bool = False
    can_approve: bool = False

    # The alert the open dialog acts on.
    target_id: int = 0
    target_title: str = ""
    target_integrity: bool = False
    target_waiting: str = ""

    ack_open: bool = False
    ack_error: str = ""
    resolve_open: bool = False
    resolve_error: str = ""
    silence_open: bool = False
    silence_whole: bool = False
    silence_errors: dict[str, str] = {}
    audit_open: bool = False
    audit_error: str = ""

    detail_open: bool = False
    detail: list[str] = []  # kind, subject, summary, state and when, one line each
    detail_link: str = ""
    history: list[HistoryView] = []

    end_open: bool = False
    end_id: int = 0
    end_name: str = ""
    _refreshing: bool = False

    def _filter(self) -> service.AlertFilter:
        return service.AlertFilter(
            state="" if self.state_filter == "*" else self.state_filter,
            severity=self._chosen("severity_filter") or "",
            kind=self._chosen("kind_filter") or "",
            rule_id=self.rule_filter,
            text=self.keyword,
        )

    def _show(self, listing: Listing) -> rx.event.EventSpec | None:
        self.rows = list(listing.rows)
        self.total, self.pages = listing.total, listing.pages
        self.severity_counts = {key: listing.counts.get(key, 0) for key in SEVERITIES}
        self.silences = list(listing.silences)
        self.can_write, self.can_approve = listing.rights.write, listing.rights.approve
        return None if self._refreshing else AlertsState.refresh

    @rx.event
    def enter(self) -> list[rx.event.EventSpec | rx.event.EventHandler]:
        """The page opened: take a rule (a notification's link) or an alert (the bell)."""
        given = self.router.url.query_parameters
        self.rule_filter = _url_id(given.get("rule", ""))
        if self.rule_filter:
            self.state_filter, self.severity_filter, self.kind_filter = "*", "*", "*"
            self.keyword, self.page = "", 1
        wanted = _url_id(given.get("alert", ""))
        return [AlertsState.load, *([AlertsState.show_detail(wanted)] if wanted else [])]

    @rx.event(background=True)
    async def load(self):
        """Fetch the tiles, the current page of alerts and the silences."""

        def prepare() -> Callable[[Session, Actor], Listing]:
            return fetch(self._filter(), self.page)

        async for event in self._load_page(prepare, self._show):
            yield event

    @rx.event(background=True)
    async def refresh(self):
        """Reload every half minute while the page stays open (stops when the user leaves)."""
        async with self:
            if self._refreshing:
                return
            self._refreshing = True
        try:
            for _ in range(REFRESH_ROUNDS):
                await asyncio.sleep(REFRESH_SECONDS)
                async with self:
                    if not self.router.url.path.startswith(ROUTE):
                        return
                yield AlertsState.load
                yield BellState.refresh
        finally:
            async with self:
                self._refreshing = False

    @rx.event
    def pick_severity(self, severity: str):
        """A tile clicked: the open alerts of that severity."""
        self.severity_filter, self.state_filter, self.page = severity, "open", 1
        return AlertsState.load

    @rx.event
    def clear_rule(self):
        """Show every rule's alerts again (after a notification's link)."""
        self.rule_filter, self.page = 0, 1
        return AlertsState.load

    # ---- the row's dialogs -------------------------------------------------------------

    @rx.event
    def ask(self, dialog: str, alert_id: int) -> None:
        """Open the dialog ``dialog`` (ack, resolve, silence, audit) for one row."""
        row = next((r for r in self.rows if r.id == alert_id), None)
        if row is None or dialog not in {"ack", "resolve", "silence", "audit"}:
            return
        self.target_id, self.target_title = row.id, f"{row.kind_label}：{row.subject}"
        self.target_integrity, self.target_waiting = row.integrity, row.waiting
        self.ack_error = self.resolve_error = self.audit_error = ""
        self.silence_errors, self.silence_whole = {}, False
        setattr(self, f"{dialog}_open", True)

    @rx.event(background=True)
    async def acknowledge(self, form: dict[str, str]):
        """Someone is on it: escalation stops."""
        async with self:
            alert_id = self.target_id
        note = form.get("note", "").strip()
        async for event in self._submit(
            lambda s, a: service.acknowledge(session=s, actor=a, alert_id=alert_id, note=note),
            dialog="ack",
            error="ack_error",
            success="告警已确认，升级通知停止；条件恢复后告警自动关闭",
        ):
            yield event

    @rx.event
    def check_resolve(self, reason: str) -> None:
        """Live check of the closing reason as it is typed."""
        self.resolve_error = reason_problem(reason)

    @rx.event(background=True)
    async def resolve(self, form: dict[str, str]):
        """Close the alert (an integrity alert: ask the audit administrator)."""
        reason = form.get("reason", "")
        async with self:
            alert_id, integrity = self.target_id, self.target_integrity
            self.resolve_error = reason_problem(reason)
            if self.resolve_error:
                return
        done = "已申请关闭，待审计管理员确认后关闭" if integrity else "告警已关闭"
        async for event in self._submit(
            lambda s, a: service.resolve(session=s, actor=a, alert_id=alert_id, reason=reason),
            dialog="resolve",
            error="resolve_error",
            success=done,
        ):
            yield event

    @rx.event
    def check_silence(self, field: str, value: str) -> None:
        """Live check of the silence form (时长, 原因) as it is typed."""
        check = hours_problem if field == "时长" else reason_problem
        self.silence_errors = {**self.silence_errors, field: check(value)}

    @rx.event
    def set_silence_whole(self, value: bool) -> None:
        """Silence every subject of the rule, not only this one."""
        self.silence_whole = bool(value)

    @rx.event(background=True)
    async def silence(self, form: dict[str, str]):
        """No notifications for the subject (or the whole rule) for the hours asked."""
        hours_text, reason = form.get("hours", ""), form.get("reason", "")
        problems = {"时长": hours_problem(hours_text), "原因": reason_problem(reason)}
        async with self:
            self.silence_errors = problems
            alert_id, whole, integrity = self.target_id, self.silence_whole, self.target_integrity
        if any(problems.values()):
            return
        hours = float(hours_text)
        done = (
            "已申请静默，审计管理员确认后生效"
            if integrity
            else f"已静默 {hours:g} 小时：期间照常记录，不发送通知"
        )
        async for event in self._submit(
            lambda s, a: service.silence(
                session=s, actor=a, alert_id=alert_id, hours=hours, reason=reason, whole_rule=whole
            ),
            dialog="silence",
            error=None,
            success=done,
        ):
            yield event

    @rx.event(background=True)
    async def confirm(self, form: dict[str, str]):
        """The audit administrator confirms what waits on the alert."""
        async with self:
            alert_id = self.target_id
        note = form.get("note", "").strip()
        outcome = await self._call(
            lambda s, a: service.confirm(session=s, actor=a, alert_id=alert_id, note=note)
        )
        async with self:
            self.audit_error = outcome.error_text
            self.audit_open = not outcome.ok
        if outcome.ok and outcome.value is not None:
            closed = outcome.value.state == "resolved"
            yield toast.success("已确认，告警已关闭" if closed else "已确认，静默已生效")
            yield AlertsState.load

    @rx.event(background=True)
    async def show_detail(self, alert_id: int):
        """The alert with every event and every notification sent about it."""

        def read(
            session: Session, actor: Actor
        ) -> tuple[service.AlertRow, list[service.HistoryLine]]:
            row = service.get_alert(session=session, actor=actor, alert_id=alert_id)
            return row, service.history(session=session, actor=actor, alert_id=alert_id)

        def show(value: tuple[service.AlertRow, list[service.HistoryLine]]) -> None:
            row, lines = value
            self.detail = [
                f"类型：{row.kind_label}（{row.severity_label}）",
                f"对象：{row.subject}",
                f"摘要：{row.summary}",
                f"状态：{row.state_label}；首次触发 {row.first_at}，最近一次 {row.last_at}",
            ]
            self.detail_link, self.history = row.link, list(lines)
            self.detail_open = True

        async for event in self._open_with(read, show):
            yield event

    # ---- silences ----------------------------------------------------------------------

    @rx.event
    def ask_end(self, silence_id: int, name: str) -> None:
        """Confirm before ending a silence."""
        self.end_id, self.end_name, self.end_open = silence_id, name, True

    @rx.event
    def set_end_open(self, value: bool) -> None:
        """Close the confirmation."""
        self.end_open = value

    @rx.event(background=True)
    async def end_silence(self):
        """End the confirmed silence now: notifications resume."""
        async with self:
            silence_id, self.end_open = self.end_id, False
        async for event in self._act(
            lambda s, a: service.end_silence(session=s, actor=a, silence_id=silence_id),
            "静默已结束，之后的告警照常通知",
        ):
            yield event


class BellState(rx.State):
    """The header's bell: the signed-in user's own unread alerts (only with ``ops.alerts``)."""

    shown: bool = False
    unread: int = 0
    menu_open: bool = False
    items: list[BellItem] = []

    async def _run(self, operation: Callable[[Session, Actor], T]) -> Outcome[T]:
        async with self:
            token = await session_token(self)
        return await call(token, operation)

    @rx.event(background=True)
    async def refresh(self):
        """The number on the bell (one count; every page load asks)."""
        outcome = await self._run(lambda s, a: service.bell_count(session=s, actor=a))
        async with self:
            count = outcome.value if outcome.ok else None
            self.shown, self.unread = count is not None, count or 0

    @rx.event(background=True)
    async def set_menu(self, value: bool):
        """Open (fetching the newest items) or close the bell's list."""
        async with self:
            self.menu_open = bool(value)
        if not value:
            return
        outcome = await self._run(lambda s, a: service.inbox(session=s, actor=a, limit=BELL_ITEMS))
        if not outcome.ok or outcome.value is None:
            yield toast.error(outcome.error_text)
            return
        async with self:
            self.unread, found = outcome.value
            self.items = list(found)

    @rx.event(background=True)
    async def open_item(self, item_id: int, alert_id: int):
        """Mark the item read and show its alert on 告警中心."""
        outcome = await self._run(
            lambda s, a: service.mark_read(session=s, actor=a, item_id=item_id)
        )
        async with self:
            self.menu_open = False
            self.unread = max(0, self.unread - (outcome.value or 0))
            self.items = [
                dataclasses.replace(i, read=i.read or i.id == item_id) for i in self.items
            ]
            here = self.router.url.path.startswith(ROUTE)
        if here:
            yield AlertsState.show_detail(alert_id)
        else:
            yield rx.redirect(f"{ROUTE}?alert={alert_id}")

    @rx.event(background=True)
    async def read_all(self):
        """Mark every item of the bell read."""
        outcome = await self._run(lambda s, a: service.mark_read(session=s, actor=a))
        if not outcome.ok:
            yield toast.error(outcome.error_text)
            return
        async with self:
            self.unread = 0
            self.items = [dataclasses.replace(item, read=True) for item in self.items]
        yield toast.success("已全部标为已读")
