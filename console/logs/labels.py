"""The names people read for the codes a log line carries: steps, channels, types, outcomes.

The contract's fixed choices have their names here; business codes and 登记类型 come from the
dictionaries. Screens show the name with the code beside it (an auditor may need the code);
exports add a name column beside each code column.
"""

from __future__ import annotations

import polars as pl

from console.dictionaries import lookup

STEP_LABELS = {
    "apply": "申请", "accept": "受理", "review": "审核", "register": "登簿", "certify": "缮证",
    "issue": "发证", "close": "办结", "reject": "不予受理/驳回", "supplement": "补正",
    "withdraw": "撤回",
}  # fmt: skip
CHANNEL_LABELS = {
    "window": "窗口", "online": "网上", "bank": "银行", "developer": "开发企业",
    "broker": "经纪机构", "agent": "代理机构",
}  # fmt: skip
OUTCOME_LABELS = {"success": "成功", "failure": "失败", "denied": "拒绝"}
LEVEL_LABELS = {
    "DEBUG": "调试", "INFO": "信息", "WARNING": "警告", "ERROR": "错误", "CRITICAL": "严重",
}  # fmt: skip
BOOLEAN_LABELS = {"true": "是", "false": "否"}
_FIXED = {
    "step": STEP_LABELS,
    "channel": CHANNEL_LABELS,
    "outcome": OUTCOME_LABELS,
    "level": LEVEL_LABELS,
    "success": BOOLEAN_LABELS,
}
# Code columns whose names come from a dictionary.
_DICTIONARY = {"business_code": "business_code", "registration_type": "registration_type"}
LABELLED_COLUMNS = frozenset(_FIXED) | frozenset(_DICTIONARY)
NAME_SUFFIX = "名称"


def named(name: str | None, code: str) -> str:
    """A code as people read it: its name with the code beside it (the code alone if none)."""
    return f"{name}（{code}）" if name and name != code else code


def names_of(column: str) -> dict[str, str]:
    """Code → name for a labelled column (empty for any other column)."""
    if column in _FIXED:
        return _FIXED[column]
    if column in _DICTIONARY:
        return lookup.labels(_DICTIONARY[column])
    return {}


def shown(column: str, value: str) -> str:
    """A cell as a person reads it: 预告登记（700）; a code without a name stays as it is."""
    name = names_of(column).get(value)
    return (name or value) if column == "success" else named(name, value)


def name_expr(column: str) -> pl.Expr:
    """The name of each code of ``column`` ("" where it has none), for an export's extra column."""
    names = names_of(column)
    code = pl.col(column).cast(pl.String)
    if not names:
        return pl.lit("").alias(f"{column}{NAME_SUFFIX}")
    return code.replace_strict(names, default="", return_dtype=pl.String).alias(
        f"{column}{NAME_SUFFIX}"
    )
