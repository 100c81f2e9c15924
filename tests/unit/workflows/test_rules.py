"""Publishing rules of workflows and businesses, one by one, on the seeded templates."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from console.workflows.rules import Problem, check_business, check_workflow, fill_opinion
from console.workflows.schema import parse_business, parse_workflow
from console.workflows.seed import BUSINESSES, WORKFLOWS

ROLES = {"accept", "review", "approve", "register", "certify", "issue"}


def _known(type_code: str, code: str) -> bool:
    known = {
        "registration_type": {"100", "200", "300", "400", "800", "900"},
        "right_type": {"3", "4"},
        "dict_type": {"id_type"},
    }
    return code in known.get(type_code, set())


def _flow(data: dict[str, Any]) -> list[Problem]:
    return check_workflow(parse_workflow(data), role_known=ROLES.__contains__)


def _messages(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems]


def _general() -> dict[str, Any]:
    return copy.deepcopy(WORKFLOWS["general"])


def _step(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in data["steps"] if s["name"] == name)


@pytest.mark.parametrize("key", sorted(WORKFLOWS))
def test_every_seeded_workflow_is_publishable(key: str) -> None:
    assert _flow(WORKFLOWS[key]) == []


@pytest.mark.parametrize("code", sorted(BUSINESSES))
def test_every_seeded_business_is_publishable(code: str) -> None:
    body = parse_business(BUSINESSES[code])
    workflow = parse_workflow(WORKFLOWS[body.workflow])
    assert check_business(code, body, workflow=workflow, known=_known) == []


def test_a_workflow_without_a_start_or_with_two_is_refused() -> None:
    data = _general()
    data["steps"][0]["kind"] = "task"
    data["steps"][0]["roles"] = ["accept"]
    assert "流程必须有且只有一个开始节点（现有 0 个）" in _messages(_flow(data))
    data = _general()
    data["steps"].append({"id": "start2", "name": "第二个开始", "kind": "start"})
    data["transitions"].append({"id": "x", "source": "start2", "target": "t1"})
    assert "流程必须有且只有一个开始节点（现有 2 个）" in _messages(_flow(data))


def test_a_workflow_needs_an_end() -> None:
    data = _general()
    data["steps"] = [s for s in data["steps"] if s["kind"] != "end"]
    data["transitions"] = [
        t for t in data["transitions"] if t["target"] not in {"end", "end_refused"}
    ]
    assert "流程至少需要一个结束节点" in _messages(_flow(data))


def test_a_step_nobody_can_reach_is_marked_on_that_step() -> None:
    data = _general()
    data["steps"].append({"id": "lost", "name": "补录", "kind": "task", "roles": ["accept"]})
    data["transitions"].append({"id": "lost_end", "source": "lost", "target": "end"})
    problems = [p for p in _flow(data) if p.ref == "lost"]
    assert _messages(problems) == ["环节「补录」无法从开始节点到达"]


def test_a_step_that_cannot_reach_an_end_is_marked() -> None:
    data = _general()
    data["steps"].append({"id": "stuck", "name": "公告", "kind": "task", "roles": ["accept"]})
    data["transitions"].append({"id": "to_stuck", "source": "t3", "target": "stuck"})
    problems = [p for p in _flow(data) if p.ref == "stuck"]
    assert _messages(problems) == ["环节「公告」无法到达结束节点"]


def test_a_task_needs_a_role_and_roles_must_be_known() -> None:
    data = _general()
    _step(data, "登簿")["roles"] = []
    _step(data, "缮证")["roles"] = ["cook"]
    messages = _messages(_flow(data))
    assert "环节「登簿」未指定办理岗位" in messages
    assert "环节「缮证」的岗位 cook 不在岗位字典中" in messages


def test_duplicate_step_names_are_refused_on_each_step() -> None:
    data = _general()
    _step(data, "缮证")["name"] = "登簿"
    problems = [p for p in _flow(data) if p.message == "环节名称「登簿」重复"]
    assert {p.ref for p in problems} == {"t3", "t4"}


def test_conditions_are_allowed_only_after_gateways() -> None:
    data = _general()
    edge = next(t for t in data["transitions"] if t["source"] == "t1" and t["target"] == "t2")
    edge["condition"] = "${ok}"
    assert "连线「受理 → 审核」设置了条件，但条件只能设在条件分支之后" in _messages(_flow(data))
    gateway_exit = next(t for t in data["transitions"] if t["id"] == "f_g_back")
    assert gateway_exit["condition"]  # the seeded gateway's conditions are fine


def test_a_gateway_needs_two_exits_and_at_most_one_default() -> None:
    data = _general()
    for edge in data["transitions"]:
        if edge["source"] == "g_review":
            edge["condition"] = ""
    assert "条件分支「审核结果」至多一条出口可不设条件（默认路径）" in _messages(_flow(data))
    data = _general()
    data["transitions"] = [
        t for t in data["transitions"] if t["id"] not in {"f_g_back", "f_g_refuse"}
    ]
    data["steps"] = [s for s in data["steps"] if s["id"] != "end_refused"]
    assert "条件分支「审核结果」至少需要两条出口连线" in _messages(_flow(data))


def test_a_transition_to_a_missing_step_is_refused() -> None:
    data = _general()
    data["transitions"].append({"id": "ghost", "source": "t1", "target": "nowhere"})
    assert "连线 ghost 指向不存在的环节 nowhere" in _messages(_flow(data))


def test_starts_take_no_entries_and_ends_no_exits() -> None:
    data = _general()
    data["transitions"].append({"id": "back", "source": "end", "target": "start"})
    messages = _messages(_flow(data))
    assert "结束节点不能有出口连线（办结 → 申请）" in messages
    assert "开始节点不能有进入连线（办结 → 申请）" in messages


def _business(code: str = "2000402", **changes: Any) -> list[str]:
    data = {**copy.deepcopy(BUSINESSES[code]), **changes}
    body = parse_business(data)
    workflow = parse_workflow(WORKFLOWS[body.workflow])
    types = {"2000402": "200", "9000101": "900"}  # the business dictionary's 所属类别
    found = check_business(
        code, body, workflow=workflow, known=_known, registration_type_of=lambda c: types.get(c, "")
    )
    return _messages(found)


def test_a_business_takes_its_registration_type_from_the_dictionary_not_its_digits() -> None:
    assert _business(registration_type="300") == ["业务字典中 2000402 属于登记类型 200，应与之一致"]
    assert _business(registration_type="") == ["请选择登记类型"]
    # A code the dictionary does not classify: the definition's own type stands.
    assert _business("4000101", registration_type="400") == []


def test_a_business_right_type_must_be_in_the_dictionary() -> None:
    assert _business(right_type="77") == ["权利类型 77 不在字典中"]


def test_form_fields_are_checked() -> None:
    form = copy.deepcopy(BUSINESSES["2000402"]["form"])
    form.append(dict(form[0]))
    form.append({"name": "Bad Name", "label": "坏"})
    form.append({"name": "kind", "label": "类别", "type": "select"})
    form.append({"name": "use", "label": "用途", "dictionary": "no_such_dict"})
    messages = _business(form=form)
    assert "表单字段 applicant_name 重复" in messages
    assert "表单字段标识 Bad Name 应以小写字母开头，只含小写字母、数字和下划线" in messages
    assert "字典选择字段「类别」须绑定字典" in messages
    assert "字段「用途」绑定的字典 no_such_dict 不存在" in messages


def test_materials_are_required_and_unique() -> None:
    assert _business(materials=[]) == ["至少列出一项申请材料"]
    twice = [{"name": "买卖合同"}, {"name": "买卖合同"}]
    assert _business(materials=twice) == ["材料「买卖合同」重复"]


def test_step_fields_must_exist_in_the_form() -> None:
    form = [f for f in BUSINESSES["2000402"]["form"] if f["name"] != "location"]
    assert _business(form=form) == ["环节「受理」的可编辑字段 location 不在表单中"]


def test_opinion_templates_belong_to_steps_and_use_known_placeholders() -> None:
    opinions = [{"step": "复核", "text": "同意"}, {"step": "审核", "text": "{申请人}：{房号}"}]
    messages = _business(opinions=opinions)
    assert "意见模板所属环节「复核」不在流程中" in messages
    assert any(m.startswith("意见模板「审核」中的占位符 {房号} 无法识别") for m in messages)


def test_opinions_are_filled_from_the_case_and_gaps_stay_visible() -> None:
    text = BUSINESSES["2000402"]["opinions"][0]["text"]
    filled = fill_opinion(text, {"applicant": "张*", "business_name": "房地产权转移登记"})
    assert filled == "张*申请房地产权转移登记，坐落＿＿＿＿，申请材料齐全、符合法定形式，予以受理。"


def test_a_body_of_the_wrong_shape_is_named_in_chinese() -> None:
    from console.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        parse_business({**BUSINESSES["2000402"], "time_limit_workdays": 45})
    assert refused.value.message == "承诺时限超过上限"
    with pytest.raises(ValidationFailed) as refused:
        parse_workflow({"name": "x", "steps": [{"id": "a", "kind": "loop"}]})
    assert refused.value.message == "环节·第 1 项·类型取值不在允许范围内"


def test_ids_of_steps_and_transitions_must_all_differ() -> None:
    data = _general()
    data["transitions"].append({"id": "t1", "source": "t4", "target": "t5"})
    problems = [p for p in _flow(data) if p.ref == "t1"]
    assert _messages(problems) == ["标识 t1 重复（环节与连线的标识须各不相同）"]
