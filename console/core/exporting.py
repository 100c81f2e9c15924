"""Exports that open correctly in Excel — CSV (UTF-8 with BOM) or XLSX; values arrive masked.

CSV is written by Polars (fast enough to stream a million rows a second); XLSX by XlsxWriter
in constant-memory mode, a new sheet every 1,048,575 rows. XLSX cells are typed by the Python
value: numbers as numbers (so totals and filters work in Excel and WPS), dates and times as
date cells with a Chinese-style format, booleans as booleans, and text always as text —
never a formula, a number or a link, whatever it looks like.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, Literal

import polars as pl
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from console.core.clock import CHINA_TZ

EXPORT_ROW_LIMIT = 50_000
ExportFormat = Literal["csv", "xlsx"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_SHEET_ROWS = 1_048_576  # Excel's limit, header included
BOM = "\ufeff".encode()

# A cell starting like this would be run as a formula by a spreadsheet (CSV injection).
_FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_expr(text: pl.Expr) -> pl.Expr:
    """Text that a spreadsheet would run as a formula, made plain text with a leading quote."""
    return pl.when(text.str.contains(_FORMULA_START)).then(pl.lit("'") + text).otherwise(text)


def restore_neutralised(cell: str) -> str:
    """A CSV cell as it was before ``neutralise_expr`` (an export read back by an import)."""
    if cell.startswith("'") and re.match(_FORMULA_START, cell[1:]):
        return cell[1:]
    return cell


def as_text_frame(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> pl.DataFrame:
    """Rows of Python values as a frame of text columns named by ``headers``."""
    data = [["" if value is None else str(value) for value in row] for row in rows]
    return pl.DataFrame(data, schema=dict.fromkeys(headers, pl.String), orient="row")


def csv_chunk(frame: pl.DataFrame, *, header: bool) -> bytes:
    """One piece of a CSV export: every column as text with formulas neutralised."""
    safe = frame.select(
        neutralise_expr(pl.col(name).cast(pl.String)).alias(name) for name in frame.columns
    )
    return safe.write_csv(include_header=header).encode("utf-8")


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with a BOM so spreadsheet programs read Chinese without asking."""
    return (BOM + csv_chunk(as_text_frame(headers, rows), header=True)).decode("utf-8")


# Excel keeps 15 significant digits: a longer integer (an amount in fen never is) stays text.
_EXACT_INTEGER = 10**15


class _CellFormats:
    """The number formats of a workbook's typed cells."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.time = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.integer = workbook.add_format({"num_format": "0"})
        self.decimal = workbook.add_format({"num_format": "0.0##"})


def _write_cell(sheet: Worksheet, line: int, column: int, value: object, f: _CellFormats) -> None:
    """One cell, typed by its Python value (None leaves the cell empty)."""
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(line, column, value)
    elif isinstance(value, int) and abs(value) < _EXACT_INTEGER:
        sheet.write_number(line, column, value, f.integer)
    elif isinstance(value, float | Decimal) and math.isfinite(value):
        sheet.write_number(line, column, float(value), f.decimal)
    elif isinstance(value, datetime):
        local = value.astimezone(CHINA_TZ).replace(tzinfo=None) if value.tzinfo else value
        sheet.write_datetime(line, column, local, f.time)
    elif isinstance(value, date):
        sheet.write_datetime(line, column, datetime.combine(value, time()), f.day)
    else:
        sheet.write_string(line, column, str(value))


def write_xlsx(
    target: str | Path | BinaryIO,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    sheet: str,
) -> int:
    """Write a workbook of typed cells, continuing on a new sheet when one is full; rows written."""
    in_memory = not isinstance(target, str | Path)
    workbook = xlsxwriter.Workbook(
        target if in_memory else str(target),
        {
            "constant_memory": not in_memory,
            "in_memory": in_memory,
            # Every value stays the text it was: never a formula, number or link.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    formats = _CellFormats(workbook)
    written, worksheet, line = 0, None, XLSX_SHEET_ROWS
    for row in rows:
        if line == XLSX_SHEET_ROWS:
            number = written // (XLSX_SHEET_ROWS - 1) + 1
            name = sheet[:28] if number == 1 else f"{sheet[:24]}（{number}）"
            worksheet = workbook.add_worksheet(name)
            worksheet.freeze_panes(1, 0)
            worksheet.write_row(0, 0, list(headers), bold)
            line = 1
        for column, value in enumerate(row):
            _write_cell(worksheet, line, column, value, formats)
        line += 1
        written += 1
    if worksheet is None:
        worksheet = workbook.add_worksheet(sheet[:28])
        worksheet.write_row(0, 0, list(headers), bold)
    workbook.close()
    return written


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str) -> bytes:
    """An XLSX workbook in memory (small exports: dictionaries, users)."""
    buffer = io.BytesIO()
    write_xlsx(buffer, headers, rows, sheet=sheet)
    return buffer.getvalue()


def render(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, fmt: ExportFormat, sheet: str
) -> bytes:
    """The export in the chosen format, as bytes ready to download."""
    if fmt == "xlsx":
        return to_xlsx(headers, rows, sheet=sheet)
    return to_csv(headers, rows).encode("utf-8")
