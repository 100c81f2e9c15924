"""Report definitions: the TOML files in the top-level ``reports/`` folder.

A definition names a report, its period (month or quarter) and its sections in order; each
section says which statistics it shows. Definitions are checked when read, with Chinese
messages naming the file and the field, so a mistaken edit fails loudly at start.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from console.core.errors import ValidationFailed
from console.stats.service import CASE_GROUPS, MEASURES

DEFINITIONS_DIR = Path(__file__).resolve().parents[2] / "reports"
PERIODS = {"month": "月度", "quarter": "季度"}
SECTION_KINDS = ("summary", "cases", "timeliness", "interfaces", "channels")
CHARTS = ("bar", "line", "pie")
CASE_DIMENSIONS = tuple(g for g in CASE_GROUPS if g != "institution")

PeriodKind = Literal["month", "quarter"]
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class SectionDef:
    """One section: what it computes and how it is drawn."""

    kind: str
    title: str
    group_by: str = ""
    measure: str = "received"
    chart: str = "bar"


@dataclass(frozen=True)
class ReportDefinition:
    """A report template: code, title, period and sections."""

    code: str
    title: str
    period: PeriodKind
    sections: tuple[SectionDef, ...]


def _section(raw: dict[str, object], where: str) -> SectionDef:
    kind = str(raw.get("kind", ""))
    if kind not in SECTION_KINDS:
        raise ValidationFailed(f"{where}：kind 应为 {'、'.join(SECTION_KINDS)} 之一", field="kind")
    title = str(raw.get("title", "")).strip()
    if not title:
        raise ValidationFailed(f"{where}：缺少标题", field="title")
    section = SectionDef(
        kind=kind,
        title=title,
        group_by=str(raw.get("group_by", "")),
        measure=str(raw.get("measure", "received")),
        chart=str(raw.get("chart", "bar")),
    )
    if kind == "cases":
        if section.group_by not in CASE_DIMENSIONS:
            raise ValidationFailed(
                f"{where}：group_by 应为 {'、'.join(CASE_DIMENSIONS)} 之一", field="group_by"
            )
        if section.measure not in MEASURES:
            raise ValidationFailed(
                f"{where}：measure 应为 {'、'.join(MEASURES)} 之一", field="measure"
            )
        if section.chart not in CHARTS:
            raise ValidationFailed(f"{where}：chart 应为 {'、'.join(CHARTS)} 之一", field="chart")
    return section


def parse_definition(text: str, *, source: str) -> ReportDefinition:
    """A definition from TOML text; ``source`` names it in error messages.

    Raises:
        ValidationFailed: the text is not TOML or a field is missing or wrong.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as bad:
        raise ValidationFailed(f"{source}：不是有效的 TOML（{bad}）", field="报表定义") from None
    code, title, period = (str(raw.get(k, "")).strip() for k in ("code", "title", "period"))
    if not _CODE.fullmatch(code):
        raise ValidationFailed(f"{source}：code 应为小写英文字母、数字或下划线", field="code")
    if not title:
        raise ValidationFailed(f"{source}：缺少 title", field="title")
    if period not in PERIODS:
        raise ValidationFailed(f"{source}：period 应为 month 或 quarter", field="period")
    sections = raw.get("sections", [])
    if not isinstance(sections, list) or not sections:
        raise ValidationFailed(f"{source}：至少需要一个 [[sections]]", field="sections")
    return ReportDefinition(
        code=code,
        title=title,
        period=period,  # type: ignore[arg-type]
        sections=tuple(
            _section(section, f"{source} 第 {number} 节")
            for number, section in enumerate(sections, start=1)
        ),
    )


@functools.cache
def definitions(folder: Path = DEFINITIONS_DIR) -> dict[str, ReportDefinition]:
    """Every definition in ``folder`` by code, in file-name order.

    Raises:
        ValidationFailed: a file is wrong, or two files share a code.
    """
    found: dict[str, ReportDefinition] = {}
    for path in sorted(folder.glob("*.toml")):
        definition = parse_definition(path.read_text(encoding="utf-8"), source=path.name)
        if definition.code in found:
            raise ValidationFailed(f"{path.name}：code {definition.code} 重复", field="code")
        found[definition.code] = definition
    return found


def definition(code: str) -> ReportDefinition:
    """The definition ``code``.

    Raises:
        ValidationFailed: there is no such definition.
    """
    known = definitions()
    if code not in known:
        raise ValidationFailed(f"没有报表模板 {code}", field="报表模板")
    return known[code]
