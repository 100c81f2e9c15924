"""What a generated report holds, independent of the file it is written to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChartKind = Literal["bar", "line", "pie"]
Cell = str | int | float | None


@dataclass(frozen=True)
class Chart:
    """One series over categories, drawn as a bar, line or pie chart."""

    kind: ChartKind
    title: str
    categories: list[str]
    values: list[float | None]
    value_label: str  # what the values are, e.g. 受理件数


@dataclass(frozen=True)
class Block:
    """A section of a report: a heading, sentences, a table and optionally a chart.

    ``rows`` keep numbers as numbers (the workbook's chart reads them); ``None`` is blank.
    ``chart_column`` is the index of the column the chart draws, the first column naming
    the categories.
    """

    title: str
    sentences: list[str]
    headers: list[str]
    rows: list[list[Cell]]
    chart: Chart | None = None
    chart_column: int = 1
    percent_columns: tuple[int, ...] = ()  # columns holding shares 0..1, shown as percentages


@dataclass(frozen=True)
class ReportContent:
    """A whole report: what, for whom, which period, who generated it, and its sections."""

    title: str
    scope_label: str  # 全省 or a county's name
    period_label: str  # e.g. 2026年10月
    generated_at: str  # local time text
    generated_by: str
    blocks: list[Block] = field(default_factory=list)
