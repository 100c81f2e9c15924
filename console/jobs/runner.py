"""Run one job in a worker process of its own, and end it for real at its deadline.

Workers come from a ``forkserver``: a clean process started once, which imports the job
modules ahead (``prepare``) and forks a worker per run — cheap, and a worker never inherits
the backend's threads, event loop, database connections or locks. (The fork server only
imports those modules; Polars' thread pool starts in the worker on first use.) A worker dies
with its fork server, and the fork server exits when the scheduler's process does, so no
worker outlives its leader.

Past the deadline a worker gets SIGTERM — raised inside the job as ``Terminated`` so its
``finally`` blocks run — and SIGKILL if it is still there after the grace period. Either way
the kernel releases what it held: the lake's ``flock``, its database connections.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.context import set_spawning_popen
from typing import Any

import sqlalchemy as sa
from loguru import logger

from console.core.db import engine_for
from console.core.logging import configure_logging, request_context
from console.core.settings import ENV_PREFIX, get_settings
from console.jobs.models import RunOutcome
from console.jobs.registry import Job, JobFailed, JobFunction
from console.jobs.timing import describe_seconds

_CONTEXT = multiprocessing.get_context("forkserver")
_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.5
_MESSAGE_LIMIT = 8000  # well under a pipe's buffer: a worker never blocks on its last word
WorkerSetup = Callable[[], None]


class Terminated(Exception):
    """Raised inside a worker by SIGTERM: its deadline passed or the scheduler stops."""


@dataclass(frozen=True)
class RunResult:
    """How one run ended."""

    outcome: RunOutcome
    error: str = ""
    summary: str = ""
    duration_ms: int = 0
    worker_pid: int | None = None


class _WorkerPopen(popen_forkserver.Popen):
    """The fork server's launch, without the parent's ``__main__`` run again in the worker.

    multiprocessing re-runs the parent's main script in each forkserver child so that pickles
    naming ``__main__`` resolve. Jobs are imported by name, never from ``__main__``; running
    the main script again would cost an import per run (``reflex``'s or ``granian``'s entry
    script in the backend) or, for an unguarded script, start its work over. The steps are
    ``popen_forkserver.Popen._launch``'s (Python 3.11) with those two keys left out.
    """

    def _launch(self, process_obj: multiprocessing.process.BaseProcess) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)  # type: ignore[attr-defined]
        prep_data.pop("init_main_from_name", None)
        prep_data.pop("init_main_from_path", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _WorkerProcess(_CONTEXT.Process):  # type: ignore[name-defined,misc]
    """A forkserver process launched by ``_WorkerPopen``."""

    @staticmethod
    def _Popen(process_obj: multiprocessing.process.BaseProcess) -> _WorkerPopen:
        return _WorkerPopen(process_obj)


def prepare(modules: Iterable[str]) -> None:
    """Modules the fork server imports once, before its first worker (later calls: no effect)."""
    _CONTEXT.set_forkserver_preload(sorted({__name__, *modules}))


def default_setup() -> None:
    """A worker's logging when the app hands none: the console's stderr and file sinks."""
    configure_logging(get_settings())


# --- inside the worker --------------------------------------------------------------------


def _die_with_parent() -> None:
    """SIGKILL this worker when its parent (the fork server) dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the daemon flag and terminate() remain
        return
    if os.getppid() == 1:  # the parent died before the line above
        os._exit(1)


def _adopt(environment: dict[str, str], cwd: str) -> None:
    """Take the dispatching process's ``BDC_*`` settings and folder (not the fork server's)."""
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        del os.environ[name]
    os.environ.update(environment)
    os.chdir(cwd)
    get_settings.cache_clear()


def _forget_engines() -> None:
    """Drop database engines inherited through the fork without touching their connections."""
    if engine_for.cache_info().currsize == 0:
        return  # the usual case: the fork server only imported modules
    for thing in gc.get_objects():
        if isinstance(thing, sa.engine.Engine):
            thing.dispose(close=False)
    engine_for.cache_clear()


def _close_engine() -> None:
    """Close the worker's own connections properly before it exits."""
    if engine_for.cache_info().currsize:
        engine_for(get_settings().db_url).dispose()


def _raise_terminated(_signum: int, _frame: Any) -> None:
    raise Terminated("运行超时或调度器停止，工作进程被要求退出")


def _outcome_of(func: JobFunction, slot: datetime) -> tuple[str, str]:
    try:
        summary = func(slot)
    except Terminated:
        return "terminated", ""
    except JobFailed as failed:
        return "failed", str(failed)
    except BaseException:  # the whole failure goes to the scheduler, which records it
        return "failed", traceback.format_exc()
    return "ok", "" if summary is None else str(summary)


def _worker(
    func: JobFunction,
    slot: datetime,
    environment: dict[str, str],
    cwd: str,
    channel: multiprocessing.connection.Connection,
    setup: WorkerSetup | None,
    tag: str,
) -> None:
    """A worker's life: detach from what the fork server had, run the job, report, exit."""
    _die_with_parent()
    signal.signal(signal.SIGTERM, _raise_terminated)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the scheduler's to handle
    _adopt(environment, cwd)
    _forget_engines()
    try:
        (setup or default_setup)()
        with request_context(tag or None):
            kind, text = _outcome_of(func, slot)
        with contextlib.suppress(OSError):  # the scheduler stopped listening: it decided
            channel.send((kind, text[-_MESSAGE_LIMIT:]))
    finally:
        _close_engine()
        logger.remove()  # flushes the queued file sink before the process exits


# --- in the scheduler ---------------------------------------------------------------------


def _environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith(ENV_PREFIX)}


def _stop(process: multiprocessing.process.BaseProcess, grace_seconds: float) -> str:
    """SIGTERM, then SIGKILL after the grace period; say which it took."""
    process.terminate()
    process.join(grace_seconds)
    if process.exitcode is not None:
        return "SIGTERM"
    process.kill()
    process.join(10)
    return "SIGTERM 后 SIGKILL"


def _crash_text(process: multiprocessing.process.BaseProcess) -> str:
    process.join(5)
    code = process.exitcode
    if code is not None and code < 0:
        return f"工作进程被信号 {signal.Signals(-code).name} 终止"
    return f"工作进程异常退出（退出码 {code}）"


def _wait(
    process: multiprocessing.process.BaseProcess,
    receiver: multiprocessing.connection.Connection,
    deadline: float,
    cancel: threading.Event | None,
) -> tuple[str, str]:
    """The worker's message, or ``timeout`` / ``cancel`` / ``crash``."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout", ""
        if cancel is not None and cancel.is_set():
            return "cancel", ""
        waiting = min(remaining, _POLL_SECONDS)
        ready = multiprocessing.connection.wait([receiver, process.sentinel], timeout=waiting)
        if receiver in ready or (ready and receiver.poll()):
            try:
                return receiver.recv()
            except (EOFError, OSError):
                return "crash", _crash_text(process)
        if ready:
            return "crash", _crash_text(process)


def _result(
    job: Job,
    verdict: tuple[str, str],
    process: multiprocessing.process.BaseProcess,
    grace: float,
    stopping: bool,
) -> RunResult:
    kind, text = verdict
    if kind == "timeout":
        how = _stop(process, grace)
        limit = describe_seconds(job.deadline_seconds)
        return RunResult(RunOutcome.TIMED_OUT, f"超过运行时限（{limit}），已强制终止（{how}）")
    if kind == "cancel":
        how = _stop(process, grace)
        return RunResult(RunOutcome.INTERRUPTED, f"调度器停止或不再是主节点，运行被中断（{how}）")
    process.join(grace)
    if process.exitcode is None:  # reported, then got stuck on its way out
        _stop(process, grace)
    if kind == "ok":
        return RunResult(RunOutcome.SUCCEEDED, summary=text)
    if kind == "terminated" or (kind == "crash" and stopping):
        # Signalled by someone else: the console stopping (SIGTERM to its process group).
        return RunResult(RunOutcome.INTERRUPTED, f"工作进程被终止（控制台正在停止？）{text}")
    return RunResult(RunOutcome.FAILED, text or "执行失败")


def _tell(on_start: Callable[[int], None] | None, pid: int | None) -> None:
    if on_start is None or pid is None:
        return
    try:
        on_start(pid)
    except Exception:  # bookkeeping only: the run goes on
        logger.opt(exception=True).warning("工作进程号未能记录")


def execute(
    job: Job,
    slot: datetime,
    *,
    grace_seconds: float,
    setup: WorkerSetup | None = None,
    cancel: threading.Event | None = None,
    on_start: Callable[[int], None] | None = None,
    tag: str = "",
) -> RunResult:
    """Run ``job`` for ``slot`` in a new worker and wait for it, at most its deadline.

    Args:
        job: what to run.
        slot: the moment the run is for (handed to the job as ``now``).
        grace_seconds: between SIGTERM and SIGKILL when the worker must go.
        setup: called first inside the worker (the app's logging and sinks).
        cancel: set it to stop the worker early (the run is then interrupted).
        on_start: told the worker's process id once it runs.
        tag: request id for the worker's log lines.
    """
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _WorkerProcess(
        target=_worker,
        args=(job.func, slot, _environment(), os.getcwd(), sender, setup, tag),
        name=f"job {job.name}",
        daemon=True,
    )
    try:
        process.start()
    except Exception as exc:  # no worker, no run: say why
        return RunResult(RunOutcome.FAILED, f"工作进程未能启动：{type(exc).__name__}: {exc}")
    finally:
        sender.close()
    started = time.monotonic()  # the deadline counts from a running worker (not the server's start)
    try:
        _tell(on_start, process.pid)
        verdict = _wait(process, receiver, started + job.deadline_seconds, cancel)
        stopping = cancel is not None and cancel.is_set()
        result = _result(job, verdict, process, grace_seconds, stopping)
    finally:
        receiver.close()
    elapsed = int((time.monotonic() - started) * 1000)
    return RunResult(result.outcome, result.error, result.summary, elapsed, process.pid)
