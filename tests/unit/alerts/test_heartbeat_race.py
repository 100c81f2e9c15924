"""The heartbeat row is made by whichever job beats first, on both database backends."""

from __future__ import annotations

import threading

from console.alerts.engine import heartbeat_row
from console.alerts.models import Heartbeat
from console.core.db import session_scope


def test_two_jobs_beating_at_once_on_a_fresh_database_both_succeed(seeded_db: str) -> None:
    """Evaluation and the heartbeat job start together: neither fails on the missing row."""
    first_inserted = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with session_scope() as session:
                heartbeat_row(session).evaluation_ms = 7
                first_inserted.set()
                threading.Event().wait(0.5)  # hold the uncommitted insert a while
        except BaseException as error:
            errors.append(error)
            first_inserted.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_inserted.wait(10)
    with session_scope() as session:
        heartbeat_row(session).push_error = "second"
    thread.join(10)
    assert errors == []
    with session_scope() as session:
        beat = session.get_one(Heartbeat, 1)
        assert (beat.evaluation_ms, beat.push_error) == (7, "second")
