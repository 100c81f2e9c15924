"""Versions and inheritance on both configuration backends (SQLite and PostgreSQL).

Dates compared across overrides, the one-draft index and the immutability hooks are
backend-specific; everything else is proved on SQLite in test_service.py.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from console.core.db import session_scope
from console.workflows import inheritance_service, service
from console.workflows.models import BusinessTimeLimit, PublishedVersionImmutable, Version
from tests.support.world import BINJIANG, XIHU, World
from tests.unit.workflows.test_service import B, _audit, _edit_draft, _in, _publish, _served


def test_a_published_version_never_changes(templates: World) -> None:
    admin = templates.actor("sys_admin")
    _edit_draft(admin, B, "2000402", lambda body: body.update(time_limit_workdays=4))
    with session_scope() as session:
        view = service.get_definition(session=session, actor=admin, kind=B, key="2000402")
    assert (view.draft_number, view.served_version) == (2, 1)  # the edit went to a new draft
    assert _served(XIHU)["business"]["time_limit_workdays"] == 5
    assert _publish(admin, B, "2000402", "缩短承诺时限") == 2
    with session_scope() as session:
        published = session.exec(select(Version).where(Version.number == 2)).first()
        assert published is not None
        published.note = "tampered"
        session.add(published)
        with pytest.raises(PublishedVersionImmutable):
            session.flush()
        session.rollback()
    with session_scope() as session:
        published = session.exec(select(Version).where(Version.number == 1)).first()
        session.delete(published)
        with pytest.raises(PublishedVersionImmutable):
            session.flush()
        session.rollback()
    assert _served(XIHU)["business"]["time_limit_workdays"] == 4
    with session_scope() as session:
        assert session.get(BusinessTimeLimit, "2000402").workdays == 4  # 办理时效 measures it


def test_a_county_inherits_overrides_and_reverts(templates: World) -> None:
    admin = templates.actor("sys_admin")
    xihu = _in(admin, XIHU)
    with session_scope() as session:
        assert (
            service.get_definition(session=session, actor=xihu, kind=B, key="2000402").origin_label
            == "继承省级模板"
        )
        assert inheritance_service.override(session=session, actor=xihu, kind=B, key="2000402") == 1
    assert _served(XIHU)["business"]["origin"] == "province"  # the copy is still a draft

    def add_material(body: dict) -> None:
        body["materials"].append({"name": "户籍证明", "required": False})

    _edit_draft(xihu, B, "2000402", add_material)
    _publish(xihu, B, "2000402")
    mine, other = _served(XIHU), _served(BINJIANG)
    assert (mine["business"]["origin"], mine["business"]["owner"]) == ("tenant", XIHU)
    assert "户籍证明" in [m["name"] for m in mine["business"]["materials"]]
    assert other["business"]["origin"] == "province"
    assert "户籍证明" not in [m["name"] for m in other["business"]["materials"]]
    # A new template version reaches the inheriting county only.
    _edit_draft(admin, B, "2000402", lambda body: body.update(time_limit_workdays=3))
    _publish(admin, B, "2000402")
    assert _served(BINJIANG)["business"]["time_limit_workdays"] == 3
    assert _served(XIHU)["business"]["time_limit_workdays"] == 5
    with session_scope() as session:
        usage = {
            u.tenant_code: u
            for u in service.usage(session=session, actor=admin, kind=B, key="2000402")
        }
    assert (usage[XIHU].origin_label, usage[XIHU].version) == ("本地覆盖", 1)
    assert (usage[BINJIANG].origin_label, usage[BINJIANG].version) == ("继承省级模板", 2)
    with session_scope() as session:
        inheritance_service.revert(session=session, actor=xihu, kind=B, key="2000402")
    assert _served(XIHU)["business"]["origin"] == "province"
    assert _served(XIHU)["business"]["time_limit_workdays"] == 3
    assert [e.tenant_code for e in _audit("override")] == [XIHU]
    assert [e.tenant_code for e in _audit("revert")] == [XIHU]


def test_after_a_revert_a_new_override_follows_the_template_until_published(
    templates: World,
) -> None:
    county = _in(templates.actor("sys_admin"), XIHU)
    with session_scope() as session:
        inheritance_service.override(session=session, actor=county, kind=B, key="2000402")
    _edit_draft(county, B, "2000402", lambda body: body.update(time_limit_workdays=2))
    _publish(county, B, "2000402")
    assert _served(XIHU)["business"]["time_limit_workdays"] == 2
    with session_scope() as session:
        inheritance_service.revert(session=session, actor=county, kind=B, key="2000402")
    with session_scope() as session:
        assert (
            inheritance_service.override(session=session, actor=county, kind=B, key="2000402") == 2
        )
    served = _served(XIHU)["business"]
    assert (served["origin"], served["time_limit_workdays"]) == ("province", 5)
    _publish(county, B, "2000402")
    assert _served(XIHU)["business"]["origin"] == "tenant"


def test_only_one_draft_can_exist_even_past_the_service(templates: World) -> None:
    admin = templates.actor("sys_admin")
    _edit_draft(admin, B, "1000301", lambda body: body.update(time_limit_workdays=9))
    with session_scope() as session:
        draft = session.exec(select(Version).where(Version.status == "draft")).one()
        session.add(
            Version(definition_id=draft.definition_id, number=99, body="{}", created_by="x")
        )
        with pytest.raises(sa.exc.IntegrityError):
            session.flush()
        session.rollback()


def test_the_database_itself_refuses_to_rewrite_or_delete_a_settled_version(
    templates: World,
) -> None:
    statements = (
        "UPDATE wf_version SET body = '{}' WHERE status = 'published'",
        "DELETE FROM wf_version",
    )
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match="wf_version"), session_scope() as session:
            session.execute(sa.text(statement))
    assert _served(XIHU)["business"]["version"] == 1
