"""Server-side paging and search shared by every list page's state."""

from __future__ import annotations

import reflex as rx

from console.iam.state import SessionState, login_url
from console.ui.actions import Outcome


class PagedListMixin(rx.State, mixin=True):
    """Paging, keyword search and loading flags; the concrete state defines ``load``."""

    page: int = 1
    pages: int = 1
    total: int = 0
    keyword: str = ""
    loading: bool = False
    error: str = ""
    _load_seq: int = 0

    async def _token(self) -> str:
        return (await self.get_state(SessionState)).token

    async def _may_load(self) -> bool:
        """False on a page the guard refused or before login: nothing to fetch then."""
        session_state = await self.get_state(SessionState)
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

    def _reload(self):
        return type(self).load  # type: ignore[attr-defined]

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
