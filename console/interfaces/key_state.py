"""State of the 接入密钥 page: list, issue (shown once), rotate with grace, revoke."""

from __future__ import annotations

import dataclasses

import reflex as rx

from console.authz.service import can
from console.core.paging import PageRequest
from console.interfaces import key_service
from console.ui.choice import Choice
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 20


@dataclasses.dataclass(frozen=True)
class KeyView:
    """One key row (never its secret)."""

    key_id: str
    name: str
    tenant: str  # 名称（代码）
    bound_to: str
    scopes: str
    rate_limit: int
    status: str
    last_used: str
    created: str
    usable: bool


class ApiKeysState(PagedListMixin, FormMixin, rx.State):
    """接入密钥."""

    rows: list[KeyView] = []
    active_only: bool = True
    can_write: bool = False

    create_open: bool = False
    create_error: str = ""
    tenants: list[Choice] = []
    orgs: list[Choice] = []
    chosen_tenant: str = ""
    chosen_scopes: list[str] = []
    _all_orgs: list[tuple[int, str, str]] = []

    # The full key, shown once after creation or rotation and forgotten when the dialog closes.
    shown_key: str = ""
    shown_open: bool = False

    rotate_open: bool = False
    rotate_key_id: str = ""
    rotate_error: str = ""

    @rx.event(background=True)
    async def load(self):
        """Fetch the current page."""

        def prepare():  # inside the state lock: read what the fetch needs
            keyword, page, active = (
                self.keyword,
                self.page,
                self.active_only,
            )

            def fetch(session, actor):
                listing = key_service.list_keys(
                    session=session,
                    actor=actor,
                    search=keyword,
                    active_only=active,
                    page=PageRequest(page, PAGE_SIZE),
                )
                return listing, can(actor, key_service.OBJ, "write")

            return fetch

        def show(value):  # inside the state lock: what the page shows
            listing, self.can_write = value
            self.rows = [
                KeyView(
                    r.key_id,
                    r.name,
                    r.tenant,
                    " / ".join(x for x in (r.org_name, r.channel_name) if x) or "—",
                    r.scopes,
                    r.rate_limit_per_minute,
                    r.status,
                    r.last_used,
                    f"{r.created}（{r.created_by}）",
                    r.status == "有效",
                )
                for r in listing.items
            ]
            self.total, self.pages = listing.total, listing.pages

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event
    def set_active_only(self, value: bool):
        """Show only keys that still work, or every key."""
        self.active_only, self.page = value, 1
        return ApiKeysState.load

    # --- issue ----------------------------------------------------------------------------

    @rx.event(background=True)
    async def open_create(self):
        """Open the new-key form with the tenants and organisations in scope."""

        def show(choices: tuple[list[tuple[str, str]], list[tuple[int, str, str]]]) -> None:
            tenants, self._all_orgs = choices
            self.tenants = [Choice(code, f"{name}（{code}）") for code, name in tenants]
            self.chosen_tenant = tenants[0][0] if tenants else ""
            self._filter_orgs()
            self.chosen_scopes, self.create_error, self.create_open = [], "", True

        async for event in self._open_with(
            lambda s, a: key_service.binding_choices(session=s, actor=a), show
        ):
            yield event

    def _filter_orgs(self) -> None:
        self.orgs = [Choice(str(i), n) for i, n, t in self._all_orgs if t == self.chosen_tenant]

    @rx.event
    def choose_tenant(self, code: str) -> None:
        """The tenant the key belongs to (its organisations follow)."""
        self.chosen_tenant = code
        self._filter_orgs()

    @rx.event
    def toggle_scope(self, scope: str, checked: bool) -> None:
        """Add or remove a stream the key may use."""
        rest = [s for s in self.chosen_scopes if s != scope]
        self.chosen_scopes = [*rest, scope] if checked else rest

    @rx.event(background=True)
    async def create(self, form: dict[str, str]):
        """Issue the key and show it once."""
        async with self:
            tenant, scopes = self.chosen_tenant, self.chosen_scopes
        try:
            limit = int(form.get("rate_limit") or 600)
        except ValueError:
            async with self:
                self.create_error = "限流：应为整数（次/分钟）"
            return
        org = form.get("org_id", "")
        draft = key_service.KeyDraft(
            name=form.get("name", "").strip(),
            tenant_code=tenant,
            scopes=frozenset(scopes),
            org_id=int(org) if org.isdigit() else None,
            rate_limit_per_minute=limit,
        )
        async for event in self._submit(
            lambda s, a: key_service.issue_key(session=s, actor=a, draft=draft),
            dialog="create",
            error="create_error",
            done=self._show_key,
        ):
            yield event

    def _show_key(self, key: str) -> None:
        """Show a new key once (inside the lock)."""
        self.shown_key, self.shown_open = key, True

    @rx.event
    def set_shown_open(self, value: bool) -> None:
        """Close the one-time display and forget the key."""
        self.shown_open = value
        if not value:
            self.shown_key = ""

    # --- rotate / revoke ------------------------------------------------------------------

    @rx.event
    def ask_rotate(self, key_id: str) -> None:
        """Ask for the grace period before rotating."""
        self.rotate_open, self.rotate_key_id, self.rotate_error = True, key_id, ""

    @rx.event(background=True)
    async def rotate(self, form: dict[str, str]):
        """Issue the replacement; the old key keeps working for the grace period."""
        async with self:
            key_id = self.rotate_key_id
        text = form.get("grace_hours", "").strip()
        if text and not text.isdigit():
            async with self:
                self.rotate_error = "宽限期：应为 0 到 720 的整数（小时）"
            return
        async for event in self._submit(
            lambda s, a: key_service.rotate_key(
                session=s, actor=a, key_id=key_id, grace_hours=int(text) if text else None
            ),
            dialog="rotate",
            error="rotate_error",
            done=self._show_key,
        ):
            yield event

    def _delete_one(self, session, actor, key: str) -> None:
        key_service.revoke(session=session, actor=actor, key_id=key)

    def _deleted_text(self) -> str:
        return "密钥已吊销，下一次调用即被拒绝"
