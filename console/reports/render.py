"""Report files: an Excel workbook with native charts, a self-contained HTML page, and its PDF.

The workbook keeps numbers as numbers so that its charts and the user's own formulas work on
them; the HTML page embeds plotly.js once so it opens offline; the PDF is the HTML page
printed by headless Chromium, the only engine here that runs Plotly's JavaScript.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import xlsxwriter
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from console.core.errors import UserError
from console.reports.content import Block, Cell, Chart, ReportContent

FOOTER = "本报表由不动产登记运维监管平台根据日志湖数据自动生成"
SUMMARY_SHEET = "概要"
CHROMIUM_ENV = "BDC_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

CHART_WIDTH = 900
CHART_HEIGHT = 360
CHART_FONT = "Noto Sans CJK SC, sans-serif"
EMPTY = "—"
# A4 less 15 mm margins each side is 180 mm, about 680 CSS px: printed charts shrink to fit.
_PRINT_WIDTH = 680
_PRINT_ZOOM = math.floor(_PRINT_WIDTH / CHART_WIDTH * 100) / 100

_TEMPLATES = Path(__file__).parent / "templates"
_SHEET_NAME_MAX = 31
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_XLSX_CHART_TYPES = {"bar": "column", "line": "line", "pie": "pie"}
_XLSX_CHART_WIDTH, _XLSX_CHART_HEIGHT = 640, 360
_XLSX_ROW_HEIGHT = 20  # Excel's default row height in pixels
_COLUMN_WIDTH_MIN, _COLUMN_WIDTH_MAX = 8, 50


def _finite(value: Cell) -> Cell:
    """The cell, with NaN and infinities made blank (neither Excel nor a reader can use them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _is_number(value: Cell) -> bool:
    """Whether a cell holds a number (``bool`` is an ``int`` to Python, not to a report)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- Excel -------------------------------------------------------------------------------------


def _display_width(text: str) -> int:
    """Columns ``text`` takes in Excel: Chinese and other wide characters count twice."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _sheet_names(titles: list[str], taken: set[str]) -> list[str]:
    """Valid, distinct worksheet names for ``titles``, avoiding the (case-blind) ``taken``."""
    names: list[str] = []
    used = {name.casefold() for name in taken}
    for title in titles:
        # Excel also refuses a name starting or ending with an apostrophe, and "History".
        base = _SHEET_NAME_BAD.sub("", title).strip().strip("'").strip() or "数据"
        if base.casefold() == "history":
            base = f"{base}（表）"
        name, number = base[:_SHEET_NAME_MAX], 1
        while name.casefold() in used:
            number += 1
            suffix = f"（{number}）"
            name = base[: _SHEET_NAME_MAX - len(suffix)] + suffix
        used.add(name.casefold())
        names.append(name)
    return names


def _number_format(value: int | float, *, percent: bool) -> str:
    """The Excel number format a value is shown with."""
    if percent:
        return "0.0%"
    return "#,##0" if isinstance(value, int) else "#,##0.0"


def _cell_text(value: Cell, *, percent: bool) -> str:
    """How a cell reads, both in the HTML table and for sizing the workbook's columns."""
    value = _finite(value)
    if value is None:
        return EMPTY
    if not _is_number(value):
        return str(value)
    if percent:
        return f"{value:.1%}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _write_summary(workbook: xlsxwriter.Workbook, content: ReportContent) -> None:
    """The first sheet: what the report is, then every block's title and sentences."""
    sheet = workbook.add_worksheet(SUMMARY_SHEET)
    title = workbook.add_format({"bold": True, "font_size": 16})
    label = workbook.add_format({"bold": True})
    heading = workbook.add_format({"bold": True, "font_size": 12})
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 60)
    sheet.set_row(0, 24)
    sheet.write_string(0, 0, content.title, title)
    facts = [
        ("范围", content.scope_label),
        ("期间", content.period_label),
        ("生成时间", content.generated_at),
        ("生成人", content.generated_by),
    ]
    row = 2
    for name, value in facts:
        sheet.write_string(row, 0, name, label)
        sheet.write_string(row, 1, value)
        row += 1
    for block in content.blocks:
        row += 1
        sheet.write_string(row, 0, block.title, heading)
        row += 1
        for sentence in block.sentences:
            sheet.write_string(row, 0, sentence)
            row += 1
    sheet.write_string(row + 1, 0, FOOTER)


def _write_table(sheet: Worksheet, block: Block, formats: dict[str, Format]) -> None:
    """The block's header row and data rows, numbers as numbers and text always as text."""
    percent = set(block.percent_columns)
    for column, header in enumerate(block.headers):
        sheet.write_string(0, column, header, formats["header"])
    widths = [_display_width(header) for header in block.headers]
    for line, row in enumerate(block.rows, start=1):
        for column, raw in enumerate(row):
            value = _finite(raw)
            if value is None:
                sheet.write_blank(line, column, None)
                continue
            if _is_number(value):
                shown = _number_format(value, percent=column in percent)
                sheet.write_number(line, column, value, formats[shown])
            else:
                # write_string: "=SUM(A1)" or "@cmd" from a log stays text, never a formula.
                sheet.write_string(line, column, str(value))
            text = _cell_text(value, percent=column in percent)
            if column >= len(widths):
                widths.append(0)
            widths[column] = max(widths[column], _display_width(text))
    for column, width in enumerate(widths):
        sheet.set_column(column, column, min(max(width + 2, _COLUMN_WIDTH_MIN), _COLUMN_WIDTH_MAX))
    sheet.freeze_panes(1, 0)


def _add_chart(
    workbook: xlsxwriter.Workbook, sheet: Worksheet, name: str, block: Block, chart: Chart
) -> int:
    """A native chart over the table, right of it; the number of rows it covers."""
    # The chart draws the rows its categories name; a trailing 合计 row stays out of it.
    last = min(len(chart.categories), len(block.rows)) or len(block.rows)
    column = block.chart_column
    native = workbook.add_chart({"type": _XLSX_CHART_TYPES[chart.kind]})
    series: dict[str, object] = {
        "name": chart.value_label,
        "categories": [name, 1, 0, last, 0],
        "values": [name, 1, column, last, column],
    }
    if chart.kind == "pie":
        series["data_labels"] = {"percentage": True}
    else:
        native.set_legend({"none": True})
        native.set_y_axis({"name": chart.value_label})
    if chart.kind == "line":
        series["marker"] = {"type": "circle"}
    native.add_series(series)
    native.set_title({"name": chart.title})
    native.set_size({"width": _XLSX_CHART_WIDTH, "height": _XLSX_CHART_HEIGHT})
    sheet.insert_chart(0, len(block.headers) + 1, native, {"x_offset": 10, "y_offset": 0})
    return math.ceil(_XLSX_CHART_HEIGHT / _XLSX_ROW_HEIGHT)


def write_xlsx(content: ReportContent, path: Path) -> None:
    """Write the report as a workbook: a 概要 sheet, then one sheet (and chart) per block."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            # Text from logs stays the text it was: never a formula, number or link.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    formats: dict[str, Format] = {
        "header": workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "bottom": 1}),
        "0.0%": workbook.add_format({"num_format": "0.0%"}),
        "#,##0": workbook.add_format({"num_format": "#,##0"}),
        "#,##0.0": workbook.add_format({"num_format": "#,##0.0"}),
    }
    _write_summary(workbook, content)
    names = _sheet_names([block.title for block in content.blocks], {SUMMARY_SHEET})
    for name, block in zip(names, content.blocks, strict=True):
        sheet = workbook.add_worksheet(name)
        _write_table(sheet, block, formats)
        covered = 0
        if block.chart is not None and block.rows:
            covered = _add_chart(workbook, sheet, name, block, block.chart)
        # Sentences go below the table and below the chart, which floats over the cells.
        line = max(len(block.rows) + 2, covered + 1)
        for sentence in block.sentences:
            sheet.write_string(line, 0, sentence)
            line += 1
    workbook.close()


# --- HTML --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _HtmlCell:
    """A table cell as shown: its text and whether it is a number (right-aligned)."""

    text: str
    numeric: bool


@dataclass(frozen=True)
class _HtmlBlock:
    """A block ready for the template; ``chart`` is Plotly's trusted markup or empty."""

    title: str
    sentences: list[str]
    headers: list[str]
    rows: list[list[_HtmlCell]]
    chart: Markup


@functools.cache
def _environment() -> Environment:
    """The Jinja environment; autoescaping is on because every label comes from log data."""
    return Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _figure(chart: Chart) -> go.Figure:
    """The Plotly figure of a chart, sized for an A4 page and in a Chinese font."""
    if chart.kind == "pie":
        trace: go.Pie | go.Bar | go.Scatter = go.Pie(
            labels=chart.categories,
            values=chart.values,
            name=chart.value_label,
            sort=False,
            textinfo="label+percent",
        )
    elif chart.kind == "line":
        trace = go.Scatter(
            x=chart.categories, y=chart.values, name=chart.value_label, mode="lines+markers"
        )
    else:
        trace = go.Bar(x=chart.categories, y=chart.values, name=chart.value_label)
    figure = go.Figure(trace)
    figure.update_layout(
        title={"text": chart.title, "x": 0.02},
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        font={"family": CHART_FONT, "size": 13},
        template="plotly_white",
        margin={"l": 60, "r": 30, "t": 50, "b": 60},
        showlegend=chart.kind == "pie",
        # A printed page is captured once; nothing may still be moving then.
        transition={"duration": 0},
    )
    if chart.kind != "pie":
        figure.update_yaxes(title_text=chart.value_label, rangemode="tozero")
        # Category axis: "2026-10" must not be read as a date, nor "01" as a number.
        figure.update_xaxes(type="category")
    return figure


def _chart_html(chart: Chart, *, div_id: str, include_plotlyjs: bool) -> Markup:
    """The chart's div and script; Plotly escapes ``<`` ``>`` ``/`` in the data it embeds."""
    html = _figure(chart).to_html(
        full_html=False,
        include_plotlyjs=include_plotlyjs,
        div_id=div_id,
        default_width=f"{CHART_WIDTH}px",
        default_height=f"{CHART_HEIGHT}px",
        config={"displayModeBar": False, "responsive": False},
        auto_play=False,
    )
    # Trusted: Plotly's own markup, with every label inside JSON-escaped by Plotly.
    return Markup(html)


def render_html(content: ReportContent) -> str:
    """The report as one self-contained, printable HTML page (plotly.js embedded once)."""
    blocks: list[_HtmlBlock] = []
    plotly_included = False
    for index, block in enumerate(content.blocks, start=1):
        chart = Markup("")
        if block.chart is not None:
            chart = _chart_html(
                block.chart, div_id=f"chart-{index}", include_plotlyjs=not plotly_included
            )
            plotly_included = True
        percent = set(block.percent_columns)
        rows = [
            [
                _HtmlCell(_cell_text(value, percent=column in percent), _is_number(_finite(value)))
                for column, value in enumerate(row)
            ]
            for row in block.rows
        ]
        blocks.append(
            _HtmlBlock(
                title=block.title,
                sentences=list(block.sentences),
                headers=list(block.headers),
                rows=rows,
                chart=chart,
            )
        )
    template = _environment().get_template("report.html.j2")
    return template.render(
        content=content,
        blocks=blocks,
        footer=FOOTER,
        chart_width=CHART_WIDTH,
        print_zoom=_PRINT_ZOOM,
    )


# --- PDF ---------------------------------------------------------------------------------------


def chromium_binary() -> str | None:
    """The Chromium to print PDFs with: ``BDC_CHROMIUM``, else the first one on ``PATH``."""
    configured = os.environ.get(CHROMIUM_ENV, "").strip()
    if configured:
        return shutil.which(configured)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _tail(data: bytes, *, limit: int = 800) -> str:
    """The last part of a process's output, decoded for an error message."""
    return data.decode("utf-8", errors="replace").strip()[-limit:]


def _is_pdf(path: Path) -> bool:
    """Whether ``path`` is a file that starts like a PDF."""
    try:
        with path.open("rb") as file:
            return file.read(4) == b"%PDF"
    except OSError:
        return False


def write_pdf(
    html_path: Path, pdf_path: Path, *, chromium: str | None = None, timeout: float = 120
) -> None:
    """Print an HTML report to an A4 PDF with headless Chromium.

    Raises:
        UserError: no Chromium was found, or it failed, timed out or wrote no PDF.
    """
    binary = chromium or chromium_binary()
    if binary is None:
        raise UserError("未找到 Chromium，无法生成 PDF")
    pdf_path.unlink(missing_ok=True)  # a stale file must not pass for this run's output
    # A throwaway profile: never the user's own, and no lock shared with a running browser.
    with tempfile.TemporaryDirectory(prefix="bdc-chromium-") as profile:
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            # Virtual time lets Plotly's scripts finish drawing before the page is printed.
            "--virtual-time-budget=15000",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            result = subprocess.run(command, timeout=timeout, capture_output=True, check=False)
        except subprocess.TimeoutExpired as error:
            raise UserError(f"生成 PDF 超时（{timeout:g} 秒）") from error
        except OSError as error:
            raise UserError(f"无法启动 Chromium：{error}") from error
    if not _is_pdf(pdf_path):
        detail = _tail(result.stderr) or f"退出码 {result.returncode}"
        raise UserError(f"生成 PDF 失败：{detail}")
