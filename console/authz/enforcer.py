"""One Casbin enforcer per process, reloaded whenever the policy version in the DB moves."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import casbin
import sqlalchemy as sa
from sqlalchemy_adapter import Adapter

from console.authz.models import CasbinRule, PolicyVersion
from console.core.db import engine_for
from console.core.settings import get_settings

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
MODEL_PATH = POLICY_DIR / "model.conf"
ANY_DOMAIN = "*"


def domain_matches(request_domain: str, policy_domain: str) -> bool:
    """A role held in ``*`` holds in every tenant; otherwise only in its own."""
    return policy_domain in (ANY_DOMAIN, request_domain)


@dataclass
class _Loaded:
    url: str
    version: int
    enforcer: casbin.Enforcer


_lock = threading.RLock()
_loaded: _Loaded | None = None


def _version(url: str) -> int:
    with engine_for(url).connect() as connection:
        value = connection.execute(
            sa.select(PolicyVersion.version).where(PolicyVersion.id == 1)
        ).scalar()
    return int(value or 0)


def _build(url: str) -> casbin.Enforcer:
    # sqlalchemy-adapter (pycasbin's own) reads our Alembic-managed table; it never creates one.
    adapter = Adapter(engine_for(url), db_class=CasbinRule, create_table=False)
    enforcer = casbin.Enforcer(str(MODEL_PATH), adapter)
    enforcer.add_named_domain_matching_func("g", domain_matches)
    enforcer.build_role_links()
    return enforcer


def get_enforcer() -> casbin.Enforcer:
    """The enforcer for the configured DB, as fresh as the policy version says."""
    global _loaded
    url = get_settings().db_url
    version = _version(url)
    with _lock:
        if _loaded is None or _loaded.url != url or _loaded.version != version:
            _loaded = _Loaded(url=url, version=version, enforcer=_build(url))
        return _loaded.enforcer


def enforce(subject: str, domain: str, obj: str, act: str) -> bool:
    """Casbin's decision, under the process lock (the enforcer is not thread-safe)."""
    enforcer = get_enforcer()
    with _lock:
        return bool(enforcer.enforce(subject, domain, obj, act))


def enforce_many(subject: str, domain: str, requests: list[tuple[str, str]]) -> list[bool]:
    """Several decisions against one policy snapshot (one version check)."""
    enforcer = get_enforcer()
    with _lock:
        return [bool(enforcer.enforce(subject, domain, obj, act)) for obj, act in requests]


def grouping_for(subject: str) -> list[tuple[str, str]]:
    """(role, domain) pairs assigned to ``subject``."""
    enforcer = get_enforcer()
    with _lock:
        rows = enforcer.get_filtered_grouping_policy(0, subject)
    return [(row[1], row[2]) for row in rows]


def permissions_of_role(role_subject: str) -> list[tuple[str, str, str]]:
    """(domain, object, action) rules of a role."""
    enforcer = get_enforcer()
    with _lock:
        rows = enforcer.get_filtered_policy(0, role_subject)
    return [(row[1], row[2], row[3]) for row in rows]
