"""Finding and adding definitions and versions: plain queries, no permission checks.

The services check the actor first; the seed uses the same lookups for the templates.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from console.core.actor import Actor
from console.workflows.models import Definition, Kind, Status, Version


def owned(session: Session, kind: Kind, key: str, tenant: str) -> Definition | None:
    """The definition of ``key`` that ``tenant`` owns, reverted or not."""
    return session.exec(
        select(Definition).where(
            Definition.kind == kind.value, Definition.key == key, Definition.tenant_code == tenant
        )
    ).first()


def active(definition: Definition | None) -> Definition | None:
    """The definition unless it is a reverted override."""
    return definition if definition is not None and definition.reverted_at is None else None


def versions_of(session: Session, definition: Definition) -> list[Version]:
    """Every version of a definition, newest first."""
    return list(
        session.exec(
            select(Version)
            .where(Version.definition_id == definition.id)
            .order_by(Version.number.desc())  # type: ignore[attr-defined]
        ).all()
    )


def version_numbered(session: Session, definition: Definition, number: int) -> Version | None:
    """Version ``number`` of a definition, if there is one."""
    return session.exec(
        select(Version).where(Version.definition_id == definition.id, Version.number == number)
    ).first()


def published(session: Session, definition: Definition | None) -> Version | None:
    """The newest published version in force: for an override, published since it began."""
    if definition is None:
        return None
    statement = select(Version).where(
        Version.definition_id == definition.id, Version.status == Status.PUBLISHED.value
    )
    if definition.overridden_at is not None:
        statement = statement.where(Version.published_at >= definition.overridden_at)  # type: ignore[operator]
    return session.exec(statement.order_by(Version.number.desc())).first()  # type: ignore[attr-defined]


def draft_of(session: Session, definition: Definition) -> Version | None:
    """The definition's draft, if it has one."""
    return session.exec(
        select(Version).where(
            Version.definition_id == definition.id, Version.status == Status.DRAFT.value
        )
    ).first()


def _next_number(session: Session, definition: Definition) -> int:
    top = session.scalar(
        sa.select(sa.func.max(Version.number)).where(Version.definition_id == definition.id)
    )
    return int(top or 0) + 1


def new_version(
    session: Session, actor: Actor, definition: Definition, body: str, based_on: str
) -> Version:
    """A new draft of ``definition`` holding ``body``, numbered after every earlier version."""
    assert definition.id is not None
    version = Version(
        definition_id=definition.id,
        number=_next_number(session, definition),
        body=body,
        based_on=based_on,
        created_by=actor.account,
    )
    session.add(version)
    session.flush()
    return version
