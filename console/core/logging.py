"""Loguru set up once: stderr plus a rotating file, a request id on every line.

Core knows no domain: sinks that store errors elsewhere (the log lake's ``exception``
stream) are handed in by the app at start-up.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from loguru import logger

from console.core.settings import Settings

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

LINE_FORMAT = (
    "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <7} | {extra[request_id]} | "
    "{name}:{function}:{line} - {message}"
)


def new_request_id() -> str:
    """Short random id tying together the lines of one request or UI event."""
    return uuid.uuid4().hex[:16]


@contextmanager
def request_context(request_id: str | None = None) -> Iterator[str]:
    """Bind a request id to every log line written inside the block."""
    rid = request_id or new_request_id()
    token = request_id_var.set(rid)
    try:
        yield rid
    finally:
        request_id_var.reset(token)


def _patch_record(record: dict) -> None:
    record["extra"].setdefault("request_id", request_id_var.get())


class _InterceptHandler(logging.Handler):
    """Send stdlib logging (alembic, uvicorn, sqlalchemy) through loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def configure_logging(
    settings: Settings, *, error_sinks: Sequence[Callable[[Any], None]] = ()
) -> None:
    """Replace loguru's default sink with the console's own (idempotent).

    Args:
        settings: where the log file goes and from which level lines are written.
        error_sinks: loguru sinks that also receive every ERROR (or worse) record.
    """
    logger.remove()
    logger.configure(patcher=_patch_record)
    # diagnose=False everywhere: a traceback must not print local variables (session tokens,
    # passwords, tickets) into a log file.
    logger.add(sys.stderr, level=settings.log_level, format=LINE_FORMAT, diagnose=False)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    logger.add(
        settings.log_dir / "console.log",
        level=settings.log_level,
        format=LINE_FORMAT,
        rotation="20 MB",
        retention=f"{settings.log_file_retention_days} days",
        encoding="utf-8",
        enqueue=True,
        diagnose=False,
    )
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.WARNING, force=True)
    for sink in error_sinks:
        logger.add(sink, level="ERROR", format="{message}", diagnose=False)
