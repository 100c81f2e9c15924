"""一体化平台用户信息同步: create, update and disable accounts from a batch; never touch roles."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import Session, select

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.crypto import keyring
from console.core.errors import UserError, ValidationFailed
from console.core.tabular import read_table
from console.iam.inactivity_service import NO_PASSWORD as INACTIVITY_NO_PASSWORD
from console.iam.login_session_service import end_open_sessions
from console.iam.models import APPLICANT, STAFF, USER_CATEGORIES, Organization, User, UserStatus
from console.iam.separation import holds_admin_role
from console.iam.token_service import revoke_all_tokens
from console.iam.user_service import OBJ, UserDraft, check_person, insert_user, protect
from console.tenancy.scope import Scope, scope_of

MAX_RECORDS = 5000
SYNC_TARGET = "一体化平台同步"
NO_PASSWORD = INACTIVITY_NO_PASSWORD


@dataclass(frozen=True)
class SyncOutcome:
    """What happened to one record: created, updated, unchanged, disabled or rejected."""

    line: int
    account: str
    outcome: str
    reason: str = ""


@dataclass
class SyncReport:
    """Counts and per-record outcomes of one batch."""

    outcomes: list[SyncOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """How many records ended with ``outcome``."""
        return sum(1 for item in self.outcomes if item.outcome == outcome)

    def as_dict(self) -> dict[str, Any]:
        """JSON body of the API answer."""
        kinds = ("created", "updated", "unchanged", "disabled", "rejected")
        return {
            **{kind: self.count(kind) for kind in kinds},
            "records": [asdict(item) for item in self.outcomes],
        }


def parse_records(content: bytes, filename: str) -> list[dict[str, str]]:
    """Rows of an uploaded CSV or XLSX (header row) or JSON (list, or {"records": [...]}) file.

    Raises:
        ValidationFailed: the file cannot be read as any of these formats.
    """
    if not filename.lower().endswith(".json"):
        rows = read_table(content, filename, required=("account", "real_name", "tenant_code"))
        return [_clean(row.values) for row in rows]
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValidationFailed("JSON 文件应为 UTF-8 编码", field="文件") from None
    except json.JSONDecodeError as error:
        raise ValidationFailed(f"JSON 格式错误（第 {error.lineno} 行）", field="文件") from None
    rows = data.get("records", []) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValidationFailed('JSON 应为记录数组或 {"records": [...]}', field="文件")
    return [_clean(row) for row in rows]


def _clean(row: dict) -> dict[str, str]:
    """Text values; a missing cell (short CSV row) or JSON null is empty, never "None"."""
    return {str(k): "" if v is None else str(v).strip() for k, v in row.items() if k is not None}


def _org_id(session: Session, tenant_code: str, uscc: str) -> int | None:
    if not uscc:
        return None
    org = session.exec(
        select(Organization).where(
            Organization.tenant_code == tenant_code, Organization.uscc == uscc.upper()
        )
    ).first()
    if org is None:
        raise ValidationFailed(
            f"租户 {tenant_code} 下没有统一社会信用代码为 {uscc} 的机构", field="org_uscc"
        )
    return org.id


# ``User.disabled_reason`` of an account the 一体化平台 disabled (sync may enable it again).
SYNC_DISABLED = "sync"


# A record's category by its code or its label; 共享部门 is the guide's own word for contacts.
_CATEGORY_OF = {
    **{code: code for code in USER_CATEGORIES},
    **{label: code for code, label in USER_CATEGORIES.items()},
    "共享部门": "sharing_contact",
}


def _category(row: dict[str, str]) -> str:
    given = (row.get("category") or STAFF).strip()
    if given not in _CATEGORY_OF:
        choices = "、".join(f"{code}（{label}）" for code, label in USER_CATEGORIES.items())
        raise ValidationFailed(f"应为 {choices} 之一", field="category")
    return _CATEGORY_OF[given]


def _apply(session: Session, row: dict[str, str]) -> str:
    account = row.get("account", "").strip()
    tenant = row.get("tenant_code", "").strip()
    status = (row.get("status") or "active").strip()
    if status not in ("active", "disabled"):
        raise ValidationFailed("应为 active 或 disabled", field="status")
    category = _category(row)
    org_id = _org_id(session, tenant, row.get("org_uscc", "").strip())
    existing = session.exec(select(User).where(User.account == account)).first()
    if existing is None:
        if status == "disabled":
            return "unchanged"
        draft = UserDraft(
            account=account,
            real_name=row.get("real_name", ""),
            tenant_code=tenant,
            id_type=row.get("id_type") or "1",
            id_number=row.get("id_number", ""),
            phone=row.get("phone", ""),
            org_id=org_id,
            post=row.get("post", ""),
            category=category,
        )
        # Synced accounts get no usable password ("!" is no Argon2 hash, so nothing matches):
        # 安全管理员 issues one with 解锁并重置密码 when the person needs to log in here.
        insert_user(session, draft, password_hash=NO_PASSWORD)
        return "created"
    if existing.tenant_code != tenant:
        raise ValidationFailed(
            f"账号已属于租户 {existing.tenant_code}，不能改到 {tenant}", field="tenant_code"
        )
    return _update_existing(session, existing, row, org_id=org_id, status=status, category=category)


def _update_existing(
    session: Session,
    user: User,
    row: dict[str, str],
    *,
    org_id: int | None,
    status: str,
    category: str,
) -> str:
    ring = keyring()
    check_person(
        row.get("real_name", ""),
        row.get("id_type") or "1",
        row.get("id_number", ""),
        row.get("phone", ""),
    )
    wanted = {
        "real_name_digest": ring.digest(row.get("real_name", "")),
        "id_number_digest": ring.digest(row["id_number"]) if row.get("id_number") else None,
        "phone_digest": ring.digest(row["phone"]) if row.get("phone") else None,
    }
    changed = any(getattr(user, name) != value for name, value in wanted.items())
    changed |= (org_id, row.get("post", "").strip()) != (user.org_id, user.post)
    if category != user.category:
        if category == APPLICANT and authz.roles_by_user(session, user_ids=[user.id])[user.id]:
            raise ValidationFailed(
                "账号持有角色，不能改为申请人（申请人不登录控制台）", field="category"
            )
        if category == APPLICANT:  # applicants never sign in: whatever was open ends now
            end_open_sessions(session, user_id=user.id, reason="账号改为申请人")
            revoke_all_tokens(session, user_id=user.id)
        user.category, changed = category, True
    if changed:
        protect(
            user,
            real_name=row.get("real_name", ""),
            id_number=row.get("id_number", ""),
            phone=row.get("phone", ""),
        )
        user.org_id, user.post = org_id, row.get("post", "").strip()
    disabling = status == "disabled" and user.status != UserStatus.DISABLED.value
    enabling = status == "active" and user.status == UserStatus.DISABLED.value
    if enabling and user.disabled_reason != SYNC_DISABLED:
        enabling = False  # disabled here (by a person, or idle): only a person here enables it
    if (disabling or enabling) and holds_admin_role(session, user.id):
        raise ValidationFailed("三员账号只能由安全管理员在控制台启用或停用", field="status")
    if disabling or enabling:
        user.status = status
        user.disabled_reason = SYNC_DISABLED if disabling else ""
    if disabling:
        revoke_all_tokens(session, user_id=user.id)
    if not (changed or disabling or enabling):
        return "unchanged"
    user.updated_at = utcnow()
    session.add(user)
    return "disabled" if disabling else "updated"


def sync_users(*, session: Session, actor: Actor, records: list[dict[str, str]]) -> SyncReport:
    """Apply a batch uploaded by a console user (needs 用户管理 · 新增/修改)."""
    authz.require(actor, OBJ, "write", target=SYNC_TARGET)
    return _run(session, actor, scope_of(actor), records)


def sync_users_from_platform(
    *, session: Session, actor: Actor, scope: Scope, records: list[dict[str, str]]
) -> SyncReport:
    """Apply a batch the 一体化平台 pushed through the API.

    The API layer has already checked the caller (its key and the ``iam.sync`` scope); here
    ``actor`` is the principal the batch is logged as and ``scope`` the tenants its records may
    belong to (records of any other tenant are rejected one by one).
    """
    return _run(session, actor, scope, records)


def _run(session: Session, actor: Actor, scope: Scope, records: list[dict[str, str]]) -> SyncReport:
    """Record by record: good records are kept, each bad one is reported."""
    if len(records) > MAX_RECORDS:
        raise ValidationFailed(
            f"一次最多同步 {MAX_RECORDS} 条，本次 {len(records)} 条", field="记录"
        )
    report = SyncReport()
    for line, row in enumerate(records, start=1):
        account = str(row.get("account", "")).strip()
        tenant = str(row.get("tenant_code", "")).strip()
        if not scope.allows(tenant):
            report.outcomes.append(
                SyncOutcome(line, account, "rejected", f"租户 {tenant} 不在您的数据范围内")
            )
            continue
        try:
            with session.begin_nested():  # one bad record rolls back only itself
                outcome = _apply(session, _clean(row))
        except UserError as problem:
            reason = f"{problem.field}：{problem.message}" if problem.field else problem.message
            report.outcomes.append(SyncOutcome(line, account, "rejected", reason))
            continue
        report.outcomes.append(SyncOutcome(line, account, outcome))
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="sync",
        target=SYNC_TARGET,
        detail={
            kind: report.count(kind)
            for kind in ("created", "updated", "unchanged", "disabled", "rejected")
        },
    )
    return report
