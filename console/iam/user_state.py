"""State of the 用户管理 page: server-side list, filters, dialogs; only masked data is sent."""

from __future__ import annotations

import dataclasses

import reflex as rx
from sqlmodel import Session

from console.authz.service import can
from console.core.actor import Actor
from console.core.identifiers import resident_id_problem
from console.core.paging import PageRequest
from console.core.tabular import MAX_UPLOAD_BYTES
from console.dictionaries import lookup
from console.iam import role_service, sync_service, user_service
from console.iam.admin_reset_state import AdminResetState
from console.iam.state import TenantOption
from console.iam.user_service import ID_TYPES, REVEALABLE, UserDraft, UserQuery
from console.tenancy import service as tenancy
from console.ui.actions import Outcome, call
from console.ui.form_state import FilterMixin, FormMixin
from console.ui.list_state import PagedListMixin
from console.ui.upload_guard import register_upload

PAGE_SIZE = 20


@dataclasses.dataclass(frozen=True)
class UserView:
    """One row as the browser gets it: masked values only."""

    id: int
    account: str
    real_name: str
    id_number: str
    phone: str
    tenant_code: str
    tenant_name: str
    org_id: str
    org_name: str
    post: str
    multi: bool
    roles: str
    status: str
    status_label: str
    last_login: str
    administrator: bool = False
    category: str = "staff"
    category_label: str = "业务人员"


@dataclasses.dataclass(frozen=True)
class VerdictView:
    """One line of the effective-permissions dialog."""

    label: str
    allowed: bool
    via: str


@dataclasses.dataclass(frozen=True)
class OrgOption:
    """An organisation that can be picked in the user forms."""

    id: str
    name: str


@dataclasses.dataclass(frozen=True)
class SyncLine:
    """One rejected record of a sync batch (account and reason only; no personal values)."""

    line: int
    account: str
    reason: str


@dataclasses.dataclass(frozen=True)
class RoleChoice:
    """A role that can be ticked in the role dialog."""

    code: str
    name: str
    category: str


def _view(row: user_service.UserRow) -> UserView:
    return UserView(
        id=row.id,
        account=row.account,
        real_name=row.real_name,
        id_number=row.id_number,
        phone=row.phone,
        tenant_code=row.tenant_code,
        tenant_name=row.tenant_name,
        org_id=str(row.org_id) if row.org_id else "",
        org_name=row.org_name or "—",
        post=row.post,
        multi=row.allow_multi_session,
        roles="、".join(row.roles) or "—",
        status=row.status,
        status_label=row.status_label,
        last_login=row.last_login,
        administrator=row.administrator,
        category=row.category,
        category_label=row.category_label,
    )


def field_problem(name: str, value: str) -> str:
    """Live check of one create-form field, with the same rules the service applies."""
    value = value.strip()
    checks = {
        "account": lambda: (
            ""
            if user_service.ACCOUNT_PATTERN.fullmatch(value)
            else "应为 3-32 位小写字母、数字、下划线或点，以字母开头"
        ),
        "real_name": lambda: "" if 2 <= len(value) <= 30 else "应为 2 到 30 个字",
        "id_number": lambda: (
            (resident_id_problem(value, division_known=lookup.division_checker()) or "")
            if value
            else ""
        ),
        "phone": lambda: (
            "" if not value or user_service.PHONE_PATTERN.fullmatch(value) else "应为11位手机号"
        ),
    }
    return checks[name]() if name in checks else ""


class UsersState(PagedListMixin, FilterMixin, FormMixin, rx.State):
    """用户管理: the list and its dialogs."""

    rows: list[UserView] = []
    tenant_filter: str = "*"
    status_filter: str = "*"
    category_filter: str = "*"
    tenant_options: list[TenantOption] = []
    can_write: bool = False
    can_grant: bool = False
    can_unlock: bool = False
    can_unmask: bool = False
    can_explain: bool = False
    can_export: bool = False
    exporting: bool = False

    org_options: list[OrgOption] = []
    new_tenant: str = ""

    edit_open: bool = False
    edit_id: int = 0
    edit_account: str = ""
    edit_masked_name: str = ""
    edit_masked_id: str = ""
    edit_masked_phone: str = ""
    edit_post: str = ""
    edit_org: str = "none"
    edit_multi: bool = False
    edit_error: str = ""

    selected_ids: list[int] = []
    bulk_open: bool = False
    bulk_enable: bool = False

    sync_open: bool = False
    sync_running: bool = False
    sync_summary: str = ""
    sync_rejected: list[SyncLine] = []
    _sync_payload: bytes = b""
    _sync_filename: str = ""

    explain_open: bool = False
    explain_account: str = ""
    verdicts: list[VerdictView] = []

    create_open: bool = False
    form_errors: dict[str, str] = {}
    create_error: str = ""
    one_time_password: str = ""
    one_time_account: str = ""

    role_open: bool = False
    role_target: int = 0
    role_account: str = ""
    role_choices: list[RoleChoice] = []
    selected_roles: list[str] = []

    confirm_open: bool = False
    confirm_target: int = 0
    confirm_account: str = ""
    confirm_enable: bool = False

    reveal_open: bool = False
    reveal_target: int = 0
    reveal_account: str = ""
    reveal_field: str = "id_number"
    reveal_error: str = ""
    # Cleared when the dialog closes: the one unmasked value that ever reaches the browser.
    reveal_value: str = ""

    def _query(self) -> UserQuery:
        return UserQuery(
            keyword=self.keyword,
            tenant_code=self._chosen("tenant_filter"),
            status=self._chosen("status_filter"),
            category=self._chosen("category_filter"),
        )

    @rx.event(background=True)
    async def load(self):
        """Fetch the current page with the current filters."""

        def prepare():  # inside the state lock: read what the fetch needs
            self._forget_selection()
            query, page = self._query(), self.page

            def fetch(session, actor):
                listing = user_service.list_users(
                    session=session, actor=actor, query=query, page=PageRequest(page, PAGE_SIZE)
                )
                choices = tenancy.tenant_choices(session=session, actor=actor)
                if actor.tenant_code not in dict(choices):
                    own = tenancy.get_tenant_name(session, actor.tenant_code)
                    choices = [(actor.tenant_code, own), *choices]
                rights = {
                    act: can(actor, user_service.OBJ, act)
                    for act in ("write", "grant", "unlock", "unmask")
                }
                rights["explain"] = can(actor, "iam.roles", "read")
                rights["export"] = can(actor, user_service.OBJ, "export")
                return listing, choices, rights

            return fetch

        def show(value):  # inside the state lock: what the page shows
            listing, choices, rights = value
            self.rows = [_view(row) for row in listing.items]
            self.total, self.pages = listing.total, listing.pages
            self.tenant_options = [TenantOption(code, name) for code, name in choices]
            self.can_write, self.can_grant = rights["write"], rights["grant"]
            self.can_unlock, self.can_unmask = rights["unlock"], rights["unmask"]
            self.can_explain, self.can_export = rights["explain"], rights["export"]
            return AdminResetState.load  # the requests waiting for a second administrator

        async for event in self._load_page(prepare, show):
            yield event

    # --- create ---------------------------------------------------------------------------

    @rx.event
    def open_create(self):
        """Open the new-user dialog with a clean form."""
        self.create_open, self.form_errors, self.create_error = True, {}, ""
        self.one_time_password = self.one_time_account = ""
        self.new_tenant = self.tenant_options[0].code if self.tenant_options else ""
        return UsersState.load_orgs(self.new_tenant)

    @rx.event
    def set_new_tenant(self, value: str):
        """Tenant of the new account; its organisations become the choices."""
        self.new_tenant = value
        return UsersState.load_orgs(value)

    @rx.event(background=True)
    async def load_orgs(self, tenant_code: str):
        """Organisations of ``tenant_code`` for the forms."""
        outcome = await self._call(
            lambda s, a: user_service.org_choices(session=s, actor=a, tenant_code=tenant_code)
        )
        async with self:
            self.org_options = [OrgOption(str(i), n) for i, n in outcome.value or []]

    @rx.event
    def set_create_open(self, value: bool) -> None:
        """Close (or open) the new-user dialog; forget the one-time password when closing."""
        self.create_open = value
        if not value:
            self.one_time_password = self.one_time_account = ""

    @rx.event
    def check_field(self, name: str, value: str) -> None:
        """Live per-field check as the administrator leaves a field."""
        self.form_errors = {**self.form_errors, name: field_problem(name, value)}

    @rx.event(background=True)
    async def create(self, form: dict[str, str]):
        """Create the account and show its one-time password once."""
        problems = {
            name: field_problem(name, form.get(name, ""))
            for name in ("account", "real_name", "id_number", "phone")
        }
        async with self:
            self.form_errors = problems
            self.create_error = ""
            if any(problems.values()):
                return
            token = await self._token()
            tenant = self.new_tenant
        draft = UserDraft(
            account=form.get("account", "").strip(),
            real_name=form.get("real_name", "").strip(),
            tenant_code=tenant,
            id_type=form.get("id_type") or "1",
            id_number=form.get("id_number", "").strip(),
            phone=form.get("phone", "").strip(),
            post=form.get("post", "").strip(),
            org_id=int(form["org_id"]) if form.get("org_id", "none") not in ("", "none") else None,
        )
        outcome: Outcome = await call(
            token, lambda s, a: user_service.create_user(session=s, actor=a, draft=draft)
        )
        async with self:
            if not outcome.ok:
                self.create_error = outcome.error_text
                return
            _row, password = outcome.value
            self.one_time_password, self.one_time_account = password, draft.account
        yield UsersState.load

    # --- export -------------------------------------------------------------------------

    @rx.event(background=True)
    async def export(self):
        """Download the filtered list as CSV, masked as on screen (the export is logged)."""
        async with self:
            query = self._query()

        async for event in self._download_csv(
            lambda s, a: user_service.export_users(session=s, actor=a, query=query),
            filename="用户列表.csv",
            done="已导出 {count} 条（个人信息已脱敏）",
            busy="exporting",
        ):
            yield event

    # --- edit ---------------------------------------------------------------------------

    @rx.event
    def open_edit(self, user_id: int):
        """Edit an account: personal fields show masked and stay unchanged when left blank."""
        row = next(r for r in self.rows if r.id == user_id)
        self.edit_open, self.edit_id, self.edit_account = True, row.id, row.account
        self.edit_masked_name, self.edit_masked_id = row.real_name, row.id_number
        self.edit_masked_phone, self.edit_post = row.phone, row.post
        self.edit_org, self.edit_multi, self.edit_error = row.org_id or "none", row.multi, ""
        return UsersState.load_orgs(row.tenant_code)

    @rx.event
    def set_edit_org(self, value: str) -> None:
        """Organisation in the edit form."""
        self.edit_org = value

    @rx.event
    def set_edit_multi(self, value: bool) -> None:
        """Whether the account may have several sessions at once."""
        self.edit_multi = value

    @rx.event(background=True)
    async def save_edit(self, form: dict[str, str]):
        """Apply the edits; blank personal fields keep their stored values."""
        async with self:
            user_id = self.edit_id
            patch = user_service.UserPatch(
                real_name=form.get("real_name", "").strip() or None,
                id_number=form.get("id_number", "").strip() or None,
                phone=form.get("phone", "").strip() or None,
                post=form.get("post", ""),
                org_id=0 if self.edit_org == "none" else int(self.edit_org),
                allow_multi_session=self.edit_multi,
            )
        async for event in self._submit(
            lambda s, a: user_service.update_user(session=s, actor=a, user_id=user_id, patch=patch),
            dialog="edit",
            error="edit_error",
            success="用户信息已保存",
        ):
            yield event

    # --- bulk ---------------------------------------------------------------------------

    @rx.event
    def toggle_selected(self, user_id: int, checked: bool) -> None:
        """Tick or untick a row for a bulk action."""
        chosen = set(self.selected_ids)
        chosen.add(user_id) if checked else chosen.discard(user_id)
        self.selected_ids = sorted(chosen)

    @rx.event
    def ask_bulk(self, enable: bool) -> None:
        """Confirm a bulk enable/disable."""
        self.bulk_open, self.bulk_enable = True, enable

    @rx.event(background=True)
    async def confirm_bulk(self):
        """Apply the bulk action to every ticked account (all checked before any changes)."""
        async with self:
            ids, enable = list(self.selected_ids), self.bulk_enable
            self.bulk_open = False
        async for event in self._submit(
            lambda s, a: user_service.set_status_many(
                session=s, actor=a, user_ids=ids, enabled=enable
            ),
            dialog="bulk",
            error=None,
            success=f"已{'启用' if enable else '停用'} {len(ids)} 个账号",
            done=self._forget_selection,
        ):
            yield event

    def _forget_selection(self, _done: object = None) -> None:
        """A selection belongs to the rows it was made on."""
        self.selected_ids = []

    # --- enable / disable ---------------------------------------------------------------

    @rx.event
    def ask_status(self, user_id: int, account: str, enable: bool) -> None:
        """Ask before enabling or disabling an account."""
        self.confirm_open, self.confirm_target = True, user_id
        self.confirm_account, self.confirm_enable = account, enable

    @rx.event(background=True)
    async def confirm_status(self):
        """Apply the confirmed enable/disable."""
        async with self:
            target, enable = self.confirm_target, self.confirm_enable
            self.confirm_open = False
        async for event in self._act(
            lambda s, a: user_service.set_status(
                session=s, actor=a, user_id=target, enabled=enable
            ),
            "已启用账号" if enable else "已停用账号",
        ):
            yield event

    # --- unlock / reset --------------------------------------------------------------------

    @rx.event(background=True)
    async def reset_password(self, user_id: int, account: str):
        """安全管理员: unlock and issue a one-time password, shown once."""

        def show(password: str) -> rx.event.EventHandler:
            self.create_open, self.form_errors = True, {}
            self.one_time_password, self.one_time_account = password, account
            return self._reload()

        async for event in self._open_with(
            lambda s, a: user_service.unlock_and_reset(session=s, actor=a, user_id=user_id), show
        ):
            yield event

    # --- roles --------------------------------------------------------------------------------

    @rx.event(background=True)
    async def open_roles(self, user_id: int, account: str):
        """Load the role choices and the user's current roles."""

        def fetch(session: Session, actor: Actor) -> tuple[list[role_service.RoleRow], set[str]]:
            roles = role_service.list_roles(session=session, actor=actor)
            current = user_service.role_codes(session=session, actor=actor, user_id=user_id)
            return roles, current

        def show(value: tuple[list[role_service.RoleRow], set[str]]) -> None:
            roles, current = value
            self.role_choices = [RoleChoice(r.code, r.name, r.category) for r in roles]
            self.selected_roles = sorted(current)
            self.role_target, self.role_account, self.role_open = user_id, account, True

        async for event in self._open_with(fetch, show):
            yield event

    @rx.event
    def toggle_role(self, code: str, checked: bool) -> None:
        """Tick or untick a role in the dialog."""
        chosen = set(self.selected_roles)
        chosen.add(code) if checked else chosen.discard(code)
        self.selected_roles = sorted(chosen)

    @rx.event(background=True)
    async def save_roles(self):
        """Replace the user's roles; they apply at the user's next action."""
        async with self:
            target, roles = self.role_target, tuple(self.selected_roles)
        async for event in self._submit(
            lambda s, a: user_service.assign_roles(session=s, actor=a, user_id=target, roles=roles),
            dialog="role",
            error=None,
            success="角色已更新，用户下一次操作时生效",
        ):
            yield event

    # --- 一体化平台 sync ------------------------------------------------------------------

    @rx.event
    def set_sync_open(self, value: bool) -> None:
        """Open or close the sync dialog."""
        self.sync_open = value
        if value:
            self.sync_summary, self.sync_rejected = "", []

    @rx.event
    async def upload_sync(self, files: list[rx.UploadFile]):
        """Receive the CSV/JSON file, then sync it in the background."""
        if not files:
            self.sync_summary = "请先选择 CSV 或 JSON 文件"
            return None
        self._sync_payload = await files[0].read()
        self._sync_filename = files[0].name or "upload.csv"
        self.sync_running, self.sync_summary, self.sync_rejected = True, "正在同步…", []
        return UsersState.run_sync

    @rx.event(background=True)
    async def run_sync(self):
        """Apply the uploaded batch record by record and show each rejected line."""
        async with self:
            token, payload, name = await self._token(), self._sync_payload, self._sync_filename
            self._sync_payload = b""

        def apply(session, actor):
            records = sync_service.parse_records(payload, name)
            return sync_service.sync_users(session=session, actor=actor, records=records)

        outcome = await call(token, apply)
        async with self:
            self.sync_running = False
            if not outcome.ok or outcome.value is None:
                self.sync_summary = outcome.error or outcome.relogin
                return
            report = outcome.value
            counts = report.as_dict()
            self.sync_summary = (
                f"新增 {counts['created']} · 更新 {counts['updated']} · "
                f"停用 {counts['disabled']} · 未变 {counts['unchanged']} · "
                f"拒绝 {counts['rejected']}"
            )
            self.sync_rejected = [
                SyncLine(o.line, o.account, o.reason)
                for o in report.outcomes
                if o.outcome == "rejected"
            ]
        yield UsersState.load

    # --- effective permissions ----------------------------------------------------------

    @rx.event(background=True)
    async def explain(self, user_id: int, account: str):
        """Why this user can or cannot do each thing in the catalogue."""

        def show(verdicts: list[user_service.PermissionVerdict]) -> None:
            self.verdicts = [
                VerdictView(v.label, v.allowed, "、".join(v.via) or "无角色授予") for v in verdicts
            ]
            self.explain_account, self.explain_open = account, True

        async for event in self._open_with(
            lambda s, a: user_service.effective_permissions(session=s, actor=a, user_id=user_id),
            show,
        ):
            yield event

    # --- reveal ---------------------------------------------------------------------------

    @rx.event
    def open_reveal(self, user_id: int, account: str) -> None:
        """Ask which value to reveal and why."""
        self.reveal_target, self.reveal_account = user_id, account
        self.reveal_open, self.reveal_value, self.reveal_error = True, "", ""

    @rx.event
    def set_reveal_open(self, value: bool) -> None:
        """Close the reveal dialog and forget the revealed value."""
        self.reveal_open = value
        if not value:
            self.reveal_value = ""

    @rx.event
    def set_reveal_field(self, value: str) -> None:
        """Which value to reveal."""
        self.reveal_field, self.reveal_value = value, ""

    @rx.event(background=True)
    async def reveal(self, form: dict[str, str]):
        """Reveal one value after a stated reason (logged)."""
        async with self:
            target, field = self.reveal_target, self.reveal_field
        reason = form.get("reason", "")
        outcome = await self._call(
            lambda s, a: user_service.reveal(
                session=s, actor=a, user_id=target, field_name=field, reason=reason
            )
        )
        async with self:
            if outcome.ok:
                self.reveal_value, self.reveal_error = outcome.value or "（未填写）", ""
            else:
                self.reveal_value, self.reveal_error = "", outcome.error or outcome.relogin


ID_TYPE_OPTIONS = list(ID_TYPES.items())
REVEAL_OPTIONS = list(REVEALABLE.items())


# The session and permission are checked, and the size capped, before the file is read.
register_upload(
    UsersState.upload_sync,
    obj="iam.users",
    action="write",
    max_bytes=MAX_UPLOAD_BYTES,
    label="用户同步文件",
)
