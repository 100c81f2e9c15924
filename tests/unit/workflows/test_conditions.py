"""The designer's condition subset: what it accepts, the Python it maps to, what it refuses."""

from __future__ import annotations

import pytest

from console.workflows.conditions import ConditionError, to_python, variables
from console.workflows.rules import check_workflow
from console.workflows.schema import parse_workflow
from console.workflows.seed import WORKFLOWS


@pytest.mark.parametrize(
    ("juel", "python"),
    [
        ("${result == '补正'}", "result == '补正'"),
        ('${result != "通过"}', "result != '通过'"),
        ("${面积 > 144 && 首套 == 'no'}", "面积 > 144 and 首套 == 'no'"),
        ("${a lt 3 || b ge 2.5}", "a < 3 or b >= 2.5"),
        ("${!(result eq '补正')}", "not result == '补正'"),
        ("${!(面积 > 144) || 首套}", "not 面积 > 144 or 首套"),
        ("${not 已缴税 and 次数 le -1}", "not 已缴税 and 次数 <= -1"),
        ("${加急 == true}", "加急 == True"),
        ("${'a&&b' == s}", "'a&&b' == s"),
    ],
)
def test_each_form_of_the_subset_maps_to_the_python_spiffworkflow_evaluates(
    juel: str, python: str
) -> None:
    assert to_python(juel) == python


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ("result == '补正'", "条件须写成 ${…}"),
        ("${}", "条件 ${} 中没有表达式"),
        ("${a.b}", "条件只能由比较、and/or/not、变量名和字符串或数字组成"),
        ("${a.b == 1}", "比较的两边只能是变量名、字符串或数字"),
        ("${f(a) == 1}", "比较的两边只能是变量名、字符串或数字"),
        ("${a + 1 > 2}", "比较的两边只能是变量名、字符串或数字"),
        ("${a == null}", "条件不支持 null"),
        ("${a in b}", "条件只能用 ==、!=、<、<=、>、>= 比较"),
        ("${a == 'x}", "条件中的字符串缺少结束引号"),
        ("${(a == 1}", "条件不是完整的表达式"),
        ("${!result == '补正'}", "! 或 not 之后的比较须加括号"),  # (!a) == b in JUEL
        ("${not 面积 > 1}", "! 或 not 之后的比较须加括号"),
        ("${a < b < c}", "一次只能比较两个值"),
        ("${-'x' == a}", "比较的两边只能是变量名、字符串或数字"),
        ("${" + "(" * 500 + "a" + ")" * 500 + "}", "条件不是完整的表达式"),
        ("${" + "!" * 995 + "x}", "条件不是完整的表达式"),
        ("${x == 1 # || y == 2}", "条件中不能有注释或反斜杠"),
        ("${x == 'a\\'}", "条件中不能有注释或反斜杠"),
        ("${r'a' == x}", "字符串只能写成"),
        ("${'a' 'b' == x}", "两个字符串之间缺少比较符"),
        ("${0x10 == x}", "数字 0x10 应写成十进制"),
        ("${x == True}", "条件中请用小写的 true / false"),
        ("${ｒｅｓｕｌｔ == 1}", "变量名 ｒｅｓｕｌｔ 含全角或兼容字符"),
    ],
)
def test_anything_outside_the_subset_is_refused_with_a_reason(condition: str, reason: str) -> None:
    with pytest.raises(ConditionError) as refused:
        to_python(condition)
    assert str(refused.value).startswith(reason)


def test_the_variables_a_condition_reads_are_named_once() -> None:
    assert sorted(variables("${a > 1 && (b == 'x' || a < 5)}")) == ["a", "b"]


def test_a_condition_outside_the_subset_keeps_a_workflow_from_publishing() -> None:
    data = WORKFLOWS["general"] | {}
    data["transitions"] = [
        t | {"condition": "${result.equals('补正')}"} if t.get("condition") else t
        for t in data["transitions"]
    ]
    problems = check_workflow(parse_workflow(data))
    assert [p.message for p in problems][:1] == [
        "连线「审核结果 → 受理」的条件无法识别："
        "条件只能由比较、and/or/not、变量名和字符串或数字组成"
    ]
    assert check_workflow(parse_workflow(WORKFLOWS["general"])) == []
