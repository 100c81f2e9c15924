"""Bridge from Reflex states to services: resolve the actor, run the call off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlmodel import Session

from console.core.actor import Actor
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, UserError
from console.core.logging import request_context
from console.ui.session import session_port

T = TypeVar("T")
PASSWORD_CHANGE_REQUIRED = "请先修改密码后再使用系统"
SECOND_FACTOR_REQUIRED = "请先绑定动态验证码后再使用系统"


def run_as(token: str, operation: Callable[[Session, Actor], T]) -> T:
    """Resolve the session, then run ``operation`` in its own transaction.

    Resolution commits first: a denial is logged in a separate transaction, and SQLite
    would make it wait on a session that already wrote ``last_seen``.

    Raises:
        AuthenticationFailed: the session is gone, idle too long, or the account is blocked.
        UserError: whatever the service refuses, with its Chinese message.
    """
    with request_context():
        with session_scope() as session:
            actor = session_port().resolve(session, token)
        if actor.must_change_password:
            # The redirect to 修改密码 is only the browser's side; the server refuses too.
            raise AuthenticationFailed(PASSWORD_CHANGE_REQUIRED)
        if actor.must_enrol_second_factor:
            raise AuthenticationFailed(SECOND_FACTOR_REQUIRED)
        with session_scope() as session:
            return operation(session, actor)


@dataclass
class Outcome(Generic[T]):
    """Result of a service call as a page needs it: a value, a Chinese error, or re-login."""

    value: T | None = None
    error: str = ""
    field: str = ""
    relogin: str = ""

    @property
    def ok(self) -> bool:
        """True when the call succeeded."""
        return not (self.error or self.relogin)

    @property
    def error_text(self) -> str:
        """The failure as one line for a form: "字段：原因", or the re-login reason."""
        if self.relogin:
            return self.relogin
        return f"{self.field}：{self.error}" if self.field else self.error


async def call(token: str, operation: Callable[[Session, Actor], T]) -> Outcome[T]:
    """``run_as`` in a worker thread, so the page never freezes while the DB works."""
    try:
        return Outcome(value=await asyncio.to_thread(run_as, token, operation))
    except AuthenticationFailed as refused:
        return Outcome(relogin=refused.message)
    except UserError as refused:
        return Outcome(error=refused.message, field=refused.field or "")
