"""Uploaded spreadsheets (CSV or XLSX) read into text rows that remember their line numbers."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from console.core.errors import ValidationFailed
from console.core.exporting import restore_neutralised

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# An XLSX is a ZIP: what its entries may inflate to, in total and relative to their size.
MAX_INFLATED_BYTES = 100 * 1024 * 1024
MAX_ZIP_RATIO = 100
MAX_ZIP_ENTRIES = 10_000
MAX_ROWS = 20_000
FILE_FIELD = "文件"


@dataclass(frozen=True)
class TableRow:
    """One data row: its line in the file (the header is line 1) and its cells by column key."""

    line: int
    values: dict[str, str]

    def get(self, key: str) -> str:
        """The cell's text, empty when the column or cell is missing."""
        return self.values.get(key, "")


def _cell_text(value: object) -> str:
    """Text of a cell: whole numbers without ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _csv_lines(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "CSV 文件应为 UTF-8 编码（Excel 另存为「CSV UTF-8」）", field=FILE_FIELD
        ) from None
    for cells in csv.reader(io.StringIO(text)):
        yield [restore_neutralised(cell) for cell in cells]  # our own exports read back


def check_zip(content: bytes) -> None:
    """Refuse a ZIP container (XLSX) that would inflate past the bounds, before reading it.

    Each entry's size is read from the archive's directory; Python's zipfile never inflates
    an entry past that size, so these checks bound the memory a read can take.

    Raises:
        ValidationFailed: too many entries, too large in total, or an entry compressed
            suspiciously well (a "zip bomb").
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise ValidationFailed(
            "无法读取 XLSX 文件，请确认是 Excel 2007 及以上格式", field=FILE_FIELD
        ) from None
    inflated = sum(entry.file_size for entry in entries)
    bomb = any(
        entry.file_size > 1024 * 1024
        and entry.file_size > MAX_ZIP_RATIO * max(entry.compress_size, 1)
        for entry in entries
    )
    if len(entries) > MAX_ZIP_ENTRIES or inflated > MAX_INFLATED_BYTES or bomb:
        raise ValidationFailed(
            f"XLSX 文件解压后过大（上限 {MAX_INFLATED_BYTES // 1024 // 1024} MB），"
            "或压缩比异常，疑似压缩炸弹",
            field=FILE_FIELD,
        )


def _xlsx_lines(content: bytes) -> Iterator[list[str]]:
    check_zip(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError):
        raise ValidationFailed(
            "无法读取 XLSX 文件，请确认是 Excel 2007 及以上格式", field=FILE_FIELD
        ) from None
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    finally:
        workbook.close()


def read_table(
    content: bytes,
    filename: str,
    *,
    columns: Mapping[str, str] | None = None,
    required: Iterable[str] = (),
) -> list[TableRow]:
    """Rows of the first sheet of a CSV or XLSX upload whose first line holds the headers.

    Args:
        content: the uploaded bytes.
        filename: decides the format by its extension.
        columns: header text (Chinese or English) → column key; other headers are ignored.
            None keeps every column under its header text.
        required: column keys the header must contain.

    Raises:
        ValidationFailed: wrong format, too large, missing columns or too many rows.
    """
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB", field=FILE_FIELD)
    name = filename.lower()
    if name.endswith(".xlsx"):
        lines = _xlsx_lines(content)
    elif name.endswith((".csv", ".txt")):
        lines = _csv_lines(content)
    else:
        raise ValidationFailed("仅支持 CSV 或 XLSX 文件", field=FILE_FIELD)
    header = next(lines, None)
    if not header:
        raise ValidationFailed("文件是空的，第 1 行应为列名", field=FILE_FIELD)
    keys = [cell.strip() if columns is None else columns.get(cell.strip()) for cell in header]
    missing = [key for key in required if key not in keys]
    if missing:
        labels = {key: text for text, key in (columns or {}).items() if not text.isascii()}
        raise ValidationFailed(
            "缺少列：" + "、".join(labels.get(key, key) for key in missing), field=FILE_FIELD
        )
    rows: list[TableRow] = []
    for line, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ValidationFailed(f"一次最多导入 {MAX_ROWS} 行", field=FILE_FIELD)
        cells = [*cells, *[""] * (len(keys) - len(cells))]  # a short row's missing cells are empty
        values = {
            key: cell.strip() for key, cell in zip(keys, cells, strict=False) if key is not None
        }
        rows.append(TableRow(line, values))
    return rows
