"""One leader among the processes sharing a configuration database: only it runs jobs.

PostgreSQL: a session-level ``pg_try_advisory_lock`` held on a connection of its own. The
lock goes when the session does — at once when the leader's process dies, and within about
half a minute when its machine or network does (TCP keepalives on both ends).
SQLite: an exclusive ``flock`` on ``scheduler.lock`` in the data folder, which the kernel
releases when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

# A fixed 64-bit key for pg_try_advisory_lock: "BDC jobs" in ASCII.
ADVISORY_KEY = int.from_bytes(b"BDC jobs", "big") & 0x7FFF_FFFF_FFFF_FFFF
LOCK_FILE = "scheduler.lock"
# Client side: notice a dead server. Server side (SET below): notice a dead leader.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
               "keepalives_count": 3, "connect_timeout": 10}  # fmt: skip
_SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)


class Leadership(Protocol):
    """Try to become the leader, check it is still held, give it up."""

    def acquire(self) -> bool:
        """True when this process is (now) the leader."""
        ...

    def held(self) -> bool:
        """True while the leadership is still this process's."""
        ...

    def release(self) -> None:
        """Give the leadership up (safe to call when not held)."""
        ...


class PostgresLeadership:
    """The advisory lock, on a dedicated connection outside any pool."""

    def __init__(self, url: str) -> None:
        self._engine = sa.create_engine(url, poolclass=NullPool, connect_args=_KEEPALIVES)
        self._connection: sa.Connection | None = None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it (reconnecting first when needed)."""
        if self._connection is not None:
            return True
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            for statement in _SERVER_KEEPALIVES:
                connection.exec_driver_sql(statement)
            taken = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
            ).scalar()
        except Exception:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def held(self) -> bool:
        """The lock lives as long as its session: ask the session whether it is alive."""
        if self._connection is None:
            return False
        try:
            self._connection.exec_driver_sql("SELECT 1")
        except Exception:
            self.release()
            return False
        return True

    def release(self) -> None:
        """Close the session, which drops the lock."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # a dead session has dropped it already
                connection.close()
        self._engine.dispose()


class FileLeadership:
    """An exclusive, non-blocking ``flock`` on a file in the data folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if no other process holds it; write who holds it into the file."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
        self._fd = fd
        return True

    def held(self) -> bool:
        """A lock on an open file stays until the file is closed."""
        return self._fd is not None

    def release(self) -> None:
        """Unlock and close."""
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def leadership_for(url: str, data_dir: Path) -> Leadership:
    """The election that fits the configuration database."""
    if sa.engine.make_url(url).get_backend_name() == "postgresql":
        return PostgresLeadership(url)
    return FileLeadership(data_dir / LOCK_FILE)
