"""State of the 绑定动态验证码 page: the QR code, the first code, the recovery codes once."""

from __future__ import annotations

import asyncio

import reflex as rx

from console.core.db import session_scope
from console.core.errors import AuthenticationFailed, UserError
from console.core.logging import request_context
from console.iam import second_factor_service as factors
from console.iam import service
from console.iam.paths import SECOND_FACTOR_ROUTE, login_url, safe_next
from console.iam.state import SessionState


def _begin(token: str) -> factors.Enrolment | None:
    """A new seed for the signed-in account, or None when one is bound already."""
    with request_context(), session_scope() as session:
        return service.begin_enrolment(session=session, token=token)


def _confirm(token: str, code: str) -> list[str]:
    with request_context(), session_scope() as session:
        return service.confirm_enrolment(session=session, token=token, code=code)


class SecondFactorState(rx.State):
    """Enrolment: scan, type the first code, keep the recovery codes."""

    qr_data_uri: str = ""
    secret: str = ""
    bound: bool = False
    code_error: str = ""
    error: str = ""
    submitting: bool = False
    # Shown once, right after binding; never read back from the server afterwards.
    recovery_codes: list[str] = []

    @rx.event(background=True)
    async def load(self):
        """Start an enrolment (fired by the guard once the session is known good)."""
        async with self:
            token = (await self.get_state(SessionState)).token
        try:
            enrolment = await asyncio.to_thread(_begin, token)
        except AuthenticationFailed as refused:
            yield rx.redirect(login_url(SECOND_FACTOR_ROUTE, reason=refused.message))
            return
        async with self:
            self.code_error = self.error = ""
            self.submitting, self.recovery_codes = False, []
            self.bound = enrolment is None
            self.qr_data_uri = enrolment.qr_data_uri if enrolment else ""
            self.secret = enrolment.grouped_secret if enrolment else ""

    @rx.event
    def check_code(self, value: str) -> None:
        """Six digits, checked as typed."""
        clean = value.strip().replace(" ", "")
        self.code_error = "" if clean.isdigit() and len(clean) == 6 else "请输入 6 位数字"

    @rx.event(background=True)
    async def submit(self, form: dict[str, str]):
        """Bind the seed with the first code; show the recovery codes once."""
        code = form.get("code", "")
        async with self:
            self.check_code(code)
            if self.code_error:
                return
            self.submitting, self.error = True, ""
            token = (await self.get_state(SessionState)).token
        try:
            codes = await asyncio.to_thread(_confirm, token, code)
        except UserError as refused:
            async with self:
                self.error, self.submitting = refused.message, False
            return
        async with self:
            self.recovery_codes, self.bound, self.submitting = codes, True, False
            self.qr_data_uri = self.secret = ""

    @rx.event
    def finish(self):
        """Forget the shown codes and go where the user was going."""
        self.recovery_codes = []
        return rx.redirect(safe_next(self.router.url.query_parameters.get("next")))
