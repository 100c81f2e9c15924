"""State helpers of a list page: its select filters and its dialogs (open, fill, submit).

The mixins go with ``ui.list_state.PagedListMixin``, which gives them the page number, the
session token (``_token``) and the page's reload (``_reload``). A dialog ``x`` is open while
``x_open`` is true (``ui.widgets.dialog`` reads that var and calls ``set_open``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from console.core.actor import Actor
from console.ui.actions import Outcome, call
from console.ui.effects_state import toast

Operation = Callable[[Session, Actor], Any]
Event = rx.event.EventSpec | rx.event.EventHandler


class FilterMixin(rx.State, mixin=True):
    """The list's select filters: each a ``str`` var named ``<something>_filter``, ``*`` = all."""

    @rx.event
    def set_filter(self, name: str, value: str) -> rx.event.EventHandler:
        """Apply the filter ``name`` from page 1."""
        if name.endswith("_filter") and isinstance(getattr(self, name, None), str):
            setattr(self, name, str(value))
            self.page = 1  # type: ignore[attr-defined]
        return self._reload()  # type: ignore[attr-defined]

    def _chosen(self, name: str) -> str | None:
        """The filter ``name``'s value, or None when it is 全部 (``*``)."""
        value = getattr(self, name)
        return None if value == "*" else value


class FormMixin(rx.State, mixin=True):
    """A page's dialogs and one-off calls: open/close by name, fill, submit, download."""

    @rx.event
    def set_open(self, name: str, value: bool) -> None:
        """Open or close the dialog ``name`` (the state's ``<name>_open``)."""
        flag = f"{name}_open"
        if name.isidentifier() and isinstance(getattr(self, flag, None), bool):
            setattr(self, flag, bool(value))

    async def _call(self, operation: Operation) -> Outcome:
        """Run ``operation`` as the signed-in user, off the event loop (background events)."""
        async with self:
            token = await self._token()  # type: ignore[attr-defined]
        return await call(token, operation)

    async def _open_with(
        self, operation: Operation, show: Callable[[Any], Event | None]
    ) -> AsyncIterator[Event]:
        """Fetch what a dialog shows: a refusal is a toast, else ``show`` runs inside the lock.

        ``show`` may return an event to fire afterwards (a reload, say).
        """
        outcome = await self._call(operation)
        if not outcome.ok or outcome.value is None:
            yield toast.error(outcome.error_text)
            return
        async with self:
            follow_up = show(outcome.value)
        if follow_up is not None:
            yield follow_up

    async def _deliver(
        self,
        operation: Operation,
        deliver: Callable[[Any], list[Event]],
        *,
        busy: str | None = None,
    ) -> AsyncIterator[Event]:
        """Fetch something for the browser (an export): ``deliver`` turns it into events.

        The state var named ``busy`` is true while the call runs (its button spins).
        """
        if busy is not None:
            async with self:
                setattr(self, busy, True)
        outcome = await self._call(operation)
        if busy is not None:
            async with self:
                setattr(self, busy, False)
        if not outcome.ok or outcome.value is None:
            yield toast.error(outcome.error or outcome.relogin)
            return
        for event in deliver(outcome.value):
            yield event

    async def _download_csv(
        self, operation: Operation, *, filename: str, done: str, busy: str | None = None
    ) -> AsyncIterator[Event]:
        """Export a CSV: ``operation`` gives ``(text, rows)``; ``done`` says so (``{count}``)."""

        def deliver(value: tuple[str, int]) -> list[Event]:
            text, count = value
            return [
                rx.download(data=text, filename=filename),
                toast.success(done.format(count=count)),
            ]

        async for event in self._deliver(operation, deliver, busy=busy):
            yield event

    async def _submit(
        self,
        operation: Operation,
        *,
        dialog: str,
        error: str | None,
        success: str = "",
        done: Callable[[Any], None] | None = None,
    ) -> AsyncIterator[Event]:
        """Write from the dialog ``dialog``, then close it, run ``done``, toast and reload.

        A refusal goes to the state var named ``error`` (the form says why and stays open),
        or, without one, to a toast.
        """
        outcome = await self._call(operation)
        if not outcome.ok and error is None:
            yield toast.error(outcome.error or outcome.relogin)
            return
        async with self:
            if not outcome.ok:
                setattr(self, error, outcome.error_text)  # type: ignore[arg-type]
                return
            setattr(self, f"{dialog}_open", False)
            if done is not None:
                done(outcome.value)
        if success:
            yield toast.success(success)
        yield self._reload()  # type: ignore[attr-defined]
