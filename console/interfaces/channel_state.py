"""State of the 机构通道 page: channels, their state machine with reasons, and history."""

from __future__ import annotations

import dataclasses

import reflex as rx

from console.authz.service import can
from console.core.paging import PageRequest
from console.interfaces import channel_service
from console.interfaces.models import CHANNEL_STATES
from console.ui.choice import Choice
from console.ui.form_state import FilterMixin, FormMixin
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 20


@dataclasses.dataclass(frozen=True)
class ChannelView:
    """One channel row."""

    id: int
    tenant: str  # 名称（代码）
    name: str
    kind: str
    state: str
    state_label: str
    business_codes: str
    limits: str
    counters: str
    decision: str


@dataclasses.dataclass(frozen=True)
class EventView:
    """One line of a channel's history."""

    time: str
    kind: str
    change: str
    reason: str
    rectification: str
    actor: str


def _codes(text: str) -> tuple[str, ...]:
    return tuple(code for code in text.replace("，", ",").replace(" ", ",").split(",") if code)


class ChannelsState(PagedListMixin, FilterMixin, FormMixin, rx.State):
    """机构通道."""

    rows: list[ChannelView] = []
    state_filter: str = "*"
    can_write: bool = False
    can_approve: bool = False

    create_open: bool = False
    create_error: str = ""
    org_options: list[Choice] = []

    state_open: bool = False
    state_channel_id: int = 0
    state_channel_name: str = ""
    state_from: str = ""
    state_targets: list[Choice] = []
    state_to: str = ""
    state_error: str = ""

    history_open: bool = False
    history_name: str = ""
    history: list[EventView] = []

    @rx.event(background=True)
    async def load(self):
        """Fetch the current page."""

        def prepare():  # inside the state lock: read what the fetch needs
            keyword, page, state = self.keyword, self.page, self._chosen("state_filter")

            def fetch(session, actor):
                listing = channel_service.list_channels(
                    session=session,
                    actor=actor,
                    search=keyword,
                    state=state,
                    page=PageRequest(page, PAGE_SIZE),
                )
                rights = {a: can(actor, channel_service.OBJ, a) for a in ("write", "approve")}
                return listing, rights

            return fetch

        def show(value):  # inside the state lock: what the page shows
            listing, rights = value
            self.can_write, self.can_approve = rights["write"], rights["approve"]
            self.rows = [
                ChannelView(
                    r.id,
                    r.tenant,
                    r.name,
                    r.kind,
                    r.state,
                    r.state_label,
                    r.businesses or "—",
                    f"{r.rate_limit_per_minute} / 观察期 {r.probation_rate_limit}",
                    f"{r.calls} / {r.refusals}（{r.refusal_rate}）",
                    f"{r.reason} · {r.effective} · {r.decided_by}",
                )
                for r in listing.items
            ]
            self.total, self.pages = listing.total, listing.pages

        async for event in self._load_page(prepare, show):
            yield event

    # --- open a channel -------------------------------------------------------------------

    @rx.event(background=True)
    async def open_create(self):
        """Offer the institutions of the actor's scope that have no channel yet."""

        def show(choices: list[tuple[int, str]]) -> None:
            self.org_options = [Choice(str(i), n) for i, n in choices]
            self.create_error, self.create_open = "", True

        async for event in self._open_with(
            lambda s, a: channel_service.channel_org_choices(session=s, actor=a), show
        ):
            yield event

    @rx.event(background=True)
    async def create(self, form: dict[str, str]):
        """Open the channel."""
        try:
            draft = channel_service.ChannelDraft(
                org_id=int(form.get("org_id") or 0),
                business_codes=_codes(form.get("business_codes", "")),
                interface_codes=_codes(form.get("interface_codes", "")),
                rate_limit_per_minute=int(form.get("rate_limit") or 600),
                probation_rate_limit=int(form.get("probation_rate_limit") or 60),
            )
        except ValueError:
            async with self:
                self.create_error = "限流：应为整数（次/分钟）"
            return
        async for event in self._submit(
            lambda s, a: channel_service.create_channel(session=s, actor=a, draft=draft),
            dialog="create",
            error="create_error",
            success="通道已开通",
        ):
            yield event

    # --- state changes --------------------------------------------------------------------

    @rx.event
    def ask_state(self, channel_id: int) -> None:
        """Choose the new state and say why (leaving 关闭 needs a rectification note)."""
        row = next(r for r in self.rows if r.id == channel_id)
        targets = channel_service.TRANSITIONS[row.state]
        self.state_targets = [Choice(s, CHANNEL_STATES[s]) for s in CHANNEL_STATES if s in targets]
        self.state_channel_id, self.state_channel_name = row.id, row.name
        self.state_from, self.state_to = row.state, self.state_targets[0].value
        self.state_error, self.state_open = "", True

    @rx.event
    def set_state_to(self, value: str) -> None:
        """The chosen new state."""
        self.state_to = value

    @rx.event(background=True)
    async def change_state(self, form: dict[str, str]):
        """Apply the decision; it takes effect at the channel's next call."""
        async with self:
            channel_id, to_state = self.state_channel_id, self.state_to
        async for event in self._submit(
            lambda s, a: channel_service.change_state(
                session=s,
                actor=a,
                channel_id=channel_id,
                to_state=to_state,
                reason=form.get("reason", ""),
                rectification=form.get("rectification", ""),
            ),
            dialog="state",
            error="state_error",
            success=f"通道已改为「{CHANNEL_STATES.get(to_state, to_state)}」，下一次调用即生效",
        ):
            yield event

    # --- history --------------------------------------------------------------------------

    @rx.event(background=True)
    async def show_history(self, channel_id: int, name: str):
        """Every decision and every refused call of the channel."""

        def show(events: list[channel_service.EventRow]) -> None:
            self.history = [
                EventView(e.time, e.kind, e.change, e.reason, e.rectification, e.actor)
                for e in events
            ]
            self.history_name, self.history_open = name, True

        async for event in self._open_with(
            lambda s, a: channel_service.channel_history(session=s, actor=a, channel_id=channel_id),
            show,
        ):
            yield event
