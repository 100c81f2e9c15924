"""Server-side paging and search shared by every list page's state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from console.core.actor import Actor
from console.ui.actions import Outcome, call
from console.ui.effects_state import toast
from console.ui.session import session_port, session_token


class PagedListMixin(rx.State, mixin=True):
    """Paging, keyword search and loading flags; the concrete state defines ``load``."""

    page: int = 1
    pages: int = 1
    total: int = 0
    keyword: str = ""
    loading: bool = False
    error: str = ""
    _load_seq: int = 0

    # A delete asked for in the row and confirmed in the dialog (see ``_delete_one``).
    delete_open: bool = False
    delete_key: str = ""
    delete_name: str = ""

    async def _token(self) -> str:
        return await session_token(self)

    async def _may_load(self) -> bool:
        """False on a page the guard refused or before login: nothing to fetch then."""
        session_state = await self.get_state(session_port().state)
        return session_state.authenticated and not session_state.page_denied

    def _next_load(self) -> int:
        """Number this fetch (inside ``async with self``) so an older one cannot win."""
        self._load_seq += 1
        return self._load_seq

    def _stale(self, seq: int) -> bool:
        """True when a newer fetch started meanwhile: its result, not this one, is shown."""
        return seq != self._load_seq

    def _relogin(self, outcome: Outcome) -> rx.event.EventSpec:
        """Back to login (with the reason) when the session ended during a call."""
        login_url = session_port().login_url
        return rx.redirect(login_url(self.router.url.path, reason=outcome.relogin))

    def _failed(self, outcome: Outcome) -> bool:
        """After a fetch (inside ``async with self``): stop loading; on error clear and say why."""
        self.loading = False
        if outcome.ok and outcome.value is not None:
            return False
        self.error, self.total = outcome.error, 0
        if hasattr(self, "rows"):
            self.rows = []
        return True

    async def _load_page(
        self,
        prepare: Callable[[], Callable[[Session, Actor], object]],
        show: Callable[[Any], rx.event.EventSpec | None],
    ):
        """Every page's load: guard, fetch off the event loop, show — newest fetch wins.

        ``prepare`` runs inside the state lock and returns the fetch; ``show`` runs inside the
        lock with the fetched value and may return an event to fire afterwards.
        """
        async with self:
            if not await self._may_load():
                return
            self.loading, self.error = True, ""
            seq = self._next_load()
            token, fetch = await self._token(), prepare()
        outcome = await call(token, fetch)
        if outcome.relogin:
            yield self._relogin(outcome)
            return
        async with self:
            if self._stale(seq) or self._failed(outcome):
                return
            follow_up = show(outcome.value)
        if follow_up is not None:
            yield follow_up

    async def _act(self, operation: Callable[[Session, Actor], object], success: str):
        """Run a write for the page: toast the outcome and reload the list when it worked."""
        async with self:
            token = await self._token()
        outcome = await call(token, operation)
        if not outcome.ok:
            yield toast.error(outcome.error or outcome.relogin)
            return
        yield toast.success(success)
        yield self._reload()

    def _delete_one(self, session: Session, actor: Actor, key: str) -> None:
        """Delete the row ``key`` through its service (each list page says how)."""
        raise NotImplementedError

    def _deleted_text(self) -> str:
        return "已删除"

    @rx.event
    def ask_delete(self, key: str, name: str) -> None:
        """Confirm before deleting."""
        self.delete_open, self.delete_key, self.delete_name = True, str(key), name

    @rx.event
    def set_delete_open(self, value: bool) -> None:
        """Close the confirmation."""
        self.delete_open = value

    @rx.event(background=True)
    async def delete(self):
        """Delete the confirmed row (the service decides whether it may go)."""
        async with self:
            key, self.delete_open = self.delete_key, False
        async for event in self._act(
            lambda session, actor: self._delete_one(session, actor, key), self._deleted_text()
        ):
            yield event

    def _reload(self):
        # In a background event ``self`` is Reflex's StateProxy: reload through the real class.
        return type(getattr(self, "__wrapped__", self)).load  # type: ignore[attr-defined]

    @rx.event
    def search(self, form: dict[str, str]):
        """Apply the search box (Enter or the button) from page 1."""
        self.keyword = form.get("keyword", "").strip()
        self.page = 1
        return self._reload()

    @rx.event
    def previous_page(self):
        """Go back one page."""
        self.page = max(1, self.page - 1)
        return self._reload()

    @rx.event
    def next_page(self):
        """Go forward one page."""
        self.page = min(self.pages, self.page + 1)
        return self._reload()
