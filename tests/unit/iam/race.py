"""Run in separate processes by the tests: one sign-in's second step, started together."""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier


def second_step(user_id: int, code: str, start: Barrier, answers: Queue) -> None:
    """Wait for the other process, then present ``code``; report what the person would read."""
    from console.core.db import session_scope
    from console.core.errors import AuthenticationFailed
    from console.iam import service

    start.wait(timeout=60)
    try:
        with session_scope() as session:
            service.complete_second_factor(session=session, user_id=user_id, code=code)
        answers.put("signed in")
    except AuthenticationFailed as refused:
        answers.put(refused.message)
