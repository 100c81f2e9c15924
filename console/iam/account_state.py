"""State of the 我的账号 page: the user's own personal access tokens."""

from __future__ import annotations

import dataclasses

import reflex as rx

from console.iam import token_service
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin


@dataclasses.dataclass(frozen=True)
class TokenView:
    """One of my tokens."""

    token_id: str
    name: str
    created: str
    expires: str
    last_used: str
    status: str


class AccountState(PagedListMixin, FormMixin, rx.State):
    """我的账号 (a user has a handful of tokens: one page)."""

    rows: list[TokenView] = []
    create_error: str = ""
    # Shown once after creation, forgotten when the dialog closes.
    shown_token: str = ""

    @rx.event(background=True)
    async def load(self):
        """My tokens."""

        def prepare():  # inside the state lock: read what the fetch needs
            return lambda s, a: token_service.list_tokens(session=s, actor=a)

        def show(value):  # inside the state lock: what the page shows
            self.rows = [TokenView(**dataclasses.asdict(t)) for t in value]
            self.total = len(self.rows)

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event(background=True)
    async def create(self, form: dict[str, str]):
        """Create a token and show it once."""
        days = form.get("days", "90").strip()
        if not days.isdigit():
            async with self:
                self.create_error = "有效期：应为 1 到 365 的整数（天）"
            return
        outcome = await self._call(
            lambda s, a: token_service.create_token(
                session=s, actor=a, name=form.get("name", ""), days=int(days)
            )
        )
        async with self:
            if not outcome.ok:
                self.create_error = outcome.error_text
                return
            self.create_error, self.shown_token = "", outcome.value
        yield AccountState.load

    @rx.event
    def forget_token(self) -> None:
        """The user has copied the token: stop showing it."""
        self.shown_token = ""

    def _delete_one(self, session, actor, key: str) -> None:
        token_service.revoke_token(session=session, actor=actor, token_id=key)

    def _deleted_text(self) -> str:
        return "令牌已吊销，下一次调用即被拒绝"
