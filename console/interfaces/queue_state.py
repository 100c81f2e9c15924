"""State of a sharing task's queue, opened from the 共享任务 page: what waits, went, failed."""

from __future__ import annotations

import dataclasses

import reflex as rx

from console.core.paging import PageRequest
from console.interfaces import queue_service
from console.ui.actions import call
from console.ui.effects_state import toast
from console.ui.session import session_token

PAGE_SIZE = 20
STATUS_CHOICES = [("", "全部"), *queue_service.STATUS_LABELS.items()]


@dataclasses.dataclass(frozen=True)
class QueueView:
    """One queued record (its content is never sent to the browser)."""

    id: int
    record_id: str
    status: str
    status_label: str
    source: str
    queued: str
    outcome: str  # when it was delivered, or why it failed
    attempts: int


class TaskQueueState(rx.State):
    """The open task's queue: a page of records, filters, counts and re-queueing."""

    open: bool = False
    task_id: int = 0
    task_label: str = ""
    may_requeue: bool = False
    status: str = ""
    keyword: str = ""
    page: int = 1
    pages: int = 1
    total: int = 0
    counts: dict[str, int] = {}
    rows: list[QueueView] = []
    loading: bool = False
    confirm_ids: list[int] = []
    confirm_text: str = ""

    @rx.event
    def show(self, task_id: int, label: str, may_requeue: bool):
        """Open the queue of one task."""
        self.open, self.task_id, self.task_label = True, task_id, label
        self.may_requeue, self.status, self.keyword, self.page = may_requeue, "", "", 1
        self.rows, self.counts = [], {}
        return TaskQueueState.load

    @rx.event
    def set_open(self, value: bool):
        """Close the dialog."""
        self.open = value

    @rx.event
    def choose_status(self, value: str):
        """Filter by state (waiting, delivered, failed)."""
        self.status, self.page = "" if value == "*" else value, 1
        return TaskQueueState.load

    @rx.event
    def search(self, form: dict[str, str]):
        """Find records by their id."""
        self.keyword, self.page = str(form.get("keyword", "")).strip(), 1
        return TaskQueueState.load

    @rx.event
    def turn(self, step: int):
        """Previous (-1) or next (1) page."""
        self.page = min(max(1, self.page + step), self.pages)
        return TaskQueueState.load

    @rx.event(background=True)
    async def load(self):
        """Fetch the page and the counts, off the event loop."""
        async with self:
            token, task_id, status, keyword, page = (
                await session_token(self),
                self.task_id,
                self.status,
                self.keyword,
                self.page,
            )
            self.loading = True

        def fetch(session, actor):
            listing = queue_service.list_queue(
                session=session,
                actor=actor,
                task_id=task_id,
                status=status,  # type: ignore[arg-type]
                search=keyword,
                page=PageRequest(page, PAGE_SIZE),
            )
            counts = queue_service.status_counts(session=session, actor=actor, task_id=task_id)
            return listing, counts

        outcome = await call(token, fetch)
        async with self:
            self.loading = False
            if not outcome.ok or outcome.value is None:
                yield toast.error(outcome.error_text)
                return
            listing, self.counts = outcome.value
            self.rows = [_view(r) for r in listing.items]
            self.total, self.pages = listing.total, listing.pages
            if self.page > self.pages:  # the page emptied (e.g. its records were re-queued)
                self.page = self.pages
                yield TaskQueueState.load

    @rx.event
    def ask_requeue(self, record_ids: list[int], text: str):
        """Confirm before records are pushed (again)."""
        self.confirm_ids, self.confirm_text = record_ids, text

    @rx.event
    def ask_requeue_failed(self):
        """Confirm re-queueing every failed record on this page."""
        failed = [r.id for r in self.rows if r.status == "failed"]
        if not failed:
            return toast.info("本页没有推送失败的记录")
        self.confirm_ids = failed
        self.confirm_text = f"本页 {len(failed)} 条推送失败的记录"
        return None

    @rx.event
    def cancel_requeue(self, value: bool = False):
        """Close the confirmation."""
        if not value:
            self.confirm_ids, self.confirm_text = [], ""

    @rx.event(background=True)
    async def requeue(self):
        """Put the confirmed records back in the queue; the next run pushes them."""
        async with self:
            token, task_id, ids = await session_token(self), self.task_id, self.confirm_ids
            self.confirm_ids, self.confirm_text = [], ""
        outcome = await call(
            token,
            lambda s, a: queue_service.requeue(session=s, actor=a, task_id=task_id, record_ids=ids),
        )
        if not outcome.ok:
            yield toast.error(outcome.error_text)
            return
        yield toast.success(f"已重新排队 {outcome.value} 条，下次执行时推送")
        yield TaskQueueState.load


def _view(row: queue_service.QueueRow) -> QueueView:
    outcome = row.delivered or (f"{row.failed} {row.last_error}" if row.failed else "")
    return QueueView(
        row.id,
        row.record_id,
        row.status,
        row.status_label,
        row.source,
        row.queued,
        outcome or "—",
        row.attempts,
    )
