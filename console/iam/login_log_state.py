"""State of the 登录日志 page."""

from __future__ import annotations

import dataclasses

import reflex as rx

from console.core.paging import PageRequest
from console.iam import login_log_service as log_service
from console.ui.actions import call
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 50
OUTCOME_FILTERS = [("*", "全部结果"), *log_service.OUTCOME_LABELS.items()]


@dataclasses.dataclass(frozen=True)
class LoginView:
    """One row."""

    id: int
    time: str
    account: str
    outcome: str
    outcome_label: str
    reason: str
    client_ip: str
    user_agent: str


class LoginLogState(PagedListMixin, rx.State):
    """登录日志: filter by account and outcome, newest first."""

    rows: list[LoginView] = []
    outcome_filter: str = "*"

    @rx.event(background=True)
    async def load(self):
        """Fetch the current page."""
        async with self:
            if not await self._may_load():
                return
            self.loading, self.error = True, ""
            seq = self._next_load()
            token, page = await self._token(), self.page
            query = log_service.LoginQuery(
                account=self.keyword,
                outcome=None if self.outcome_filter == "*" else self.outcome_filter,
            )
        outcome = await call(
            token,
            lambda s, a: log_service.list_login_events(
                session=s, actor=a, query=query, page=PageRequest(page, PAGE_SIZE)
            ),
        )
        if outcome.relogin:
            yield self._relogin(outcome)
            return
        async with self:
            if self._stale(seq) or self._failed(outcome):
                return
            listing = outcome.value
            self.rows = [LoginView(**dataclasses.asdict(row)) for row in listing.items]
            self.total, self.pages = listing.total, listing.pages

    @rx.event
    def set_outcome_filter(self, value: str):
        """Filter by outcome."""
        self.outcome_filter, self.page = value, 1
        return LoginLogState.load
