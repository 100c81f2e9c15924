"""State of the 系统设置 page: the security policy (editable by 安全管理员) and runtime facts."""

from __future__ import annotations

import dataclasses

import reflex as rx

from console import __version__
from console.authz.service import can
from console.core.db import backend_name, current_revision
from console.core.errors import ValidationFailed
from console.core.settings import get_settings
from console.iam import admin_network_service, policy_service
from console.iam.outbound_state import OutboundState
from console.ui.effects_state import toast
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin


@dataclasses.dataclass(frozen=True)
class PolicyRow:
    """One rule: field name, label, current value, allowed range."""

    name: str
    label: str
    value: str
    bounds: str


@dataclasses.dataclass(frozen=True)
class NetworkRow:
    """One administrator's allowed sign-in networks."""

    admin: str
    label: str
    networks: str
    note: str


@dataclasses.dataclass(frozen=True)
class FactRow:
    """One runtime fact (never a secret)."""

    label: str
    value: str


def _facts() -> list[FactRow]:
    settings = get_settings()
    return [
        FactRow("版本", __version__),
        FactRow("配置库", f"{backend_name()}（迁移版本 {current_revision() or '—'}）"),
        FactRow("本省", f"{settings.province_name}（{settings.province_code}）"),
        FactRow("个人信息密钥来源", "环境变量" if settings.sm4_key else "数据目录 keys/（0600）"),
    ]


class PolicyState(PagedListMixin, FormMixin, rx.State):
    """系统设置."""

    rows: list[PolicyRow] = []
    facts: list[FactRow] = []
    can_write: bool = False
    form_error: str = ""
    networks: list[NetworkRow] = []
    network_errors: dict[str, str] = {}

    @rx.event(background=True)
    async def load(self):
        """Fetch the policy in force."""

        def prepare():  # inside the state lock: read what the fetch needs
            def fetch(session, actor):
                values = policy_service.read_policy(session=session, actor=actor)
                networks = admin_network_service.read_admin_networks(session=session, actor=actor)
                return values, can(actor, policy_service.OBJ, "write"), _facts(), networks

            return fetch

        def show(value):  # inside the state lock: what the page shows
            values, self.can_write, self.facts, networks = value
            self.networks = [
                NetworkRow(n.admin, n.label, n.networks, "默认：本机与内网" if n.is_default else "")
                for n in networks
            ]
            self.network_errors = {}
            self.rows = [
                PolicyRow(name, label, str(getattr(values, name)), f"{low}–{high}")
                for name, (label, low, high) in policy_service.RULES.items()
            ]

        async for event in self._load_page(prepare, show):
            yield event
        yield OutboundState.load

    @rx.event(background=True)
    async def save(self, form: dict[str, str]):
        """Apply the edited rules."""
        outcome = await self._call(
            lambda s, a: policy_service.update_policy(session=s, actor=a, values=form)
        )
        async with self:
            if not outcome.ok:
                self.form_error = outcome.error_text
                return
            self.form_error = ""
        yield toast.success("安全策略已保存，自下一次登录或操作起生效")
        yield PolicyState.load

    @rx.event
    def check_networks(self, admin: str, value: str) -> None:
        """Live check of one administrator's list as it is typed."""
        try:
            admin_network_service.check_networks(value)
        except ValidationFailed as bad:
            self.network_errors = {**self.network_errors, admin: bad.message}
            return
        self.network_errors = {k: v for k, v in self.network_errors.items() if k != admin}

    @rx.event(background=True)
    async def save_networks(self, form: dict[str, str]):
        """Apply one administrator's list (the form names which)."""
        admin, networks = form.get("admin", ""), form.get("networks", "")
        outcome = await self._call(
            lambda s, a: admin_network_service.update_admin_networks(
                session=s, actor=a, admin=admin, networks=networks
            )
        )
        async with self:
            if not outcome.ok:
                self.network_errors = {**self.network_errors, admin: outcome.error_text}
                return
            self.network_errors = {k: v for k, v in self.network_errors.items() if k != admin}
        yield toast.success("允许登录的网段已保存，自下一次登录起生效")
        yield PolicyState.load
