"""State of 日志保全 → 拒收记录: refused pushed lines, newest first, masked."""

from __future__ import annotations

import reflex as rx

from console.core.paging import PageRequest
from console.logs import quarantine_service
from console.ui.form_state import FilterMixin
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 20


class QuarantineState(PagedListMixin, FilterMixin, rx.State):
    """拒收记录: filter by stream and key (the search box takes a key id)."""

    rows: list[quarantine_service.QuarantineRow] = []
    stream_filter: str = "*"

    @rx.event(background=True)
    async def load(self):
        """Fetch the current page."""

        def prepare():  # inside the state lock: read what the fetch needs
            query = quarantine_service.QuarantineQuery(
                stream=self._chosen("stream_filter"), key_id=self.keyword
            )
            page = PageRequest(self.page, PAGE_SIZE)
            return lambda s, a: quarantine_service.list_rejected_lines(
                session=s, actor=a, query=query, page=page
            )

        def show(value):  # inside the state lock: what the page shows
            self.rows = list(value.items)  # already masked by the service
            self.total, self.pages = value.total, value.pages

        async for event in self._load_page(prepare, show):
            yield event
