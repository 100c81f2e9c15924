"""Server-side paging shared by every list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from console.core.errors import ValidationFailed

T = TypeVar("T")
MAX_PAGE_SIZE = 200
# Far beyond any real list, and small enough that page × size stays a 64-bit offset.
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list, 1-based."""

    page: int = 1
    size: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.page <= MAX_PAGE:
            raise ValidationFailed(f"页码应在 1 到 {MAX_PAGE} 之间", field="页码")
        if not 1 <= self.size <= MAX_PAGE_SIZE:
            raise ValidationFailed(f"每页条数应在 1 到 {MAX_PAGE_SIZE} 之间", field="每页条数")

    @property
    def offset(self) -> int:
        """Rows to skip."""
        return (self.page - 1) * self.size


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the total that matched."""

    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1, so an empty list still has a page 1)."""
        return max(1, -(-self.total // self.size))


def paginate(session: Session, statement: sa.Select, request: PageRequest) -> tuple[list, int]:
    """Rows of one page and the total count of ``statement``."""
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    rows = session.exec(statement.offset(request.offset).limit(request.size)).all()
    return list(rows), int(total or 0)


def contains(column: sa.ColumnElement, text: str) -> sa.ColumnElement[bool]:
    """``column`` contains ``text`` literally: % and _ typed by a user are not wildcards."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")
