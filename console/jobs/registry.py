"""The job registry: each domain declares its scheduled work with ``@scheduled(...)``.

A job is a module-level function ``run(now) -> str | None`` (``now`` is the slot it runs for;
the text it returns is kept with the run as its summary). It runs in a worker process of its
own, so it must be importable by name — never a closure or a lambda.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from apscheduler.triggers.base import BaseTrigger

from console.jobs.timing import describe

JobFunction = Callable[[datetime], "str | None"]


class JobFailed(Exception):
    """A job's own verdict that it failed: recorded with this message and no traceback."""


@dataclass(frozen=True)
class Job:
    """One scheduled job: what runs, when, for how long at most, and whether a re-run is safe.

    ``idempotent``: running it twice does no harm, so a run a dead leader left unfinished is
    repeated at once; otherwise the job waits for its next slot.
    """

    name: str
    label: str
    trigger: BaseTrigger
    deadline_seconds: float
    idempotent: bool
    func: JobFunction

    @property
    def schedule(self) -> str:
        """The schedule in words (Chinese)."""
        return describe(self.trigger)

    @property
    def module(self) -> str:
        """Where the function lives (imported ahead in the worker processes)."""
        return self.func.__module__


class Registry:
    """Jobs by name, in the order they were declared."""

    def __init__(self, jobs: Iterable[Job] = ()) -> None:
        self._jobs: dict[str, Job] = {}
        for job in jobs:
            self.add(job)

    def add(self, job: Job) -> Job:
        """Register a job; a second job with the same name is a programming error."""
        if job.name in self._jobs and self._jobs[job.name] != job:
            raise ValueError(f"job {job.name!r} is registered twice")
        self._jobs[job.name] = job
        return job

    def scheduled(
        self,
        *,
        name: str,
        label: str,
        trigger: BaseTrigger,
        deadline_seconds: float,
        idempotent: bool,
    ) -> Callable[[JobFunction], JobFunction]:
        """Decorator: register the function as a job; the function itself is returned as is."""

        def register(func: JobFunction) -> JobFunction:
            self.add(Job(name, label, trigger, deadline_seconds, idempotent, func))
            return func

        return register

    def get(self, name: str) -> Job | None:
        """The job called ``name``, if registered."""
        return self._jobs.get(name)

    def subset(self, names: Iterable[str]) -> Registry:
        """A registry of some of these jobs (tests, or a scheduler limited to a few)."""
        return Registry(self._jobs[name] for name in names)

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)

    def __contains__(self, name: object) -> bool:
        return name in self._jobs


REGISTRY = Registry()  # the console's jobs; the domains' scheduled.py modules fill it
scheduled = REGISTRY.scheduled
