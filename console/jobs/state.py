"""State of the 系统任务 page: the jobs, their run history (paged on the server), 立即运行."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import reflex as rx
from sqlmodel import Session

from console.core.actor import Actor
from console.core.paging import Page, PageRequest
from console.jobs import service
from console.jobs.registry import REGISTRY
from console.ui.actions import call
from console.ui.choice import Choice
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 20
# After 立即运行 the page refreshes every few seconds until the run ends (at most 3 min).
FOLLOW_SECONDS = 3
FOLLOW_ROUNDS = 60
OUTCOME_FILTERS = [("*", "全部结果"), *service.OUTCOME_LABELS.items()]


# The service's rows are already plain, masked-free display rows: the page shows them as is.
JobView = service.JobRow
RunView = service.RunRow


@dataclasses.dataclass(frozen=True)
class Listing:
    """What one load fetches."""

    jobs: list[service.JobRow]
    runs: Page[service.RunRow]
    can_execute: bool


def fetch(job: str, outcome: str, page: int) -> Callable[[Session, Actor], Listing]:
    """The page's read as one service call (``*`` = no filter)."""

    def read(session: Session, actor: Actor) -> Listing:
        jobs = service.list_jobs(session=session, actor=actor)
        runs = service.list_runs(
            session=session,
            actor=actor,
            job="" if job == "*" else job,
            outcome="" if outcome == "*" else outcome,
            page=PageRequest(page, PAGE_SIZE),
        )
        return Listing(jobs, runs, service.may_execute(actor))

    return read


class JobsState(PagedListMixin, rx.State):
    """系统任务: the registered jobs on top, the history below, filtered by job and outcome."""

    jobs: list[JobView] = []
    rows: list[RunView] = []
    job_choices: list[Choice] = []
    can_execute: bool = False
    job_filter: str = "*"
    outcome_filter: str = "*"

    run_open: bool = False
    run_job: str = ""
    run_label: str = ""

    def _show(self, listing: Listing) -> None:
        """Put a fetched listing on the page."""
        self.jobs = list(listing.jobs)
        self.rows = list(listing.runs.items)
        self.total, self.pages = listing.runs.total, listing.runs.pages
        self.job_choices = [Choice(job.name, job.label) for job in REGISTRY]
        self.can_execute = listing.can_execute

    @rx.event(background=True)
    async def load(self):
        """Fetch the jobs and the current page of runs."""

        def prepare():  # inside the state lock: read what the fetch needs
            return fetch(self.job_filter, self.outcome_filter, self.page)

        async for event in self._load_page(prepare, self._show):
            yield event

    @rx.event
    def set_job_filter(self, value: str):
        """Only the runs of one job (``*`` = every job)."""
        self.job_filter, self.page = value, 1
        return JobsState.load

    @rx.event
    def set_outcome_filter(self, value: str):
        """Only the runs with one outcome (``*`` = any)."""
        self.outcome_filter, self.page = value, 1
        return JobsState.load

    @rx.event
    def ask_run(self, name: str, label: str) -> None:
        """Confirm before 立即运行."""
        self.run_open, self.run_job, self.run_label = True, name, label

    @rx.event
    def set_run_open(self, value: bool) -> None:
        """Close the confirmation."""
        self.run_open = value

    @rx.event(background=True)
    async def run_now(self):
        """Ask the leader to run the confirmed job now (the service checks the permission)."""
        async with self:
            job, self.run_open = self.run_job, False
        async for event in self._act(
            lambda session, actor: service.request_run(session=session, actor=actor, job=job),
            "已提交立即运行，调度器将在几秒内开始执行",
        ):
            yield event
        yield JobsState.follow(job)

    @rx.event(background=True)
    async def follow(self, job: str):
        """Refresh while the requested run waits or runs, so the page shows it finish."""
        for _ in range(FOLLOW_ROUNDS):
            await asyncio.sleep(FOLLOW_SECONDS)
            async with self:
                if not self.router.url.path.startswith("/system-jobs"):
                    return  # the user left the page
                token = await self._token()
                read = fetch(self.job_filter, self.outcome_filter, self.page)
            outcome = await call(token, read)
            if not outcome.ok:
                return
            listing = outcome.value
            async with self:
                self._show(listing)
            row = next((j for j in listing.jobs if j.name == job), None)
            if row is None or (not row.waiting and row.last_outcome != "running"):
                return
