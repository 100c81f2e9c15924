"""The users page's two-person resets of administrators: ask, confirm, the password once."""

from __future__ import annotations

import reflex as rx

from console.iam import admin_reset_service as resets
from console.iam.admin_reset_service import ResetRequestRow
from console.ui.actions import call
from console.ui.effects_state import toast
from console.ui.session import session_token


class AdminResetState(rx.State):
    """Waiting requests on top of 用户管理; a request and a confirmation each need a dialog."""

    requests: list[ResetRequestRow] = []
    ask_open: bool = False
    ask_user: int = 0
    ask_account: str = ""
    ask_kind: str = ""
    confirm_open: bool = False
    confirm_id: int = 0
    confirm_text: str = ""
    _confirm_account: str = ""
    # Shown once to the confirming administrator, who hands it to the holder.
    one_time_password: str = ""
    one_time_account: str = ""

    @rx.var
    def ask_kind_label(self) -> str:
        """密码 or 动态验证码."""
        return resets.KINDS.get(self.ask_kind, "")

    @rx.event(background=True)
    async def load(self):
        """The requests waiting for a second administrator (none for anyone else)."""
        async with self:
            token = await session_token(self)
        outcome = await call(token, lambda s, a: resets.waiting_requests(session=s, actor=a))
        async with self:
            self.requests = list(outcome.value or []) if outcome.ok else []

    @rx.event
    def ask(self, user_id: int, account: str, kind: str) -> None:
        """Confirm before asking for a reset."""
        self.ask_open, self.ask_user, self.ask_account, self.ask_kind = True, user_id, account, kind

    @rx.event
    def set_ask_open(self, value: bool) -> None:
        """Close the request dialog."""
        self.ask_open = value

    @rx.event(background=True)
    async def submit_request(self):
        """Ask for the reset; another administrator must confirm it."""
        async with self:
            self.ask_open = False
            token, user_id, kind = await session_token(self), self.ask_user, self.ask_kind
        outcome = await call(
            token,
            lambda s, a: resets.request_reset(session=s, actor=a, user_id=user_id, kind=kind),
        )
        if not outcome.ok:
            yield toast.error(outcome.error or outcome.relogin)
            return
        yield toast.success("已提交申请，须另一名管理员确认后生效")
        yield AdminResetState.load

    @rx.event
    def ask_confirm(self, request_id: int, account: str, kind_label: str) -> None:
        """Confirm before confirming: the reset happens at once."""
        self.confirm_open, self.confirm_id = True, request_id
        self.confirm_text, self._confirm_account = f"{account} 的{kind_label}", account

    @rx.event
    def set_confirm_open(self, value: bool) -> None:
        """Close the confirmation dialog."""
        self.confirm_open = value

    @rx.event(background=True)
    async def confirm(self):
        """Carry out the reset as the second administrator."""
        async with self:
            self.confirm_open = False
            token, request_id = await session_token(self), self.confirm_id
            account = self._confirm_account
        outcome = await call(
            token, lambda s, a: resets.confirm_reset(session=s, actor=a, request_id=request_id)
        )
        if not outcome.ok:
            yield toast.error(outcome.error or outcome.relogin)
            return
        async with self:
            self.one_time_password, self.one_time_account = outcome.value or "", account
        yield toast.success("已重置；账号本人下次登录时会看到这次重置的说明")
        yield AdminResetState.load

    @rx.event
    def forget_password(self) -> None:
        """Close the one-time password: it is not shown again."""
        self.one_time_password = self.one_time_account = ""
