"""User accounts: create, list (masked, searchable by digest), edit, status, roles, reveal."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from console.audit.service import record, record_denial, separation_refusals_logged
from console.authz import service as authz
from console.authz.catalogue import all_permissions, describe
from console.core.actor import Actor
from console.core.clock import to_local_text, utcnow
from console.core.crypto import keyring
from console.core.errors import Forbidden, NotFound, UserError, ValidationFailed
from console.core.exporting import EXPORT_ROW_LIMIT, to_csv
from console.core.identifiers import require_valid, resident_id_problem
from console.core.masking import mask_id_number, mask_name, mask_phone
from console.core.paging import Page, PageRequest, contains, paginate
from console.core.settings import get_settings
from console.dictionaries import lookup
from console.iam.inactivity_service import INACTIVE, exempt_clause
from console.iam.login_session_service import end_open_sessions
from console.iam.models import (
    APPLICANT,
    STAFF,
    USER_CATEGORIES,
    Organization,
    Role,
    User,
    UserStatus,
)
from console.iam.passwords import generate_password, hash_password
from console.iam.role_service import THREE_ADMINS, check_three_admin_permissions
from console.iam.separation import (
    ensure_may_grant_admin,
    ensure_owner_holds_the_keys,
    granted_by,
    holds_admin_role,
)
from console.iam.token_service import revoke_all_tokens
from console.tenancy.models import Tenant
from console.tenancy.scope import ensure_visible, restrict

OBJ = "iam.users"
ACCOUNT_PATTERN = re.compile(r"[a-z][a-z0-9_.]{2,31}")
PHONE_PATTERN = re.compile(r"1\d{10}")
ID_TYPES = {
    "1": "身份证",
    "2": "港澳台身份证",
    "3": "护照",
    "4": "户口簿",
    "5": "军官证（士兵证）",
    "99": "其他",
}
REVEALABLE = {"real_name": "姓名", "id_number": "证件号码", "phone": "手机号"}


@dataclass(frozen=True)
class UserDraft:
    """What an administrator fills in for a new account."""

    account: str
    real_name: str
    tenant_code: str
    id_type: str = "1"
    id_number: str = ""
    phone: str = ""
    org_id: int | None = None
    post: str = ""
    roles: tuple[str, ...] = ()
    category: str = STAFF


@dataclass(frozen=True)
class UserRow:
    """A user as lists show it: personal data masked."""

    id: int
    account: str
    real_name: str
    id_number: str
    phone: str
    tenant_code: str
    tenant_name: str
    org_name: str
    post: str
    roles: list[str] = field(default_factory=list)
    status: str = ""
    status_label: str = ""
    last_login: str = "—"
    org_id: int | None = None
    allow_multi_session: bool = False
    # Holds one of the three administrator roles: resets need a second administrator.
    administrator: bool = False
    category: str = STAFF
    category_label: str = USER_CATEGORIES[STAFF]


@dataclass(frozen=True)
class UserQuery:
    """Filters of the user list."""

    keyword: str = ""
    tenant_code: str | None = None
    status: str | None = None
    org_id: int | None = None
    category: str | None = None  # USER_CATEGORIES; None = every category


def assignment_domain(tenant_code: str) -> str:
    """Province users hold their roles province-wide; county users in their own tenant."""
    return authz.ANY_DOMAIN if tenant_code == get_settings().province_code else tenant_code


def effective_status(user: User) -> str:
    """正常 / 停用 / 锁定 as the list shows it."""
    if user.status == UserStatus.DISABLED.value:
        return "disabled"
    if user.locked_until and user.locked_until > utcnow():
        return "locked"
    return "active"


STATUS_LABELS = {"active": "正常", "disabled": "停用", "locked": "锁定"}


def _decrypt(value: str | None) -> str:
    return keyring().decrypt(value) if value else ""


def display_label(user: User) -> str:
    """Header label: masked real name, or the account when no name is on file."""
    name = _decrypt(user.real_name_enc)
    return mask_name(name) if name else user.account


def _check_draft(session: Session, draft: UserDraft) -> None:
    if not ACCOUNT_PATTERN.fullmatch(draft.account):
        raise ValidationFailed("应为 3-32 位小写字母、数字、下划线或点，以字母开头", field="账号")
    if session.exec(select(User).where(User.account == draft.account)).first():
        raise ValidationFailed(f"账号 {draft.account} 已存在", field="账号")
    check_person(draft.real_name, draft.id_type, draft.id_number, draft.phone)
    if session.get(Tenant, draft.tenant_code) is None:
        raise ValidationFailed(f"租户 {draft.tenant_code} 不存在", field="所属租户")
    if draft.org_id is not None:
        org = session.get(Organization, draft.org_id)
        if org is None or org.tenant_code != draft.tenant_code:
            raise ValidationFailed("所选机构不属于该租户", field="所属机构")


def check_person(real_name: str, id_type: str, id_number: str, phone: str) -> None:
    """Check the personal fields of an account, naming the field at fault."""
    if not 2 <= len(real_name.strip()) <= 30:
        raise ValidationFailed("应为 2 到 30 个字", field="姓名")
    if id_type not in ID_TYPES:
        raise ValidationFailed("请选择证件种类", field="证件种类")
    if id_number and id_type == "1":
        problem = resident_id_problem(id_number, division_known=lookup.division_checker())
        require_valid(problem, field="身份证号")
    if phone and not PHONE_PATTERN.fullmatch(phone):
        raise ValidationFailed("应为11位手机号", field="手机号")


def _check_roles(session: Session, roles: tuple[str, ...], tenant_code: str) -> None:
    admins = sorted(set(roles) & THREE_ADMINS)
    if len(admins) > 1:
        raise ValidationFailed(
            "三员分立：系统管理员、安全管理员、审计管理员不能由同一用户兼任", field="角色"
        )
    known = {role.code: role for role in session.exec(select(Role)).all()}
    unknown = sorted(set(roles) - set(known))
    if unknown:
        raise ValidationFailed(f"角色 {unknown[0]} 不存在", field="角色")
    granted = granted_by(session, set(roles))
    check_three_admin_permissions(granted, holder="同一用户")
    foreign = sorted(code for code in roles if known[code].tenant_code not in (None, tenant_code))
    if foreign:
        raise ValidationFailed(f"角色 {known[foreign[0]].name} 只适用于其他租户", field="角色")


def protect(user: User, *, real_name: str, id_number: str, phone: str) -> None:
    """Encrypt the personal fields into ``user`` with their search digests."""
    ring = keyring()
    user.real_name_enc, user.real_name_digest = ring.protect(real_name.strip())
    user.id_number_enc, user.id_number_digest = (
        ring.protect(id_number.strip().upper()) if id_number else (None, None)
    )
    user.phone_enc, user.phone_digest = ring.protect(phone.strip()) if phone else (None, None)


def insert_user(session: Session, draft: UserDraft, *, password_hash: str) -> User:
    """Store a checked account with protected personal data and its roles (no permission check).

    The caller hashes the password, so scripts creating many accounts can hash once.
    """
    _check_draft(session, draft)
    _check_roles(session, draft.roles, draft.tenant_code)
    if draft.category not in USER_CATEGORIES:
        raise ValidationFailed(f"应为 {'、'.join(USER_CATEGORIES.values())} 之一", field="类别")
    if draft.category == APPLICANT and draft.roles:
        raise ValidationFailed("申请人不登录控制台，不能授予角色", field="角色")
    user = User(
        account=draft.account,
        password_hash=password_hash,
        must_change_password=True,
        tenant_code=draft.tenant_code,
        id_type=draft.id_type,
        org_id=draft.org_id,
        post=draft.post.strip(),
        category=draft.category,
        real_name_enc="",
        real_name_digest="",
    )
    protect(user, real_name=draft.real_name, id_number=draft.id_number, phone=draft.phone)
    session.add(user)
    session.flush()
    assert user.id is not None
    domain = assignment_domain(draft.tenant_code)
    authz.set_user_roles(session, user_id=user.id, roles=[(r, domain) for r in draft.roles])
    return user


def create_user(*, session: Session, actor: Actor, draft: UserDraft) -> tuple[UserRow, str]:
    """Create an account and return it with its one-time password.

    Roles can only be given here by an actor who may also grant them (安全管理员's job).
    """
    authz.require(actor, OBJ, "write", tenant=draft.tenant_code, target=draft.account)
    ensure_visible(actor, draft.tenant_code, obj=OBJ, action="write", target=draft.account)
    if draft.roles:
        authz.require(actor, OBJ, "grant", tenant=draft.tenant_code, target=draft.account)
    password = generate_password()
    user = insert_user(session, draft, password_hash=hash_password(password))
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="create",
        target=draft.account,
        tenant=draft.tenant_code,
        detail={
            "after": {
                "account": draft.account,
                "real_name": mask_name(draft.real_name),
                "roles": list(draft.roles),
            }
        },
    )
    return _rows(session, [user])[0], password


def _rows(session: Session, users: list[User]) -> list[UserRow]:
    tenants = {t.code: t.name for t in session.exec(select(Tenant)).all()}
    org_ids = {u.org_id for u in users if u.org_id}
    orgs: dict[int | None, str] = {}
    if org_ids:
        statement = select(Organization).where(Organization.id.in_(org_ids))  # type: ignore[union-attr]
        orgs = {o.id: o.name for o in session.exec(statement).all()}
    role_names = dict(session.exec(select(Role.code, Role.name)).all())
    held_by = authz.roles_by_user(session, user_ids=[u.id for u in users if u.id is not None])
    rows = []
    for user in users:
        assert user.id is not None
        held = held_by[user.id]
        status = effective_status(user)
        rows.append(
            UserRow(
                id=user.id,
                account=user.account,
                real_name=mask_name(_decrypt(user.real_name_enc)),
                id_number=mask_id_number(_decrypt(user.id_number_enc)),
                phone=mask_phone(_decrypt(user.phone_enc)),
                tenant_code=user.tenant_code,
                tenant_name=tenants.get(user.tenant_code, user.tenant_code),
                org_name=orgs.get(user.org_id, "") if user.org_id else "",
                post=user.post,
                roles=sorted(role_names.get(code, code) for code in held),
                status=status,
                status_label=STATUS_LABELS[status],
                last_login=to_local_text(user.last_login_at),
                org_id=user.org_id,
                allow_multi_session=user.allow_multi_session,
                administrator=bool(held & THREE_ADMINS),
                category=user.category,
                category_label=USER_CATEGORIES.get(user.category, user.category),
            )
        )
    return rows


def _filtered(actor: Actor, query: UserQuery) -> sa.Select:
    """Users in the actor's scope matching the list filters (shared by list and export)."""
    statement = restrict(select(User), User.tenant_code, actor).order_by(User.id)
    keyword = query.keyword.strip()
    if keyword:
        digest = keyring().digest(keyword)
        statement = statement.where(
            sa.or_(
                contains(User.account, keyword.lower()),
                User.real_name_digest == digest,
                User.id_number_digest == digest,
                User.phone_digest == digest,
            )
        )
    if query.tenant_code:
        statement = statement.where(User.tenant_code == query.tenant_code)
    if query.org_id:
        statement = statement.where(User.org_id == query.org_id)
    if query.category:
        statement = statement.where(User.category == query.category)
    if query.status == "disabled":
        statement = statement.where(User.status == UserStatus.DISABLED.value)
    elif query.status == "locked":
        statement = statement.where(User.locked_until > utcnow())
    elif query.status == "inactive":
        statement = statement.where(
            User.status == UserStatus.DISABLED.value, User.disabled_reason == INACTIVE
        )
    elif query.status == "exempt":
        statement = statement.where(exempt_clause())
    elif query.status == "active":
        statement = statement.where(User.status == UserStatus.ACTIVE.value).where(
            sa.or_(User.locked_until.is_(None), User.locked_until <= utcnow())
        )
    return statement


def list_users(
    *,
    session: Session,
    actor: Actor,
    query: UserQuery | None = None,
    page: PageRequest | None = None,
) -> Page[UserRow]:
    """Users in scope; keyword matches account, or exactly a name, ID number or phone."""
    authz.require(actor, OBJ, "read")
    page = page or PageRequest()
    users, total = paginate(session, _filtered(actor, query or UserQuery()), page)
    return Page(_rows(session, users), total, page.page, page.size)


EXPORT_HEADERS = (
    "账号",
    "类别",
    "姓名",
    "证件号码",
    "手机号",
    "所属租户",
    "机构",
    "岗位",
    "角色",
    "状态",
    "最近登录",
)


def export_users(
    *, session: Session, actor: Actor, query: UserQuery | None = None
) -> tuple[str, int]:
    """The filtered list as CSV (masked, like the screen); the export is logged with its size."""
    authz.require(actor, OBJ, "export")
    query = query or UserQuery()
    users = session.exec(_filtered(actor, query).limit(EXPORT_ROW_LIMIT)).all()
    rows = _rows(session, list(users))
    text = to_csv(
        EXPORT_HEADERS,
        (
            [
                r.account,
                r.category_label,
                r.real_name,
                r.id_number,
                r.phone,
                r.tenant_name,
                r.org_name,
                r.post,
                "、".join(r.roles),
                r.status_label,
                r.last_login,
            ]
            for r in rows
        ),
    )
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="export",
        target=f"{len(rows)} 条",
        detail={"rows": len(rows), "filters": asdict(query)},
    )
    return text, len(rows)


def _load(session: Session, actor: Actor, user_id: int, *, action: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    ensure_visible(actor, user.tenant_code, obj=OBJ, action=action, target=user.account)
    return user


def get_user(*, session: Session, actor: Actor, user_id: int) -> UserRow:
    """One user in scope, masked."""
    authz.require(actor, OBJ, "read")
    return _rows(session, [_load(session, actor, user_id, action="read")])[0]


def set_status(*, session: Session, actor: Actor, user_id: int, enabled: bool) -> UserRow:
    """Enable or disable an account; a disabled user is refused at the next action."""
    return _rows(
        session, set_status_many(session=session, actor=actor, user_ids=[user_id], enabled=enabled)
    )[0]


MANUALLY_DISABLED = "manual"
ADMIN_STATUS_REFUSED = "三员分立：只有安全管理员可以启用或停用管理员账号"
OWN_DISABLE_REFUSED = "不能停用自己的账号"


def _ensure_may_switch(session: Session, actor: Actor, user: User, *, enabled: bool) -> None:
    """Administrators' accounts are the security administrator's alone, never their own.

    Raises:
        Forbidden: not the actor's to switch (logged).
        ValidationFailed: disabling one's own account (logged).
    """
    assert user.id is not None
    refusal: UserError | None = None
    if user.id == actor.user_id and not enabled:
        refusal = ValidationFailed(OWN_DISABLE_REFUSED, field="状态")
    elif not holds_admin_role(session, user.id):
        authz.require(actor, OBJ, "write", tenant=user.tenant_code, target=user.account)
    elif not authz.can(actor, OBJ, "unlock", tenant=user.tenant_code):
        refusal = Forbidden(ADMIN_STATUS_REFUSED)
    if refusal is not None:
        record_denial(
            actor=actor, obj=OBJ, action="enable" if enabled else "disable",
            tenant=user.tenant_code, target=user.account, reason=refusal.message,
        )  # fmt: skip
        raise refusal


def set_status_many(
    *, session: Session, actor: Actor, user_ids: list[int], enabled: bool
) -> list[User]:
    """Enable or disable several accounts at once: all are checked before any is changed."""
    if not user_ids:
        raise ValidationFailed("请先勾选用户", field="用户")
    users = [_load(session, actor, uid, action="read") for uid in user_ids]
    for user in users:
        _ensure_may_switch(session, actor, user, enabled=enabled)
    for user in users:
        before = user.status
        user.status = (UserStatus.ACTIVE if enabled else UserStatus.DISABLED).value
        # A person decided now (not the idle job nor the platform's sync, which may not undo it).
        user.disabled_reason = "" if enabled else MANUALLY_DISABLED
        user.updated_at = utcnow()
        session.add(user)
        if not enabled:
            assert user.id is not None
            revoke_all_tokens(session, user_id=user.id)  # a disabled account keeps no tools
        record(
            session,
            actor=actor,
            obj=OBJ,
            action="enable" if enabled else "disable",
            target=user.account,
            tenant=user.tenant_code,
            detail={"before": before, "after": user.status},
        )
    return users


@dataclass(frozen=True)
class UserPatch:
    """Edits of an existing account; ``None`` keeps the stored value (never shown unmasked)."""

    real_name: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    phone: str | None = None
    org_id: int | None = None
    post: str | None = None
    allow_multi_session: bool | None = None


def update_user(*, session: Session, actor: Actor, user_id: int, patch: UserPatch) -> UserRow:
    """Edit an account's personal data, organisation, post and session rule."""
    user = _load(session, actor, user_id, action="write")
    authz.require(actor, OBJ, "write", tenant=user.tenant_code, target=user.account)
    real_name = patch.real_name if patch.real_name is not None else _decrypt(user.real_name_enc)
    id_number = patch.id_number if patch.id_number is not None else _decrypt(user.id_number_enc)
    phone = patch.phone if patch.phone is not None else _decrypt(user.phone_enc)
    id_type = patch.id_type or user.id_type or "1"
    check_person(real_name, id_type, id_number, phone)
    if patch.org_id:  # 0 clears the organisation
        org = session.get(Organization, patch.org_id)
        if org is None or org.tenant_code != user.tenant_code:
            raise ValidationFailed("所选机构不属于该用户的租户", field="所属机构")
    changed = sorted(name for name, value in asdict(patch).items() if value is not None)
    protect(user, real_name=real_name, id_number=id_number, phone=phone)
    user.id_type = id_type
    if patch.org_id is not None:
        user.org_id = patch.org_id or None
    if patch.post is not None:
        user.post = patch.post.strip()
    if patch.allow_multi_session is not None:
        user.allow_multi_session = patch.allow_multi_session
    user.updated_at = utcnow()
    session.add(user)
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="update",
        target=user.account,
        tenant=user.tenant_code,
        detail={"changed": changed},
    )
    return _rows(session, [user])[0]


def org_choices(*, session: Session, actor: Actor, tenant_code: str) -> list[tuple[int, str]]:
    """(id, name) of a tenant's organisations, for the user forms."""
    authz.require(actor, OBJ, "read", tenant=tenant_code)
    ensure_visible(actor, tenant_code, obj=OBJ, action="read", target=tenant_code)
    orgs = session.exec(
        select(Organization)
        .where(Organization.tenant_code == tenant_code)
        .order_by(Organization.sort_order, Organization.id)
    ).all()
    return [(org.id or 0, org.name) for org in orgs]


def unlock_and_reset(*, session: Session, actor: Actor, user_id: int) -> str:
    """安全管理员: unlock and give a new one-time password; the user's sessions end."""
    user = _load(session, actor, user_id, action="unlock")
    authz.require(actor, OBJ, "unlock", tenant=user.tenant_code, target=user.account)
    assert user.id is not None
    if user.id == actor.user_id:
        raise ValidationFailed("请通过「修改密码」更改自己的密码", field="用户")
    if set(authz.user_roles(session, user_id=user.id)) & THREE_ADMINS:
        # Resetting another administrator's password would let one admin act as another.
        raise ValidationFailed(
            "三员账号的重置需另一名管理员确认：请用「申请重置」，或在服务器上运行"
            " python -m console reset-password",
            field="用户",
        )
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_login_count = 0
    user.locked_until = None
    user.updated_at = utcnow()
    session.add(user)
    end_open_sessions(session, user_id=user.id, reason="password_reset")
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="unlock_reset",
        target=user.account,
        tenant=user.tenant_code,
    )
    return password


def _denied_grant(actor: Actor, user: User, check: Callable[[], None]) -> None:
    """Run a three-admin check; a refusal is logged before it propagates."""
    try:
        check()
    except Forbidden as refused:
        record_denial(
            actor=actor, obj=OBJ, action="grant", tenant=user.tenant_code,
            target=user.account, reason=refused.message,
        )  # fmt: skip
        raise


def assign_roles(*, session: Session, actor: Actor, user_id: int, roles: tuple[str, ...]) -> None:
    """安全管理员: replace a user's roles; takes effect at the user's next action."""
    user = _load(session, actor, user_id, action="grant")
    authz.require(actor, OBJ, "grant", tenant=user.tenant_code, target=user.account)
    assert user.id is not None
    user_id = user.id
    _denied_grant(
        actor, user,
        lambda: ensure_may_grant_admin(
            session, actor=actor, user_id=user_id, account=user.account, roles=set(roles)
        ),
    )  # fmt: skip
    if user.id == actor.user_id:
        raise ValidationFailed("不能修改自己的角色", field="角色")
    if user.category == APPLICANT and roles:
        raise ValidationFailed("申请人不登录控制台，不能授予角色", field="角色")
    with separation_refusals_logged(
        actor=actor, obj=OBJ, action="grant", tenant=user.tenant_code, target=user.account
    ):
        _check_roles(session, roles, user.tenant_code)
    _denied_grant(
        actor, user, lambda: ensure_owner_holds_the_keys(session, user_id=user_id, roles=set(roles))
    )
    before = sorted(authz.user_roles(session, user_id=user.id))
    domain = assignment_domain(user.tenant_code)
    authz.set_user_roles(session, user_id=user.id, roles=[(r, domain) for r in roles])
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="assign_roles",
        target=user.account,
        tenant=user.tenant_code,
        detail={"before": before, "after": sorted(roles)},
    )


def role_codes(*, session: Session, actor: Actor, user_id: int) -> set[str]:
    """Codes of the roles a user holds (for the role dialog)."""
    user = _load(session, actor, user_id, action="read")
    authz.require(actor, OBJ, "read", tenant=user.tenant_code, target=user.account)
    assert user.id is not None
    return set(authz.user_roles(session, user_id=user.id))


def reveal(*, session: Session, actor: Actor, user_id: int, field_name: str, reason: str) -> str:
    """Show one personal value in clear after a stated reason; the reveal is logged."""
    user = _load(session, actor, user_id, action="unmask")
    authz.require(actor, OBJ, "unmask", tenant=user.tenant_code, target=user.account)
    if field_name not in REVEALABLE:
        raise ValidationFailed("只能查看姓名、证件号码或手机号", field="字段")
    if len(reason.strip()) < 4:
        raise ValidationFailed("请说明查看原因（至少 4 个字）", field="查看原因")
    value = _decrypt(getattr(user, f"{field_name}_enc"))
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="unmask",
        target=user.account,
        tenant=user.tenant_code,
        detail={"field": REVEALABLE[field_name], "reason": reason.strip()},
    )
    return value


@dataclass(frozen=True)
class PermissionVerdict:
    """Whether a user holds one permission, and through which roles."""

    obj: str
    act: str
    label: str
    allowed: bool
    via: list[str]


def effective_permissions(
    *, session: Session, actor: Actor, user_id: int
) -> list[PermissionVerdict]:
    """Every catalogue permission with yes/no and the roles granting it ("why can/can't")."""
    user = _load(session, actor, user_id, action="read")
    authz.require(actor, "iam.roles", "read", target=user.account)
    assert user.id is not None
    held = authz.user_roles(session, user_id=user.id)
    names = dict(session.exec(select(Role.code, Role.name)).all())
    granted: dict[tuple[str, str], list[str]] = {}
    for code in held:
        for permission in authz.role_permissions(session, role_code=code):
            granted.setdefault(permission, []).append(names.get(code, code))
    return [
        PermissionVerdict(
            obj, act, describe(obj, act), (obj, act) in granted, sorted(granted.get((obj, act), []))
        )
        for obj, act in all_permissions()
    ]


def count_by_tenant(session: Session, codes: list[str]) -> dict[str, int]:
    """Number of accounts in each of the tenants ``codes`` (absent when none)."""
    statement = (
        sa.select(User.tenant_code, sa.func.count())
        .where(User.tenant_code.in_(codes))  # type: ignore[attr-defined]
        .group_by(User.tenant_code)
    )
    return {code: int(count) for code, count in session.execute(statement).all()}
