"""Prometheus metrics in multiprocess mode: every process of one host writes, one scrape sums.

The console runs as several processes on a host (the Reflex backend's workers, the scheduler,
its job workers), and a scrape reaches only one of them. prometheus_client's multiprocess mode
has each process write its values to memory-mapped files in one folder,
``PROMETHEUS_MULTIPROC_DIR``; a scrape merges them all. That folder is ``<data_dir>/.metrics``
(0700), one per host: each node is scraped directly, never through the load balancer.

The variable must be set before prometheus_client makes its first value, so metrics here are
built on first use, after ``setup``: ``serve`` calls it with ``fresh=True`` before the backend
starts (its processes inherit the variable); any other process that records something sets
it up then, keeping an inherited folder (a child of the server) or taking its data folder's.

Labels are small and bounded (route templates, streams, tenant codes, job names), never case
numbers, ids or raw paths.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

from loguru import logger

from console.core.settings import get_settings

if TYPE_CHECKING:  # imported for real only after the folder is set up
    from prometheus_client import Counter, Histogram
    from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
FOLDER = ".metrics"
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
INGEST_OUTCOMES = ("accepted", "rejected", "duplicate")
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
JOB_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200)
_FILE_PID = re.compile(r"_(\d+)\.db$")  # counter_1234.db, gauge_livesum_1234.db
COMPLAIN_EVERY_SECONDS = 300.0
_P = ParamSpec("_P")
_lock = threading.Lock()
_build_lock = threading.Lock()
_folder: list[Path] = []  # this process's folder, once chosen (it never changes afterwards)
_built: list[_Metrics] = []
_complained = [0.0]


def folder_for(data_dir: Path) -> Path:
    """The multiprocess folder of a data folder."""
    return data_dir / FOLDER


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def clear_stale(folder: Path) -> int:
    """Delete the value files of processes that are gone; how many went.

    Files of running processes stay: a scheduler started on its own keeps its counts when the
    backend restarts.
    """
    removed = 0
    for path in folder.glob("*.db"):
        found = _FILE_PID.search(path.name)
        if found is None or not _alive(int(found.group(1))):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
    return removed


def _use_multiprocess_values() -> None:
    """Make prometheus_client write shared files even if it was imported before the variable."""
    from prometheus_client import values

    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.get_value_class()


def setup(data_dir: Path | None = None, *, fresh: bool = False) -> Path:
    """Choose this process's folder (0700) and export it to the processes it starts.

    ``fresh`` (a main process starting, before any metric is recorded): ``<data_dir>/.metrics``
    whatever was inherited, cleared of the files of processes that are gone. Otherwise the
    first call decides: the inherited folder, else the data folder's; later calls return it.
    """
    with _lock:
        if _folder and not fresh:
            return _folder[0]
        if fresh and _built:
            raise RuntimeError("metrics.setup(fresh=True) after metrics were recorded")
        inherited = os.environ.get(MULTIPROC_ENV, "")
        if inherited and not fresh:
            folder = Path(inherited)
        else:
            folder = folder_for(data_dir or get_settings().resolved_data_dir)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
        if fresh:
            clear_stale(folder)
        os.environ[MULTIPROC_ENV] = str(folder)
        _use_multiprocess_values()
        _folder[:] = [folder]
        return folder


def directory() -> Path:
    """This process's multiprocess folder (set up on first call)."""
    return setup()


@dataclass(frozen=True)
class _Metrics:
    """The console's metric objects (multiprocess-backed)."""

    ingest_events: Counter
    http_duration: Histogram
    job_runs: Counter
    job_duration: Histogram
    syslog_records: Counter


def _metrics() -> _Metrics:
    """The metrics, built once per process (under a lock: two copies would lose counts)."""
    if not _built:
        with _build_lock:
            if not _built:
                _built.append(_build())
    return _built[0]


def _build() -> _Metrics:
    """Build the metric objects, after the folder is set up."""
    setup()
    from prometheus_client import Counter, Histogram

    # registry=None: in multiprocess mode the scrape reads the files, not a registry.
    return _Metrics(
        ingest_events=Counter(
            "bdc_ingest_events",
            "Log events received over the ingest API, by outcome (sender's tenant).",
            ["stream", "tenant", "outcome"],
            registry=None,
        ),
        http_duration=Histogram(
            "bdc_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["route", "method", "status_class"],
            buckets=HTTP_BUCKETS,
            registry=None,
        ),
        job_runs=Counter(
            "bdc_job_runs",
            "Finished system job runs, by outcome.",
            ["job", "outcome"],
            registry=None,
        ),
        job_duration=Histogram(
            "bdc_job_duration_seconds",
            "Duration of finished system job runs.",
            ["job"],
            buckets=JOB_BUCKETS,
            registry=None,
        ),
        syslog_records=Counter(
            "bdc_syslog_records",
            "Operation and exception records forwarded to the syslog collector, or dropped.",
            ["outcome"],
            registry=None,
        ),
    )


def _best_effort(record: Callable[_P, None]) -> Callable[_P, None]:
    """A recording that fails (a full disk) is logged now and then, never the caller's error."""

    @functools.wraps(record)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            record(*args, **kwargs)
        except Exception:
            if time.monotonic() - _complained[0] >= COMPLAIN_EVERY_SECONDS:
                _complained[0] = time.monotonic()
                logger.opt(exception=True).warning("监控指标记录失败（业务不受影响）")

    return guarded


@_best_effort
def record_ingest(
    *, stream: str, tenant: str, accepted: int, rejected: int, duplicate: int
) -> None:
    """Count one batch's events: accepted, rejected and duplicate."""
    counter = _metrics().ingest_events
    for outcome, amount in zip(INGEST_OUTCOMES, (accepted, rejected, duplicate), strict=True):
        counter.labels(stream, tenant or "*", outcome).inc(max(amount, 0))


@_best_effort
def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    """Time one HTTP request; an unknown method is ``other`` (the label stays bounded)."""
    method = method.upper() if method.upper() in HTTP_METHODS else "other"
    status_class = f"{status // 100}xx" if 100 <= status < 600 else "other"
    histogram = _metrics().http_duration
    histogram.labels(route, method, status_class).observe(max(seconds, 0.0))


@_best_effort
def record_job_run(*, job: str, outcome: str, seconds: float) -> None:
    """Count one finished job run and its duration."""
    metrics = _metrics()
    metrics.job_runs.labels(job, outcome).inc()
    metrics.job_duration.labels(job).observe(max(seconds, 0.0))


@_best_effort
def record_syslog(*, outcome: str, count: int) -> None:
    """Count records sent to the syslog collector, or dropped from its full queue."""
    if count > 0:
        _metrics().syslog_records.labels(outcome).inc(count)


@_best_effort
def mark_process_dead(pid: int) -> None:
    """Forget the live gauges of a process that exited (a job worker); its counts stay."""
    folder = directory()
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(folder))


def exposition(collectors: Iterable[Collector] = ()) -> bytes:
    """Every process's values summed, plus ``collectors`` (computed now), as Prometheus text."""
    folder = directory()
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(folder))
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)
