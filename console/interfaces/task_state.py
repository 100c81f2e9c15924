"""State of the 共享任务 page: task definitions, executions with live progress, re-runs."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from console.authz.service import can
from console.core.paging import PageRequest
from console.interfaces import task_service
from console.tenancy.scope import scope_of
from console.ui.actions import call
from console.ui.choice import Choice
from console.ui.effects_state import toast
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 20
# While a run is going the page refreshes its executions this often, for at most WATCH_LIMIT_S.
WATCH_INTERVAL_S = 2
WATCH_LIMIT_S = 600


@dataclasses.dataclass(frozen=True)
class TaskView:
    """One task row."""

    id: int
    code: str
    name: str
    interface_name: str
    tenant_code: str
    schedule: str
    next_run_at: str
    pending: int
    last_status: str
    last_status_label: str
    last_run_at: str
    enabled: bool
    batch_size: int
    description: str
    interface_id: int


@dataclasses.dataclass(frozen=True)
class RunView:
    """One execution row."""

    id: int
    task_name: str
    status: str
    status_label: str
    trigger_label: str
    progress: int
    counts: str
    error: str
    actor: str
    started_at: str
    duration: str


class SharingTasksState(PagedListMixin, FormMixin, rx.State):
    """共享任务: tasks are the paged list; executions have their own paging below."""

    rows: list[TaskView] = []
    can_write: bool = False
    can_execute: bool = False

    runs: list[RunView] = []
    run_page: int = 1
    run_pages: int = 1
    run_total: int = 0
    run_status: str = "*"
    watching: bool = False

    edit_open: bool = False
    edit_id: int = 0  # 0 = creating
    edit_error: str = ""
    schedule_error: str = ""
    interfaces: list[Choice] = []
    edit_interface: str = ""
    edit_code: str = ""
    edit_name: str = ""
    edit_schedule: str = ""
    edit_batch: str = "100"
    edit_description: str = ""

    @rx.event(background=True)
    async def load(self):
        """Fetch the tasks and the executions."""

        def prepare():  # inside the state lock: read what the fetch needs
            keyword, page = self.keyword, self.page
            run_page, status = self.run_page, None if self.run_status == "*" else self.run_status

            def fetch(session, actor):
                tasks = task_service.list_tasks(
                    session=session, actor=actor, search=keyword, page=PageRequest(page, PAGE_SIZE)
                )
                runs = task_service.list_runs(
                    session=session,
                    actor=actor,
                    status=status,
                    page=PageRequest(run_page, PAGE_SIZE),
                )
                rights = {a: can(actor, task_service.OBJ, a) for a in ("write", "execute")}
                return tasks, runs, rights

            return fetch

        def show(value):  # inside the state lock: what the page shows
            tasks, runs, rights = value
            self.can_write, self.can_execute = rights["write"], rights["execute"]
            self.rows = [
                TaskView(
                    t.id,
                    t.code,
                    t.name,
                    t.interface_name,
                    t.tenant,
                    t.schedule or "手动",
                    t.next_run_at or "—",
                    t.pending,
                    t.last_status,
                    t.last_status_label or "未执行",
                    t.last_run_at or "—",
                    t.enabled,
                    t.batch_size,
                    t.description,
                    t.interface_id,
                )
                for t in tasks.items
            ]
            self.total, self.pages = tasks.total, tasks.pages
            self._show_runs(runs)
            # A run is going: keep its progress moving on screen.
            running = any(r.status == "running" for r in self.runs)
            return SharingTasksState.watch if running and not self.watching else None

        async for event in self._load_page(prepare, show):
            yield event

    def _show_runs(self, runs) -> None:
        self.runs = [
            RunView(
                r.id,
                r.task_name,
                r.status,
                r.status_label,
                r.trigger_label + (f"（重跑 #{r.rerun_of}）" if r.rerun_of else ""),
                r.progress,
                f"{r.processed} / {r.total}",
                r.error,
                r.actor_account,
                r.started_at,
                r.duration or "—",
            )
            for r in runs.items
        ]
        self.run_total, self.run_pages = runs.total, runs.pages

    @rx.event(background=True)
    async def watch(self):
        """Refresh the executions while any is running, so progress moves on screen."""
        async with self:
            if self.watching:
                return
            self.watching = True
        try:
            for _ in range(WATCH_LIMIT_S // WATCH_INTERVAL_S):
                await asyncio.sleep(WATCH_INTERVAL_S)
                async with self:
                    token, run_page = await self._token(), self.run_page
                    status = None if self.run_status == "*" else self.run_status
                outcome = await call(
                    token,
                    lambda s, a, status=status, run_page=run_page: task_service.list_runs(
                        session=s, actor=a, status=status, page=PageRequest(run_page, PAGE_SIZE)
                    ),
                )
                if not outcome.ok or outcome.value is None:
                    return
                async with self:
                    self._show_runs(outcome.value)
                    if not any(r.status == "running" for r in self.runs):
                        break
        finally:
            async with self:
                self.watching = False
        yield SharingTasksState.load

    @rx.event
    def set_run_status(self, value: str):
        """Filter executions by status."""
        self.run_status, self.run_page = value, 1
        return SharingTasksState.load

    @rx.event
    def previous_runs(self):
        """Older page of executions."""
        self.run_page = max(1, self.run_page - 1)
        return SharingTasksState.load

    @rx.event
    def next_runs(self):
        """Newer page of executions."""
        self.run_page = min(self.run_pages, self.run_page + 1)
        return SharingTasksState.load

    # --- run ------------------------------------------------------------------------------

    async def _start_and_execute(self, start, started_text: str):
        async with self:
            token = await self._token()
        outcome = await call(token, start)
        if not outcome.ok or outcome.value is None:
            yield toast.error(outcome.error_text)
            return
        yield toast.success(started_text)
        yield SharingTasksState.load
        # The worker opens its own short transactions, so the page sees progress as it goes.
        await asyncio.to_thread(task_service.execute_run, run_id=outcome.value)
        yield SharingTasksState.load

    @rx.event(background=True)
    async def run_now(self, task_id: int):
        """Start the task now and push what is queued."""
        async for event in self._start_and_execute(
            lambda s, a: task_service.start_run(session=s, actor=a, task_id=task_id),
            "任务已开始执行",
        ):
            yield event

    @rx.event(background=True)
    async def rerun(self, run_id: int):
        """Run a failed execution again: it pushes what the failed one left."""
        async for event in self._start_and_execute(
            lambda s, a: task_service.rerun(session=s, actor=a, run_id=run_id),
            "已重新执行",
        ):
            yield event

    @rx.event(background=True)
    async def toggle(self, task_id: int, enable: bool):
        """Enable or disable a task (a disabled task neither runs on schedule nor by hand)."""
        async for event in self._act(
            lambda s, a: task_service.set_enabled(
                session=s, actor=a, task_id=task_id, enabled=enable
            ),
            "任务已启用" if enable else "任务已停用",
        ):
            yield event

    # --- create / edit --------------------------------------------------------------------

    async def _open_editor(self, task: TaskView | None):
        def show(choices: list[tuple[int, str]]) -> None:
            self.interfaces = [Choice(str(i), label) for i, label in choices]
            self.edit_error = self.schedule_error = ""
            if task is None:
                self.edit_id, self.edit_code, self.edit_name = 0, "", ""
                self.edit_schedule, self.edit_batch, self.edit_description = "", "100", ""
                self.edit_interface = self.interfaces[0].value if self.interfaces else ""
            else:
                self.edit_id, self.edit_code, self.edit_name = task.id, task.code, task.name
                self.edit_schedule = "" if task.schedule == "手动" else task.schedule
                self.edit_batch, self.edit_description = str(task.batch_size), task.description
                self.edit_interface = str(task.interface_id)
            self.edit_open = True

        async for event in self._open_with(
            lambda s, a: task_service.interface_choices(session=s, actor=a), show
        ):
            yield event

    @rx.event(background=True)
    async def open_create(self):
        """A new task."""
        async for event in self._open_editor(None):
            yield event

    @rx.event(background=True)
    async def open_edit(self, task_id: int):
        """Edit a task (its code stays)."""
        async with self:
            task = next((t for t in self.rows if t.id == task_id), None)
        async for event in self._open_editor(task):
            yield event

    @rx.event
    def set_edit_interface(self, value: str) -> None:
        """The interface the task pushes to."""
        self.edit_interface = value

    @rx.event
    def check_schedule(self, value: str) -> None:
        """Say what is wrong with the cron expression as it is typed."""
        self.schedule_error = task_service.schedule_problem(value)

    @rx.event(background=True)
    async def save(self, form: dict[str, str]):
        """Create or update the task."""
        async with self:
            task_id, interface = self.edit_id, self.edit_interface
            tenant = next((t.tenant_code for t in self.rows if t.id == task_id), "全省")
        batch = form.get("batch_size", "").strip()
        if not batch.isdigit():
            async with self:
                self.edit_error = "每批条数：应为 1 到 5000 的整数"
            return
        draft = task_service.TaskDraft(
            code=form.get("code", "").strip(),
            name=form.get("name", "").strip(),
            interface_id=int(interface or 0),
            schedule=form.get("schedule", "").strip(),
            batch_size=int(batch),
            description=form.get("description", "").strip(),
            tenant_code="" if tenant == "全省" else tenant,
        )

        def apply(session, actor):
            if task_id:
                return task_service.update_task(
                    session=session, actor=actor, task_id=task_id, draft=draft
                )
            # A county's new task is its own; a province administrator's is province-wide.
            own = "" if scope_of(actor).all_tenants else actor.context_tenant or actor.tenant_code
            return task_service.create_task(
                session=session, actor=actor, draft=dataclasses.replace(draft, tenant_code=own)
            )

        async for event in self._submit(
            apply, dialog="edit", error="edit_error", success="共享任务已保存"
        ):
            yield event
