"""State of the 对外访问白名单 card on 系统设置 (the system administrator's list)."""

from __future__ import annotations

import reflex as rx

from console.authz.service import can
from console.core.errors import ValidationFailed
from console.iam import outbound_service
from console.ui.effects_state import toast
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin


class OutboundState(PagedListMixin, FormMixin, rx.State):
    """The kept list, the fixed baseline and whether this user may edit."""

    visible: bool = False
    can_write: bool = False
    baseline: str = ""
    entries: str = ""
    updated: str = ""
    entries_error: str = ""

    @rx.event(background=True)
    async def load(self):
        """Fetch the list (nothing shows for those who may not read it)."""

        def prepare():  # inside the state lock: read what the fetch needs
            def fetch(session, actor):
                if not can(actor, outbound_service.OBJ, "read"):
                    return (None, False)  # a value, not None: None would read as a failure
                allow = outbound_service.read_outbound(session=session, actor=actor)
                return allow, can(actor, outbound_service.OBJ, "write")

            self.visible = False  # until the fetch says this user may see it
            return fetch

        def show(value):  # inside the state lock: what the page shows
            allow, self.can_write = value
            self.visible = allow is not None
            self.baseline, self.entries, self.updated = (
                (allow.baseline, allow.entries, allow.updated) if allow else ("", "", "")
            )
            self.entries_error = ""

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event
    def check(self, value: str) -> None:
        """Live check as the list is typed."""
        try:
            outbound_service.check_entries(value)
        except ValidationFailed as bad:
            self.entries_error = bad.message
            return
        self.entries_error = ""

    @rx.event(background=True)
    async def save(self, form: dict[str, str]):
        """Replace the list."""
        entries = form.get("entries", "")
        outcome = await self._call(
            lambda s, a: outbound_service.update_outbound(session=s, actor=a, entries=entries)
        )
        async with self:
            if not outcome.ok:
                self.entries_error = outcome.error_text
                return
            self.entries_error = ""
        yield toast.success("对外访问白名单已保存，自下一次调用起生效")
        yield OutboundState.load
