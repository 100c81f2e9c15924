"""A small province for permission tests: two counties, one user per built-in role."""

from __future__ import annotations

import csv
import secrets
from dataclasses import dataclass

from sqlmodel import select

from console.authz.enforcer import POLICY_DIR
from console.core.actor import Actor
from console.core.crypto import sm3_hex
from console.core.db import session_scope
from console.core.errors import AuthenticationFailed
from console.iam import service
from console.iam.models import LoginSession, User
from console.iam.passwords import hash_password
from console.iam.user_service import UserDraft, insert_user
from console.tenancy.models import Tenant

PASSWORD = "World#Pass2026"
# Hashed once: Argon2 is deliberately slow, and every account here shares the password.
PASSWORD_HASH = hash_password(PASSWORD)
PROVINCE = "330000"
XIHU = "330106"
BINJIANG = "330108"
PROVINCE_ROLES = {"sys_admin", "sec_admin", "audit_admin", "province_supervisor"}


def builtin_roles() -> list[str]:
    """Codes of the built-in roles, from the seed file the console loads."""
    with (POLICY_DIR / "roles.csv").open(encoding="utf-8") as handle:
        return [row["code"] for row in csv.DictReader(handle)]


@dataclass
class World:
    """Accounts by role code (``<role>``), plus a 滨江区 county admin and a plain 西湖区 user."""

    accounts: dict[str, str]

    def actor(self, key: str) -> Actor:
        """A fresh session of the account behind ``key``, resolved as every request is.

        Opening the session directly skips Argon2 (0.15 s a call, and tests ask for actors
        thousands of times); tests of sign-in itself call ``service.authenticate``.
        """
        return actor_of(self.accounts[key])


def actor_of(account: str) -> Actor:
    """A fresh session of ``account``, opened directly (no Argon2) and resolved as a request is."""
    token = secrets.token_urlsafe(32)
    with session_scope() as session:
        user = session.exec(select(User).where(User.account == account)).one()
        session.add(LoginSession(token_digest=sm3_hex(token), user_id=user.id))
    with session_scope() as session:
        return service.resolve_session(session=session, token=token)


def add_user(account: str, tenant: str, roles: tuple[str, ...] = (), name: str = "李四") -> int:
    """Insert a ready-to-use account (no forced password change)."""
    with session_scope() as session:
        user = insert_user(
            session,
            UserDraft(account=account, real_name=name, tenant_code=tenant, roles=roles),
            password_hash=PASSWORD_HASH,
        )
        user.must_change_password = False
        session.add(user)
        session.flush()
        assert user.id is not None
        return user.id


def build_world() -> World:
    """Counties 西湖区 and 滨江区, one user per role, and a target user in each county."""
    with session_scope() as session:
        session.add(Tenant(code=XIHU, name="西湖区", parent_code=PROVINCE))
        session.add(Tenant(code=BINJIANG, name="滨江区", parent_code=PROVINCE))
    accounts = {}
    for role in builtin_roles():
        tenant = PROVINCE if role in PROVINCE_ROLES else XIHU
        account = f"u_{role}"
        add_user(account, tenant, (role,))
        accounts[role] = account
    add_user("binjiang_admin", BINJIANG, ("county_admin",))
    accounts["binjiang_admin"] = "binjiang_admin"
    return World(accounts)


def sign_in_answer(account: str, password: str, address: str) -> str:
    """What the person signing in reads ("" when signed in), through Argon2 as in real life."""
    try:
        with session_scope() as session:
            service.authenticate(
                session=session, account=account, password=password, client_ip=address
            )
    except AuthenticationFailed as refused:
        return refused.message
    return ""
