"""State of the 登录日志 page: the paged events, filtered by account and outcome."""

from __future__ import annotations

import dataclasses

import reflex as rx

from console.core.paging import PageRequest
from console.iam import login_log_service as log_service
from console.ui.form_state import FilterMixin
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 50


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


class LoginLogState(PagedListMixin, FilterMixin, rx.State):
    """登录日志: filter by account and outcome, newest first."""

    rows: list[LoginView] = []
    outcome_filter: str = "*"

    @rx.event(background=True)
    async def load(self):
        """Fetch the current page."""

        def prepare():  # inside the state lock: read what the fetch needs
            page = self.page
            query = log_service.LoginQuery(
                account=self.keyword,
                outcome=self._chosen("outcome_filter"),
            )
            return lambda s, a: log_service.list_login_events(
                session=s, actor=a, query=query, page=PageRequest(page, PAGE_SIZE)
            )

        def show(value):  # inside the state lock: what the page shows
            listing = value
            self.rows = [LoginView(**dataclasses.asdict(row)) for row in listing.items]
            self.total, self.pages = listing.total, listing.pages

        async for event in self._load_page(prepare, show):
            yield event
