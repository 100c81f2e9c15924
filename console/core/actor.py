"""The acting principal handed to every service call."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the logged-in user and the tenant scope of the session."""

    user_id: int
    account: str
    display_name: str
    tenant_code: str
    session_id: int
    must_change_password: bool = False
    # The account's roles ask for a second factor it has not bound yet (绑定动态验证码 first).
    must_enrol_second_factor: bool = False
    # Province-level users may narrow their view to one tenant; None = every tenant in scope.
    context_tenant: str | None = None
    client_ip: str = ""
