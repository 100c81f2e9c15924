"""State of the 接口管理 page: registrations, edits with versions, connection tests and health."""

from __future__ import annotations

import dataclasses

import reflex as rx
from sqlmodel import Session

from console.authz.service import can
from console.core.actor import Actor
from console.core.paging import PageRequest
from console.interfaces import probe_service, registry_service
from console.interfaces.models import HEALTH_LABELS
from console.tenancy.scope import scope_of
from console.ui.actions import call
from console.ui.effects_state import toast
from console.ui.form_state import FilterMixin, FormMixin
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 20
Detail = tuple[
    registry_service.InterfaceDetail,
    list[registry_service.RevisionRow],
    list[probe_service.ProbeRow],
]
_DRAFT_FIELDS = [f.name for f in dataclasses.fields(registry_service.InterfaceDraft)]
_INT_FIELDS = {"timeout_ms": "超时（毫秒）", "rate_limit_per_minute": "限流（次/分钟）"}


@dataclasses.dataclass(frozen=True)
class InterfaceView:
    """One registration row."""

    id: int
    code: str
    name: str
    direction: str
    department: str
    sharing_class: str
    endpoint_url: str
    enabled: bool
    builtin: bool
    revision: int
    health: str
    health_label: str
    probe: str
    tenant_code: str


@dataclasses.dataclass(frozen=True)
class RevisionView:
    """One version of a registration."""

    revision: int
    time: str
    actor: str
    action: str
    before: str
    after: str


@dataclasses.dataclass(frozen=True)
class ProbeView:
    """One connectivity check."""

    time: str
    ok: bool
    status: str
    latency: str
    error: str
    trigger: str


class InterfacesState(PagedListMixin, FilterMixin, FormMixin, rx.State):
    """接口管理."""

    rows: list[InterfaceView] = []
    direction_filter: str = "*"
    health_filter: str = "*"
    can_write: bool = False
    can_delete: bool = False
    probing_id: int = 0

    edit_open: bool = False
    edit_id: int = 0  # 0 = registering a new interface
    edit_values: dict[str, str] = {}
    edit_error: str = ""
    endpoint_error: str = ""

    detail_open: bool = False
    detail_title: str = ""
    detail_fields: list[list[str]] = []
    revisions: list[RevisionView] = []
    probes: list[ProbeView] = []

    @rx.event(background=True)
    async def load(self):
        """Fetch the current page."""

        def prepare():  # inside the state lock: read what the fetch needs
            keyword, page = self.keyword, self.page
            direction, health = self._chosen("direction_filter"), self._chosen("health_filter")

            def fetch(session, actor):
                listing = registry_service.list_interfaces(
                    session=session,
                    actor=actor,
                    search=keyword,
                    direction=direction,
                    health=health,
                    page=PageRequest(page, PAGE_SIZE),
                )
                rights = {a: can(actor, registry_service.OBJ, a) for a in ("write", "delete")}
                return listing, rights

            return fetch

        def show(value):  # inside the state lock: what the page shows
            listing, rights = value
            self.can_write, self.can_delete = rights["write"], rights["delete"]
            self.rows = [_view(r) for r in listing.items]
            self.total, self.pages = listing.total, listing.pages

        async for event in self._load_page(prepare, show):
            yield event

    # --- test connection ------------------------------------------------------------------

    @rx.event(background=True)
    async def test_connection(self, interface_id: int):
        """Run a timed HTTP check against the registered endpoint (its timeout honoured)."""
        async with self:
            token, self.probing_id = await self._token(), interface_id
        outcome = await call(
            token,
            lambda s, a: probe_service.test_connection(
                session=s, actor=a, interface_id=interface_id
            ),
        )
        async with self:
            self.probing_id = 0
        if not outcome.ok or outcome.value is None:
            yield toast.error(outcome.error_text)
            return
        probe = outcome.value
        if probe.ok:
            yield toast.success(f"连接正常：HTTP {probe.status_code}，{probe.latency_ms} 毫秒")
        else:
            yield toast.error(f"连接失败：{probe.error}（{probe.latency_ms} 毫秒）")
        yield InterfacesState.load

    # --- enable / delete ------------------------------------------------------------------

    @rx.event(background=True)
    async def toggle(self, interface_id: int, enable: bool):
        """Enable or disable an interface (a new revision)."""
        async for event in self._act(
            lambda s, a: registry_service.set_enabled(
                session=s, actor=a, interface_id=interface_id, enabled=enable
            ),
            "接口已启用" if enable else "接口已停用",
        ):
            yield event

    def _delete_one(self, session, actor, key: str) -> None:
        registry_service.delete_interface(session=session, actor=actor, interface_id=int(key))

    # --- detail ---------------------------------------------------------------------------

    @rx.event(background=True)
    async def open_detail(self, interface_id: int):
        """Every field, the version history and the probe history of one interface."""

        def fetch(session: Session, actor: Actor) -> Detail:
            detail = registry_service.get_interface(
                session=session, actor=actor, interface_id=interface_id
            )
            revisions = registry_service.list_revisions(
                session=session, actor=actor, interface_id=interface_id
            )
            probes = probe_service.probe_history(
                session=session, actor=actor, interface_id=interface_id
            )
            return detail, revisions, probes

        async for event in self._open_with(fetch, self._show_detail):
            yield event

    def _show_detail(self, value: Detail) -> None:
        detail, revisions, probes = value
        self.detail_title = f"{detail.name}（{detail.code}）"
        self.detail_fields = _detail_fields(detail)
        self.revisions = [
            RevisionView(r.revision, r.time, r.actor, r.action, r.before, r.after)
            for r in revisions
        ]
        self.probes = [
            ProbeView(
                p.time,
                p.ok,
                str(p.status_code or "—"),
                f"{p.latency_ms} 毫秒",
                p.error,
                "定时" if p.trigger == "schedule" else f"手动（{p.actor}）",
            )
            for p in probes
        ]
        self.detail_open = True

    # --- register / edit ------------------------------------------------------------------

    @rx.event
    def open_create(self) -> None:
        """Register a new interface (an outbound sharing interface by default)."""
        self._edit(0, registry_service.InterfaceDraft(code="", name=""))

    @rx.event(background=True)
    async def open_edit(self, interface_id: int):
        """Edit a registration; saving makes a new revision."""
        async for event in self._open_with(
            lambda s, a: registry_service.get_interface(
                session=s, actor=a, interface_id=interface_id
            ),
            lambda detail: self._edit(interface_id, detail.to_draft()),
        ):
            yield event

    def _edit(self, interface_id: int, draft: registry_service.InterfaceDraft) -> None:
        self.edit_values = {k: _text(getattr(draft, k)) for k in _DRAFT_FIELDS}
        self.edit_id, self.edit_error, self.endpoint_error = interface_id, "", ""
        self.edit_open = True

    @rx.event
    def set_edit_value(self, name: str, value: str) -> None:
        """A select of the form changed."""
        self.edit_values = {**self.edit_values, name: value}

    @rx.event
    def check_endpoint(self, value: str) -> None:
        """Say what is wrong with the address as it is typed."""
        self.endpoint_error = registry_service.endpoint_problem(value.strip())

    @rx.event(background=True)
    async def save(self, form: dict[str, str]):
        """Register or update the interface."""
        async with self:
            interface_id = self.edit_id
            values = {**self.edit_values, **{k: v.strip() for k, v in form.items()}}
        try:
            draft = _draft(values)
        except ValueError as bad:
            async with self:
                self.edit_error = str(bad)
            return

        def apply(session, actor):
            if interface_id:
                return registry_service.update_interface(
                    session=session, actor=actor, interface_id=interface_id, draft=draft
                )
            if not draft.tenant_code and not scope_of(actor).all_tenants:
                # A county registers its own systems; only the province registers for everyone.
                own = actor.context_tenant or actor.tenant_code
                return registry_service.create_interface(
                    session=session, actor=actor, draft=dataclasses.replace(draft, tenant_code=own)
                )
            return registry_service.create_interface(session=session, actor=actor, draft=draft)

        async for event in self._submit(
            apply, dialog="edit", error="edit_error", success="接口登记已保存（新版本）"
        ):
            yield event


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _draft(values: dict[str, str]) -> registry_service.InterfaceDraft:
    """The form's text values as a draft; ValueError names a field that is not a number."""
    parsed: dict[str, object] = {k: values.get(k, "") for k in _DRAFT_FIELDS}
    for name, label in _INT_FIELDS.items():
        text = str(parsed[name])
        if not text.isdigit():
            raise ValueError(f"{label}：应为正整数")
        parsed[name] = int(text)
    owner = str(parsed["owner_org_id"])
    parsed["owner_org_id"] = int(owner) if owner.isdigit() else None
    return registry_service.InterfaceDraft(**parsed)  # type: ignore[arg-type]


def _view(r: registry_service.InterfaceRow) -> InterfaceView:
    probe = "—"  # never probed
    if r.last_latency_ms is not None:
        probe = f"{r.last_latency_ms} 毫秒 · {r.last_probe_at}"
    if r.consecutive_failures:
        probe = f"连续失败 {r.consecutive_failures} 次 · {r.last_probe_at}"
    return InterfaceView(
        r.id,
        r.code,
        r.name,
        "接入" if r.direction == "inbound" else "共享",
        r.department,
        r.sharing_class,
        r.endpoint_url or "（未登记地址）",
        r.enabled,
        r.builtin,
        r.revision,
        r.health,
        HEALTH_LABELS.get(r.health, r.health),
        probe,
        r.tenant_code or "全省",
    )


def _detail_fields(d: registry_service.InterfaceDetail) -> list[list[str]]:
    return [
        ["代码 / 版本", f"{d.code} · v{d.version}（第 {d.revision} 次修订）"],
        ["方向 / 适用范围", f"{'接入' if d.direction == 'inbound' else '共享'} · {d.tenant_name}"],
        ["部门 / 类别", f"{d.department} · {d.sharing_class}"],
        ["地址", f"{d.method} {d.endpoint_url or '（未登记）'}"],
        ["协议 / 认证", f"{d.protocol} · {d.auth_kind}"],
        ["超时 / 限流", f"{d.timeout_ms} 毫秒 · {d.rate_limit_per_minute} 次/分钟"],
        ["归属机构", d.owner_org_name or "—"],
        ["请求字段", d.request_fields or "—"],
        ["响应字段", d.response_fields or "—"],
        ["说明", d.description or "—"],
    ]
