"""流程配置 inheritance: a county overrides a province template (copy on write) or reverts.

An override is the county's own definition; it is served once it has a published version,
and a revert makes the template apply again while its versions stay as history.
"""

from __future__ import annotations

from sqlmodel import Session

from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.errors import NotFound, ValidationFailed
from console.workflows.models import Definition, Kind, Status
from console.workflows.service import (
    editable,
    guard,
    kind_label,
    log_change,
    province_code,
)
from console.workflows.store import draft_of, new_version, owned, published


def override(*, session: Session, actor: Actor, kind: Kind, key: str) -> int:
    """Copy the province template into the viewing county as a draft (copy on write).

    The county keeps following the template until it publishes its copy.
    """
    tenant = guard(actor, "write", kind, key)
    if tenant == province_code():
        raise ValidationFailed("省级模板本身不能覆盖：请先在顶部选择区县", field="租户")
    template = owned(session, kind, key, province_code())
    source = published(session, template)
    if template is None or source is None:
        raise NotFound(f"省级没有已发布的{kind_label(kind)} {key}")
    own = owned(session, kind, key, tenant)
    if own is not None and own.reverted_at is None:
        raise ValidationFailed("本租户已覆盖该设置", field="继承")
    if own is None:
        own = Definition(
            kind=kind.value,
            key=key,
            tenant_code=tenant,
            name=template.name,
            created_by=actor.account,
            overridden_at=utcnow(),
        )
        session.add(own)
        session.flush()
    else:
        _restart(session, own)
    draft = new_version(session, actor, own, source.body, f"省级模板 v{source.number}")
    log_change(session, actor, own, "override", {"template_version": source.number})
    return draft.number


def _restart(session: Session, own: Definition) -> None:
    """A new override period: what was published before the revert stays history."""
    own.reverted_at, own.overridden_at = None, utcnow()
    session.add(own)
    stale = draft_of(session, own)
    if stale is not None:
        stale.status = Status.DISCARDED.value
        session.add(stale)
        session.flush()


def revert(*, session: Session, actor: Actor, kind: Kind, key: str) -> None:
    """Drop the viewing county's override: the province template applies again.

    The override's versions stay as history (they were in force once).
    """
    definition = editable(session, actor, kind, key, action="write")
    if definition.tenant_code == province_code():
        raise ValidationFailed("省级模板不能恢复继承", field="继承")
    if owned(session, kind, key, province_code()) is None:
        raise ValidationFailed("本地自建的设置没有可恢复的省级模板", field="继承")
    definition.reverted_at = utcnow()
    session.add(definition)
    log_change(session, actor, definition, "revert", {})
