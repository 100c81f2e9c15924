"""The loop: win the election, then start each job when its slot comes, each in its own worker.

Every second the leader looks at each job: when its next fire time has come and it is not
still running, it claims the latest slot in the database (``job_run``, unique per job and
slot) and starts a worker; a thread per running job waits for its worker, at most the job's
deadline, and records how it ended. Jobs run side by side; a job never overlaps itself (a
slot that comes while it runs is folded into the next one). Run-now requests from the page
are picked up on the same beat.

Slots missed while no process led run once when a leader is back (like cron's catch-up in
sharing tasks). A new leader first marks the runs its predecessor left ``running`` as
interrupted and runs the idempotent ones again at once; the others wait for their next slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from types import FrameType

from loguru import logger

from console.core import metrics
from console.core.clock import utcnow
from console.core.settings import get_settings
from console.jobs import runner, runs
from console.jobs.leader import Leadership, leadership_for
from console.jobs.models import JobRequest, RunOutcome, RunTrigger
from console.jobs.registry import REGISTRY, Job, Registry
from console.jobs.runner import RunResult, WorkerSetup
from console.jobs.timing import describe_seconds, latest_fire, next_fire

TICK_SECONDS = 1.0
_COMPLAIN_EVERY = 60.0  # seconds between two ERROR lines about the same broken loop
_TAKEOVER = "调度主节点已更换：上一主节点退出时此次运行尚未结束"


@dataclass
class _Running:
    run_id: int
    thread: threading.Thread
    cancel: threading.Event


class Scheduler:
    """Runs a registry's jobs while this process is the leader."""

    def __init__(
        self,
        registry: Registry = REGISTRY,
        *,
        setup: WorkerSetup | None = None,
        tick_seconds: float = TICK_SECONDS,
        election: Leadership | None = None,
    ) -> None:
        settings = get_settings()
        self.registry = registry
        self.url = settings.db_url
        self.poll_seconds = settings.scheduler_leader_poll_seconds
        self.grace_seconds = settings.scheduler_term_grace_seconds
        self.tick_seconds = tick_seconds
        self.setup = setup
        self.leading = False
        self._election = election or leadership_for(self.url, settings.resolved_data_dir)
        self._next_poll = 0.0
        self._due: dict[str, datetime | None] = {}
        self._running: dict[str, _Running] = {}
        self._complained = 0.0
        modules = [job.module for job in registry]
        runner.prepare([*modules, setup.__module__] if setup else modules)

    # --- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Step every tick until ``stop`` is set; then stop the workers and step down."""
        try:
            while not stop.is_set():
                self.step()
                stop.wait(self.tick_seconds)
        finally:
            self.close()

    def step(self, now: datetime | None = None) -> None:
        """One beat: election, finished runs, run-now requests, due slots."""
        now = now or utcnow()
        try:
            self._elect(now)
            if self.leading:
                self._reap()
                self._take_requests(now)
                self._dispatch_due(now)
        except Exception:  # the loop outlives any one failure (a database restart, say)
            self._complain()

    def close(self) -> None:
        """Interrupt what still runs and give the leadership up."""
        if self.leading:
            self._step_down("调度器停止")
        self._election.release()

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until no run is going (tests, and an orderly stop)."""
        end = time.monotonic() + timeout
        for running in list(self._running.values()):
            running.thread.join(max(0.0, end - time.monotonic()))
        self._reap()

    # --- leadership -----------------------------------------------------------------------

    def _elect(self, now: datetime) -> None:
        if time.monotonic() < self._next_poll:
            return
        self._next_poll = time.monotonic() + self.poll_seconds
        if self.leading:
            if not self._election.held():
                self._step_down("失去调度主节点身份")
            return
        if not self._election.acquire():
            return
        logger.info("本进程成为系统任务调度主节点")
        try:
            self._take_over(now)
        except Exception:
            self._step_down("接管调度失败")
            raise
        self.leading = True

    def _take_over(self, now: datetime) -> None:
        """Close the dead leader's runs, re-run the idempotent ones, plan every job's slot."""
        left = runs.interrupt_running(url=self.url, reason=_TAKEOVER)
        if left:
            names = "、".join(sorted({run.job for run in left}))
            logger.warning(f"接管调度：{len(left)} 个未结束的运行已标记为中断（{names}）")
        last = runs.last_scheduled_slots(url=self.url)
        for job in self.registry:
            self._due[job.name] = self._first_due(job, last.get(job.name), now)
        for name in dict.fromkeys(run.job for run in left):
            job = self.registry.get(name)
            if job is not None and job.idempotent:
                self._start(job, now, RunTrigger.RETRY)

    @staticmethod
    def _first_due(job: Job, last: datetime | None, now: datetime) -> datetime | None:
        """The latest slot if it never ran (a slot missed while nobody led), else the next."""
        latest = latest_fire(job.trigger, now)
        if latest is not None and (last is None or latest > last):
            return latest
        return next_fire(job.trigger, now)

    def _step_down(self, reason: str) -> None:
        logger.warning(f"{reason}：中断正在运行的系统任务并交出主节点")
        for running in self._running.values():
            running.cancel.set()
        self.drain(self.grace_seconds + 30)
        self.leading = False
        self._due.clear()
        self._election.release()

    # --- dispatch -------------------------------------------------------------------------

    def _dispatch_due(self, now: datetime) -> None:
        for job in self.registry:
            due = self._due.get(job.name)
            if due is None or due > now or job.name in self._running:
                continue
            slot = latest_fire(job.trigger, now) or due
            self._due[job.name] = next_fire(job.trigger, slot)
            self._start(job, slot, RunTrigger.SCHEDULE)

    def _take_requests(self, now: datetime) -> None:
        for request in runs.waiting_requests(url=self.url):
            job = self.registry.get(request.job)
            if job is None:
                logger.warning(f"立即运行请求 {request.id} 的任务 {request.job} 未登记，已忽略")
                runs.drop_request(url=self.url, request_id=request.id or 0)
            elif job.name not in self._running:
                self._start_requested(job, request, now)

    def _start_requested(self, job: Job, request: JobRequest, now: datetime) -> None:
        run_id = runs.take_request(url=self.url, request=request, slot=now)
        if run_id is not None:
            self._start(job, now, RunTrigger.MANUAL, run_id=run_id)

    def _start(
        self, job: Job, slot: datetime, trigger: RunTrigger, *, run_id: int | None = None
    ) -> None:
        run_id = run_id or runs.claim(url=self.url, job=job.name, slot=slot, trigger=trigger)
        if run_id is None:
            logger.info(f"系统任务 {job.name} 的时段 {slot.isoformat()} 已由其他进程运行，跳过")
            return
        cancel = threading.Event()
        thread = threading.Thread(
            target=self._watch, args=(job, slot, run_id, cancel), name=f"job {job.name}"
        )
        thread.daemon = True
        self._running[job.name] = _Running(run_id, thread, cancel)
        thread.start()

    def _reap(self) -> None:
        for name in [n for n, running in self._running.items() if not running.thread.is_alive()]:
            del self._running[name]

    # --- one run --------------------------------------------------------------------------

    def _watch(self, job: Job, slot: datetime, run_id: int, cancel: threading.Event) -> None:
        """The thread of one run: start its worker, wait, record the outcome."""

        def started(pid: int) -> None:
            runs.set_worker(url=self.url, run_id=run_id, worker_pid=pid)

        try:
            result = runner.execute(
                job,
                slot,
                grace_seconds=self.grace_seconds,
                setup=self.setup,
                cancel=cancel,
                on_start=started,
                tag=f"job-{run_id}",
            )
        except Exception as exc:  # the run must not stay "running" for a bug of ours
            result = RunResult(RunOutcome.FAILED, f"调度器内部错误：{type(exc).__name__}: {exc}")
        self._record(job, run_id, result)

    def _record(self, job: Job, run_id: int, result: RunResult) -> None:
        for attempt in range(3):
            try:
                runs.finish(
                    url=self.url,
                    run_id=run_id,
                    outcome=result.outcome,
                    error=result.error,
                    summary=result.summary,
                    duration_ms=result.duration_ms,
                )
                break
            except Exception:  # the database may be briefly away; the next leader cleans up
                if attempt == 2:
                    logger.exception(f"系统任务 {job.name} 的运行结果未能记录（运行 {run_id}）")
                else:
                    time.sleep(1)
        _log(job, run_id, result)
        _count(job, result)

    def _complain(self) -> None:
        if time.monotonic() - self._complained >= _COMPLAIN_EVERY:
            self._complained = time.monotonic()
            logger.exception("系统任务调度出错（调度器继续运行）")


def _count(job: Job, result: RunResult) -> None:
    """The run in the metrics; the worker's live gauges (if any) go with it."""
    metrics.record_job_run(
        job=job.name, outcome=str(result.outcome), seconds=result.duration_ms / 1000
    )
    if result.worker_pid is not None:
        metrics.mark_process_dead(result.worker_pid)


def _log(job: Job, run_id: int, result: RunResult) -> None:
    """One line per run; failures and overruns at ERROR (they reach the exception stream)."""
    took = describe_seconds(result.duration_ms / 1000)
    where = f"系统任务“{job.label}”（{job.name}，运行 {run_id}）"
    if result.outcome == RunOutcome.SUCCEEDED:
        logger.debug(f"{where}完成，用时 {took}：{result.summary}")
    elif result.outcome == RunOutcome.INTERRUPTED:
        logger.warning(f"{where}被中断：{result.error}")
    elif result.outcome == RunOutcome.TIMED_OUT:
        logger.error(f"{where}超时：{result.error}")
    else:
        logger.error(f"{where}失败（用时 {took}）：{result.error}")


def serve(scheduler: Scheduler) -> None:
    """Run in the foreground until SIGTERM or SIGINT (``python -m console scheduler``)."""
    stop = threading.Event()
    received: list[int] = []

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)  # only this: the interrupted code may hold a lock we'd need

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    loop = threading.Thread(target=scheduler.run, args=(stop,), name="scheduler")
    loop.start()
    while not received and loop.is_alive():
        time.sleep(0.2)
    if received:
        logger.info(f"收到 {signal.Signals(received[0]).name}，调度器停止")
    stop.set()
    loop.join()


@contextlib.asynccontextmanager
async def lifespan(
    registry: Registry = REGISTRY, setup: WorkerSetup | None = None
) -> AsyncIterator[None]:
    """The backend's lifespan task: the scheduler in a thread for as long as the app runs."""
    if not get_settings().scheduler_enabled:
        logger.info("系统任务调度已关闭（BDC_SCHEDULER_ENABLED=0）")
        yield
        return
    stop = threading.Event()
    scheduler = Scheduler(registry, setup=setup)
    thread = threading.Thread(target=scheduler.run, args=(stop,), name="scheduler", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, scheduler.grace_seconds + 5)
