"""Exports that open correctly in Excel — CSV (UTF-8 with BOM) or XLSX; values arrive masked."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

EXPORT_ROW_LIMIT = 50_000
ExportFormat = Literal["csv", "xlsx"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# A cell starting like this would be run as a formula by a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula, made plain text with a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with a BOM so spreadsheet programs read Chinese without asking."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows([neutralise(value) for value in row] for row in rows)
    return "\ufeff" + buffer.getvalue()


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str) -> bytes:
    """An XLSX workbook of one sheet; every value is written as text so codes keep leading zeros."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(worksheet, value=text)
        cell.font = bold
        header_cells.append(cell)
    worksheet.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(worksheet, value="" if value is None else str(value))
            cell.data_type = "s"  # always text: "=…" is shown, never run as a formula
            cells.append(cell)
        worksheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, fmt: ExportFormat, sheet: str
) -> bytes:
    """The export in the chosen format, as bytes ready to download."""
    if fmt == "xlsx":
        return to_xlsx(headers, rows, sheet=sheet)
    return to_csv(headers, rows).encode("utf-8")
