"""Workflow settings: versioned definitions of businesses and workflows, and time limits.

A definition is a province template (owned by the province tenant) or a county's override
of one (copy on write). Each has numbered versions: a draft that may change, published
versions that never do. A county is served its own override where one is active, the
province template otherwise. ``BusinessTimeLimit`` holds the province's promised limit of
each business code, the one 办理时效 measures every county against.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Column, Field, SQLModel

from console.core.clock import utcnow
from console.core.db import UTCDateTime

# 《不动产登记暂行条例》第二十条: registration is completed within 30 working days of
# acceptance. A business without its own (shorter, promised) limit is measured against that.
LEGAL_LIMIT_WORKDAYS = 30


class Kind(StrEnum):
    """What a definition describes."""

    WORKFLOW = "workflow"
    BUSINESS = "business"


KIND_LABELS = {Kind.WORKFLOW: "流程", Kind.BUSINESS: "业务"}


class Status(StrEnum):
    """A version's life: a draft is edited, then published for good."""

    DRAFT = "draft"
    PUBLISHED = "published"
    DISCARDED = "discarded"  # kept, so a number is never given twice


STATUS_LABELS = {Status.DRAFT: "草稿", Status.PUBLISHED: "已发布", Status.DISCARDED: "已放弃"}


class Definition(SQLModel, table=True):
    """One workflow or business of one owner: the province template or a county override."""

    __tablename__ = "wf_definition"
    __table_args__ = (sa.UniqueConstraint("kind", "key", "tenant_code", name="uq_wf_definition"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    key: str = Field(max_length=40, index=True)  # business code, or workflow key
    tenant_code: str = Field(max_length=6, index=True)  # the province's code for templates
    name: str = Field(max_length=60)
    # An override that was reverted stays (its versions are history) but is no longer served.
    reverted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # When the current override began: versions published before a revert stay history.
    overridden_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Version(SQLModel, table=True):
    """One numbered version of a definition; its body is the whole setting as JSON."""

    __tablename__ = "wf_version"
    __table_args__ = (
        sa.UniqueConstraint("definition_id", "number", name="uq_wf_version_number"),
        # One draft per definition, even when two administrators save at the same moment.
        sa.Index(
            "uq_wf_version_one_draft",
            "definition_id",
            unique=True,
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    definition_id: int = Field(foreign_key="wf_definition.id", index=True)
    number: int = Field(ge=1)
    status: str = Field(default=Status.DRAFT.value, max_length=16)
    body: str = Field(sa_column=Column(sa.Text(), nullable=False))
    based_on: str = Field(default="", max_length=80)  # where the draft was copied from
    note: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    published_by: str = Field(default="", max_length=64)
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class BusinessTimeLimit(SQLModel, table=True):
    """The promised time limit of one business code, in working days from 受理 to 办结."""

    __tablename__ = "stats_time_limit"  # its name from when 办理时效 owned it

    business_code: str = Field(primary_key=True, max_length=7)
    workdays: int = Field(ge=0, le=LEGAL_LIMIT_WORKDAYS)
    basis: str = Field(default="", max_length=200)
    updated_by: str = Field(default="seed", max_length=64)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class PublishedVersionImmutable(Exception):
    """A settled version (published or discarded) was about to change: the service refuses first."""


def _stored_status(connection: sa.Connection, version_id: int | None) -> str | None:
    table = Version.__table__
    return connection.execute(sa.select(table.c.status).where(table.c.id == version_id)).scalar()


@event.listens_for(Version, "before_update")
def _refuse_changing_settled(_mapper, connection: sa.Connection, target: Version) -> None:
    # Defence in depth behind the service's own checks: the stored status, not the new one.
    stored = _stored_status(connection, target.id)
    if stored is not None and stored != Status.DRAFT.value:
        raise PublishedVersionImmutable(f"version {target.id} is {stored}")


@event.listens_for(Version, "before_delete")
def _refuse_deleting(_mapper, connection: sa.Connection, target: Version) -> None:
    # Versions are history (a discarded draft is kept as such): none is ever deleted.
    stored = _stored_status(connection, target.id)
    raise PublishedVersionImmutable(f"version {target.id} ({stored}) cannot be deleted")
