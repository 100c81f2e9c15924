"""Saved statistics views: own views, views shared with a role, nobody else's."""

from __future__ import annotations

import pytest
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from console.core.errors import Forbidden, ValidationFailed
from console.iam import service
from console.stats.views_service import delete_view, list_views, save_view
from tests.support.world import BINJIANG, PASSWORD, World, add_user

SETTINGS = {"measure": "completed", "dimension": "channel", "chart_kind": "pie", "ignored": "x"}


def test_a_view_is_saved_shared_with_a_role_and_deleted_only_by_its_owner(world: World) -> None:
    owner = world.actor("province_supervisor")
    county = world.actor("county_supervisor")
    with session_scope() as session:
        saved = save_view(
            session=session, actor=owner, name="渠道办结", settings=SETTINGS,
            shared_role="county_supervisor",
        )  # fmt: skip
    assert "ignored" not in saved.settings
    with session_scope() as session:
        seen = list_views(session=session, actor=county)
        listed = [(v.name, v.mine, v.settings["chart_kind"]) for v in seen]
        assert listed == [("渠道办结", False, "pie")]
        assert list_views(session=session, actor=world.actor("county_admin")) == []
    with pytest.raises(Forbidden), session_scope() as session:
        delete_view(session=session, actor=county, view_id=saved.id)
    with session_scope() as session:
        save_view(session=session, actor=owner, name="渠道办结", settings={"measure": "received"},
                  shared_role="")  # fmt: skip
    with session_scope() as session:
        (again,) = list_views(session=session, actor=owner)
        assert (
            again.settings == {"measure": "received"}
            and list_views(session=session, actor=county) == []
        )
        delete_view(session=session, actor=owner, view_id=again.id)
    with session_scope() as session:
        actions = session.exec(
            select(OperationLog.action).where(OperationLog.object == "dashboards.statistics")
        ).all()
    assert actions.count("save_view") == 2 and "delete_view" in actions


def test_a_bad_name_or_role_is_refused_naming_the_field(world: World) -> None:
    owner = world.actor("province_supervisor")
    with pytest.raises(ValidationFailed, match="名称"), session_scope() as session:
        save_view(session=session, actor=owner, name=" ", settings={}, shared_role="")
    with pytest.raises(ValidationFailed, match="角色 nobody 不存在"), session_scope() as session:
        save_view(session=session, actor=owner, name="甲", settings={}, shared_role="nobody")
    with pytest.raises(Forbidden), session_scope() as session:
        save_view(session=session, actor=world.actor("window_clerk"), name="乙", settings={},
                  shared_role="")  # fmt: skip


def test_a_countys_shared_view_stays_in_that_county_and_bad_settings_are_refused(
    world: World,
) -> None:
    add_user("binjiang_supervisor", BINJIANG, ("county_supervisor",))
    with session_scope() as session:
        _, elsewhere = service.authenticate(
            session=session, account="binjiang_supervisor", password=PASSWORD
        )
    with session_scope() as session:
        save_view(
            session=session, actor=world.actor("county_supervisor"), name="西湖办结",
            settings=SETTINGS, shared_role="county_supervisor",
        )  # fmt: skip
    with session_scope() as session:
        assert list_views(session=session, actor=elsewhere) == []
    with pytest.raises(ValidationFailed, match="measure 不能为 nonsense"), session_scope() as s:
        save_view(session=s, actor=elsewhere, name="坏", settings={"measure": "nonsense"},
                  shared_role="")  # fmt: skip
    with pytest.raises(ValidationFailed, match="start 应为日期"), session_scope() as s:
        save_view(session=s, actor=elsewhere, name="坏", settings={"start": "11/27"},
                  shared_role="")  # fmt: skip
