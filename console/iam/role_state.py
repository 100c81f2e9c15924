"""State of the 角色权限 page: roles, their permission tree, copy and delete."""

from __future__ import annotations

import dataclasses

import reflex as rx
from sqlmodel import Session

from console.authz import service as authz
from console.authz.catalogue import ACTION_LABELS, CATALOGUE
from console.core.actor import Actor
from console.iam import role_service
from console.iam.state import TenantOption
from console.tenancy import service as tenancy
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin


@dataclasses.dataclass(frozen=True)
class RoleView:
    """One role row."""

    code: str
    name: str
    category: str
    scope: str
    description: str
    builtin: bool
    holders: int
    permissions: int
    scope_label: str
    second_factor: bool = False


@dataclasses.dataclass(frozen=True)
class PermissionCell:
    """One tickable permission: ``key`` is ``object:action``."""

    key: str
    label: str


@dataclasses.dataclass(frozen=True)
class PermissionGroup:
    """One catalogue object with its actions, for the permission tree."""

    group: str
    label: str
    cells: list[PermissionCell]


PERMISSION_TREE = [
    PermissionGroup(
        r.group,
        r.label,
        [PermissionCell(f"{r.code}:{act}", ACTION_LABELS[act]) for act in r.actions],
    )
    for r in CATALOGUE
]


def _pairs(keys: list[str]) -> set[tuple[str, str]]:
    return {tuple(key.split(":", 1)) for key in keys}  # type: ignore[misc]


class RolesState(PagedListMixin, FormMixin, rx.State):
    """角色权限."""

    rows: list[RoleView] = []
    can_write: bool = False
    can_delete: bool = False
    tenant_options: list[TenantOption] = []

    editor_open: bool = False
    editor_mode: str = "edit"  # edit | create | copy
    editor_code: str = ""
    editor_name: str = ""
    selected: list[str] = []
    editor_error: str = ""

    @rx.event(background=True)
    async def load(self):
        """Fetch every role (a province has tens of roles: no paging needed)."""

        def prepare():  # inside the state lock: read what the fetch needs
            def fetch(session, actor):
                roles = role_service.list_roles(session=session, actor=actor)
                names = dict(tenancy.tenant_choices(session=session, actor=actor))
                rights = (
                    authz.can(actor, "iam.roles", "write"),
                    authz.can(actor, "iam.roles", "delete"),
                )
                return roles, rights, names

            return fetch

        def show(value):  # inside the state lock: what the page shows
            roles, (self.can_write, self.can_delete), names = value
            self.tenant_options = [TenantOption(code, name) for code, name in names.items()]
            self.rows = [
                RoleView(
                    r.code,
                    r.name,
                    r.category,
                    r.scope,
                    r.description,
                    r.builtin,
                    r.holders,
                    r.permissions,
                    names.get(r.tenant_code, r.tenant_code) or "全省",
                    r.second_factor,
                )
                for r in roles
            ]
            self.total = len(self.rows)

        async for event in self._load_page(prepare, show):
            yield event

    @rx.event(background=True)
    async def set_second_factor(self, code: str, required: bool):
        """Switch the role's second-factor requirement (the service checks the permission)."""
        async for event in self._act(
            lambda session, actor: role_service.set_second_factor(
                session=session, actor=actor, code=code, required=required
            ),
            "已要求该角色使用动态验证码登录" if required else "已取消该角色的动态验证码要求",
        ):
            yield event

    @rx.event(background=True)
    async def open_editor(self, code: str, name: str, mode: str):
        """Edit a role's permissions, or start a copy of it."""

        def show(permissions: set[tuple[str, str]]) -> None:
            self.selected = sorted(f"{o}:{a}" for o, a in permissions)
            self.editor_mode, self.editor_code = mode, code
            self.editor_name = name if mode == "edit" else f"{name}（副本）"
            self.editor_error, self.editor_open = "", True

        async for event in self._open_with(
            lambda s, a: role_service.permissions_of(session=s, actor=a, code=code), show
        ):
            yield event

    @rx.event
    def open_create(self) -> None:
        """A new role with no permissions."""
        self.selected, self.editor_mode, self.editor_code = [], "create", ""
        self.editor_name, self.editor_error, self.editor_open = "", "", True

    @rx.event
    def toggle(self, key: str, checked: bool) -> None:
        """Tick or untick one permission."""
        chosen = set(self.selected)
        chosen.add(key) if checked else chosen.discard(key)
        self.selected = sorted(chosen)

    @rx.event(background=True)
    async def save(self, form: dict[str, str]):
        """Save the permissions (edit) or create the new role (create/copy)."""
        async with self:
            mode, code = self.editor_mode, self.editor_code
            permissions = _pairs(self.selected)
        new_code, new_name = form.get("code", "").strip(), form.get("name", "").strip()
        scope = form.get("scope") or "*"
        category = form.get("category") or "业务"

        def apply(session, actor):
            if mode == "edit":
                return role_service.set_permissions(
                    session=session, actor=actor, code=code, permissions=permissions
                )
            return role_service.create_role(
                session=session,
                actor=actor,
                tenant_code=None if scope == "*" else scope,
                code=new_code,
                name=new_name,
                category=category,
                permissions=permissions,
            )

        async for event in self._submit(
            apply,
            dialog="editor",
            error="editor_error",
            success="角色已保存，持有该角色的用户下一次操作时生效",
        ):
            yield event

    def _delete_one(self, session: Session, actor: Actor, key: str) -> None:
        role_service.delete_role(session=session, actor=actor, code=key)

    def _deleted_text(self) -> str:
        return "角色已删除"
