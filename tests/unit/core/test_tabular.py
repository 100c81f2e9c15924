"""Uploaded CSV/XLSX files read into text rows that keep their line numbers."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from console.core.errors import ValidationFailed
from console.core.exporting import render
from console.core.tabular import read_table

COLUMNS = {"代码": "code", "名称": "label", "日期": "day", "code": "code"}


def _xlsx(*rows: list[object]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_typed_as_numbers_and_dates_read_as_the_text_people_typed() -> None:
    content = _xlsx(
        ["代码", "名称", "日期", "备注"],
        [330106, "西湖区", datetime(2026, 12, 1), "ignored"],
        [None, None, None, None],
        [1.5, "小数", date(2027, 1, 2), ""],
    )
    rows = read_table(content, "d.xlsx", columns=COLUMNS, required=("code",))
    assert [(r.line, r.values) for r in rows] == [
        (2, {"code": "330106", "label": "西湖区", "day": "2026-12-01"}),
        (4, {"code": "1.5", "label": "小数", "day": "2027-01-02"}),
    ]


def test_csv_blank_lines_are_skipped_but_line_numbers_stay_true() -> None:
    content = "\ufeffcode,名称\n100,首次登记\n\n200,转移登记\n".encode()
    rows = read_table(content, "r.csv", columns=COLUMNS)
    assert [(r.line, r.get("code"), r.get("label")) for r in rows] == [
        (2, "100", "首次登记"),
        (4, "200", "转移登记"),
    ]


def test_a_missing_required_column_is_named_in_chinese() -> None:
    with pytest.raises(ValidationFailed, match="缺少列：名称"):
        read_table(b"code\n1\n", "r.csv", columns=COLUMNS, required=("code", "label"))


def test_xlsx_export_keeps_leading_zeros_as_text() -> None:
    content = render(("代码", "名称"), [("010100", "北京")], fmt="xlsx", sheet="区划")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.title == "区划"
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["代码", "名称"],
        ["010100", "北京"],
    ]
    assert read_table(content, "x.xlsx", columns=COLUMNS)[0].values == {
        "code": "010100",
        "label": "北京",
    }


def test_xlsx_export_writes_numbers_dates_and_booleans_as_typed_cells_and_text_as_text() -> None:
    moment = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)  # 10:30 in Beijing
    row = (1234, 98.5, date(2026, 12, 1), moment, True, "330106", "=1+1", None, 10**16)
    content = render([f"列{n}" for n in range(len(row))], [row], fmt="xlsx", sheet="类型")
    cells = next(load_workbook(io.BytesIO(content)).active.iter_rows(min_row=2))
    values = [cell.value for cell in cells]
    assert values[:5] == [1234, 98.5, datetime(2026, 12, 1), datetime(2026, 12, 1, 10, 30), True]
    assert values[5:] == ["330106", "=1+1", None, str(10**16)]  # text, never a formula
    assert [cells[n].data_type for n in (0, 1, 4, 5, 6)] == ["n", "n", "b", "s", "s"]
    assert cells[2].number_format == "yyyy-mm-dd"
    assert cells[3].number_format == "yyyy-mm-dd hh:mm:ss"


def test_an_xlsx_that_would_inflate_to_hundreds_of_megabytes_is_refused_unread() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(200):  # 200 MB of zeros, about 200 KB compressed
                entry.write(chunk)
    bomb = buffer.getvalue()
    assert len(bomb) < 1024 * 1024
    with pytest.raises(ValidationFailed, match="压缩炸弹"):
        read_table(bomb, "bomb.xlsx")
