"""The signed-in session as the shared shell sees it: an interface the IAM domain provides.

The UI kit sits below every domain, so it cannot import IAM. IAM hands it a ``SessionPort``
when its session state is defined (``console.iam.state``); the shell, the list states and
``ui.actions`` reach the session only through ``session_port()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from console.core.actor import Actor


@dataclass(frozen=True)
class SessionPort:
    """What the shell needs of the session, and who answers it.

    ``state`` is the Reflex state class holding the session as the browser sees it. Its
    ``token`` property reads the HttpOnly session cookie from the websocket handshake (never
    a var, so never in the browser); it has the vars ``authenticated``, ``user_label``,
    ``account``, ``tenant_label``, ``allowed_sections``, ``page_denied``, ``tenant_options``
    (items with ``code`` and ``name``), ``context_tenant`` and ``check_failed`` (why the
    session check did not answer in time), and the events ``guard`` (the check),
    ``logout`` and ``switch_tenant``.
    ``resolve`` turns a session token into its actor or raises ``AuthenticationFailed``;
    ``token_from_cookie`` reads the token from an HTTP ``Cookie`` header.
    """

    state: Any
    resolve: Callable[[Session, str], Actor]
    login_url: Callable[..., str]
    account_route: str
    change_password_route: str
    token_from_cookie: Callable[[str], str]


_provided: list[SessionPort] = []


def provide_session(port: SessionPort) -> None:
    """Install the session interface (IAM calls this once its state class exists)."""
    _provided[:] = [port]


def session_port() -> SessionPort:
    """The installed session interface.

    Raises:
        RuntimeError: nothing provided one (the app imports ``console.iam.state`` first).
    """
    if not _provided:
        raise RuntimeError("no session provider installed: import console.iam.state first")
    return _provided[0]


async def session_token(state: Any) -> str:
    """The browser's session token, read from inside a Reflex event of ``state``."""
    return (await state.get_state(session_port().state)).token
