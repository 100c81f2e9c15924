"""Organisation trees: credit codes checked, tenants kept apart, deletes refused while in use."""

from __future__ import annotations

import pytest

from console.core.db import session_scope
from console.core.errors import Forbidden, NotFound, ValidationFailed
from console.iam.org_service import OrgDraft, create_org, delete_org, org_tree, update_org
from tests.support.world import BINJIANG, XIHU, World


def _create(world: World, actor_key: str = "sys_admin", **fields) -> int:
    values = {"tenant_code": XIHU, "name": "西湖区不动产登记中心", "kind": "registry", **fields}
    with session_scope() as session:
        return create_org(
            session=session, actor=world.actor(actor_key), draft=OrgDraft(**values)
        ).id


def test_tree_lists_parents_before_children_with_depth(world: World) -> None:
    root = _create(world)
    _create(world, name="受理科", kind="registry", parent_id=root)
    _create(world, name="中国银行西湖支行", kind="bank", uscc="91350100M000100Y43")
    with session_scope() as session:
        nodes = org_tree(session=session, actor=world.actor("sys_admin"))
    assert [(n.name, n.depth) for n in nodes] == [
        ("西湖区不动产登记中心", 0),
        ("受理科", 1),
        ("中国银行西湖支行", 0),
    ]
    assert nodes[2].kind_label == "银行"


def test_credit_code_check_character_is_enforced(world: World) -> None:
    with pytest.raises(ValidationFailed) as bad:
        _create(world, name="某银行", kind="bank", uscc="91350100M000100Y44")
    assert bad.value.field == "统一社会信用代码" and "第18位校验码应为3" in bad.value.message


def test_parent_must_be_in_the_same_tenant_and_not_a_descendant(world: World) -> None:
    root = _create(world)
    child = _create(world, name="受理科", parent_id=root)
    with pytest.raises(ValidationFailed):
        _create(world, tenant_code=BINJIANG, name="滨江某机构", parent_id=root)
    with pytest.raises(ValidationFailed) as bad, session_scope() as session:
        update_org(
            session=session,
            actor=world.actor("sys_admin"),
            org_id=root,
            draft=OrgDraft(
                tenant_code=XIHU, name="西湖区不动产登记中心", kind="registry", parent_id=child
            ),
        )
    assert "自己或其下级" in bad.value.message


def test_county_admin_sees_and_edits_only_own_county(world: World) -> None:
    _create(world)
    binjiang = _create(world, tenant_code=BINJIANG, name="滨江区不动产登记中心")
    with session_scope() as session:
        names = {n.name for n in org_tree(session=session, actor=world.actor("county_admin"))}
    assert names == {"西湖区不动产登记中心"}
    with pytest.raises((NotFound, Forbidden)), session_scope() as session:
        delete_org(session=session, actor=world.actor("county_admin"), org_id=binjiang)


def test_organisation_with_children_cannot_be_deleted(world: World) -> None:
    root = _create(world)
    _create(world, name="受理科", parent_id=root)
    with pytest.raises(ValidationFailed) as bad, session_scope() as session:
        delete_org(session=session, actor=world.actor("sys_admin"), org_id=root)
    assert "下级机构" in bad.value.message
