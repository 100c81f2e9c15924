"""Report definitions: the shipped templates load; a mistaken field is named in Chinese."""

from __future__ import annotations

import pytest

from console.core.errors import ValidationFailed
from console.reports.definitions import definitions, parse_definition

GOOD = """
code = "monthly_test"
title = "测试月报"
period = "month"
[[sections]]
kind = "cases"
title = "一、按区县"
group_by = "tenant"
measure = "received"
chart = "bar"
"""


def test_shipped_templates_are_a_monthly_and_a_quarterly_report() -> None:
    found = definitions()
    assert {code: d.period for code, d in found.items()} == {
        "monthly": "month",
        "quarterly": "quarter",
    }
    for template in found.values():
        kinds = {section.kind for section in template.sections}
        assert kinds == {"summary", "cases", "timeliness", "interfaces", "channels"}


def test_a_good_definition_parses() -> None:
    parsed = parse_definition(GOOD, source="t.toml")
    assert (parsed.code, parsed.sections[0].group_by, parsed.sections[0].chart) == (
        "monthly_test",
        "tenant",
        "bar",
    )


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ('period = "month"', 'period = "week"', "period", "month 或 quarter"),
        ('group_by = "tenant"', 'group_by = "colour"', "group_by", "group_by 应为"),
        ('measure = "received"', 'measure = "weight"', "measure", "measure 应为"),
        ('chart = "bar"', 'chart = "radar"', "chart", "chart 应为"),
        ('kind = "cases"', 'kind = "poem"', "kind", "第 1 节"),
        ('title = "测试月报"', 'title = ""', "title", "缺少 title"),
        ("[[sections]]", "[[nothing]]", "sections", "至少需要一个"),
        ('code = "monthly_test"', 'code = "月报"', "code", "小写英文字母"),
        ('chart = "bar"', 'chart = "bar', "报表定义", "不是有效的 TOML"),
    ],
)
def test_a_wrong_field_is_refused_naming_it(old: str, new: str, field: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_definition(GOOD.replace(old, new), source="t.toml")
    assert refused.value.field == field
    assert words in refused.value.message and "t.toml" in refused.value.message
