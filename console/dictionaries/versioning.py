"""The dictionary version counter every process's lookup cache follows."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from console.core.db import engine_for
from console.dictionaries.models import DictVersion


def bump_version(session: Session) -> None:
    """Mark the dictionaries changed (same transaction as the change)."""
    row = session.get(DictVersion, 1)
    if row is None:
        session.add(DictVersion(id=1, version=1))
    else:
        row.version += 1
        session.add(row)


def current_version(url: str) -> int:
    """Committed version in the database at ``url``."""
    with engine_for(url).connect() as connection:
        value = connection.execute(
            sa.select(DictVersion.version).where(DictVersion.id == 1)
        ).scalar()
    return int(value or 0)
