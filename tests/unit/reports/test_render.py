"""Report files: the workbook's cells and native charts, the HTML page, the printed PDF."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from console.core.errors import UserError
from console.reports.content import Block, Chart, ReportContent
from console.reports.render import chromium_binary, render_html, write_pdf, write_xlsx

SCRIPT = "<script>alert(1)</script>"
LONG_TITLE = "各区县不动产登记业务办理时效明细（含超期件数、平均办理时长与按期办结率统计）"


def _content() -> ReportContent:
    counties = ["南山区", "=SUM(A1)", SCRIPT]
    volume = Block(
        title="业务量",
        sentences=["本月共受理 12,850 件。", "=SUM(A1) 的受理量最高。"],
        headers=["区县", "受理件数", "平均时长（天）", "按期办结率"],
        rows=[
            ["南山区", 12345, 2.46, 0.123],
            ["=SUM(A1)", 405, None, 0.5],
            [SCRIPT, 100, 3.0, 1.0],
            ["合计", 12850, 2.6, 0.2],
        ],
        chart=Chart("bar", "各区县受理件数", counties, [12345, 405, 100], "受理件数"),
        chart_column=1,
        percent_columns=(3,),
    )
    channels = Block(
        title="渠道/来源:分布",
        sentences=["线上渠道占七成。"],
        headers=["渠道", "办件数"],
        rows=[["线上", 70], ["线下", 30]],
        chart=Chart("pie", "渠道占比", ["线上", "线下"], [70, 30], "办件数"),
    )
    timeliness = Block(
        title=LONG_TITLE,
        sentences=["超期件数较上月下降。"],
        headers=["区县", "超期件数"],
        rows=[["南山区", 3], ["福田区", 0]],
    )
    return ReportContent(
        title="不动产登记月度监管报表",
        scope_label="全省",
        period_label="2026年10月",
        generated_at="2026-11-01 08:00",
        generated_by="省级监管员",
        blocks=[volume, channels, timeliness],
    )


# --- Excel -------------------------------------------------------------------------------------


@pytest.fixture
def workbook_path(tmp_path: Path) -> Path:
    path = tmp_path / "report.xlsx"
    write_xlsx(_content(), path)
    return path


def _charts(path: Path) -> list[tuple[str, list[str]]]:
    """Each chart part of the workbook: its plot type and the cell ranges it reads."""
    found = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            if re.fullmatch(r"xl/charts/chart\d+\.xml", name):
                xml = archive.read(name).decode("utf-8")
                kind = re.search(r"<c:(barChart|lineChart|pieChart)>", xml)
                assert kind is not None
                found.append((kind.group(1), re.findall(r"<c:f>([^<]+)</c:f>", xml)))
    return found


def test_the_workbook_has_a_summary_sheet_then_one_valid_sheet_per_block(
    workbook_path: Path,
) -> None:
    book = openpyxl.load_workbook(workbook_path)
    assert book.sheetnames == ["概要", "业务量", "渠道来源分布", LONG_TITLE[:31]]
    summary = [
        [cell.value for cell in row if cell.value is not None] for row in book["概要"].iter_rows()
    ]
    lines = [line for line in summary if line]
    assert lines[:5] == [
        ["不动产登记月度监管报表"],
        ["范围", "全省"],
        ["期间", "2026年10月"],
        ["生成时间", "2026-11-01 08:00"],
        ["生成人", "省级监管员"],
    ]
    assert lines[5:8] == [["业务量"], ["本月共受理 12,850 件。"], ["=SUM(A1) 的受理量最高。"]]
    assert lines[8:] == [
        ["渠道/来源:分布"],
        ["线上渠道占七成。"],
        [LONG_TITLE],
        ["超期件数较上月下降。"],
        ["本报表由不动产登记运维监管平台根据日志湖数据自动生成"],
    ]
    assert book["概要"]["A1"].font.b


def test_block_sheets_keep_numbers_as_numbers_and_text_as_text(workbook_path: Path) -> None:
    sheet = openpyxl.load_workbook(workbook_path)["业务量"]
    assert [cell.value for cell in sheet[1]] == ["区县", "受理件数", "平均时长（天）", "按期办结率"]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"

    count, duration, share = sheet["B2"], sheet["C2"], sheet["D2"]
    assert (count.value, count.data_type, count.number_format) == (12345, "n", "#,##0")
    assert (duration.value, duration.data_type) == (2.46, "n")
    assert duration.number_format.endswith("0.0")
    assert (share.value, share.data_type) == (0.123, "n")
    assert "%" in share.number_format

    # Text that looks like a formula stays text: no formula cell, no evaluation.
    formula_like = sheet["A3"]
    assert (formula_like.value, formula_like.data_type) == ("=SUM(A1)", "s")
    assert sheet["C3"].value is None
    assert sheet["A4"].value == SCRIPT
    assert sheet["B5"].value == 12850
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["B"].width > 8

    summary = openpyxl.load_workbook(workbook_path)["概要"]
    assert all(cell.data_type != "f" for row in summary.iter_rows() for cell in row)
    # The block's sentences go below the table (and its chart).
    texts = [cell.value for cell in sheet["A"] if cell.value is not None]
    assert texts[-2:] == ["本月共受理 12,850 件。", "=SUM(A1) 的受理量最高。"]


def test_charts_are_native_and_read_the_table(workbook_path: Path) -> None:
    book = openpyxl.load_workbook(workbook_path)
    assert [len(book[name]._charts) for name in book.sheetnames] == [0, 1, 1, 0]
    # The bar chart reads the counties and counts, leaving the 合计 row out; the pie the channels.
    assert _charts(workbook_path) == [
        ("barChart", ["业务量!$A$2:$A$4", "业务量!$B$2:$B$4"]),
        ("pieChart", ["渠道来源分布!$A$2:$A$3", "渠道来源分布!$B$2:$B$3"]),
    ]
    with zipfile.ZipFile(workbook_path) as archive:
        bar = archive.read("xl/charts/chart1.xml").decode("utf-8")
        anchor = archive.read("xl/drawings/drawing1.xml").decode("utf-8")
    assert '<c:barDir val="col"/>' in bar
    assert "各区县受理件数" in bar
    # Anchored right of the four-column table, not over it.
    assert re.search(r"<xdr:from><xdr:col>5</xdr:col>", anchor)


def test_sheet_names_stay_unique_beside_the_summary(tmp_path: Path) -> None:
    block = Block(title="概要", sentences=[], headers=["项目"], rows=[["a"]])
    content = ReportContent("报表", "全省", "2026年10月", "2026-11-01", "管理员", [block] * 3)
    path = tmp_path / "dup.xlsx"
    write_xlsx(content, path)
    names = openpyxl.load_workbook(path).sheetnames
    assert names == ["概要", "概要（2）", "概要（3）", "概要（4）"]


# --- HTML --------------------------------------------------------------------------------------


def test_the_html_page_escapes_every_label_and_formats_numbers() -> None:
    html = render_html(_content())
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in html
    assert '<meta charset="utf-8">' in html
    assert "@page { size: A4; margin: 15mm; }" in html
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for text in ["不动产登记月度监管报表", "全省", "2026年10月", "2026-11-01 08:00", "省级监管员"]:
        assert text in html
    for block in _content().blocks:
        assert f"<h2>{block.title}</h2>" in html
        for sentence in block.sentences:
            assert f"<p>{sentence}</p>" in html
    assert '<td class="num">12,345</td>' in html
    assert '<td class="num">2.5</td>' in html
    assert '<td class="num">12.3%</td>' in html
    assert '<td class="num">100.0%</td>' in html
    assert "<td>—</td>" in html
    assert "本报表由不动产登记运维监管平台根据日志湖数据自动生成" in html


def test_the_html_page_embeds_plotly_once_and_draws_each_chart() -> None:
    html = render_html(_content())
    # plotly.js's bundle opens with its licence banner; embedded once, before the first chart.
    assert html.count("* plotly.js v") == 1
    assert html.count("window.PlotlyConfig") == 1
    assert html.count('class="plotly-graph-div"') == 2
    first, second = html.find('id="chart-1"'), html.find('id="chart-2"')
    assert html.find("* plotly.js v") < first < second
    assert 'id="chart-3"' not in html
    assert 'Plotly.newPlot(                        "chart-2"' in html
    assert "Noto Sans CJK SC, sans-serif" in html
    assert html.count('{"displayModeBar": false, "responsive": false}') == 2
    assert '"width":900' in html
    assert '"height":360' in html
    # Chart labels travel as escaped JSON inside the script, never as markup.
    assert "\\u003cscript\\u003ealert(1)" in html


def test_a_report_without_charts_carries_no_plotly() -> None:
    content = _content()
    plain = ReportContent(
        content.title, content.scope_label, content.period_label, content.generated_at,
        content.generated_by, [content.blocks[2]],
    )  # fmt: skip
    html = render_html(plain)
    assert "plotly.js" not in html
    assert "plotly-graph-div" not in html
    assert "超期件数较上月下降。" in html


# --- PDF ---------------------------------------------------------------------------------------


def _print(content: ReportContent, folder: Path, name: str) -> bytes:
    html_path, pdf_path = folder / f"{name}.html", folder / f"{name}.pdf"
    html_path.write_text(render_html(content), encoding="utf-8")
    write_pdf(html_path, pdf_path, timeout=60)
    return pdf_path.read_bytes()


def test_the_pdf_is_printed_by_chromium_with_its_charts(tmp_path: Path) -> None:
    if chromium_binary() is None:
        pytest.skip("Chromium not installed")
    content = _content()
    data = _print(content, tmp_path, "report")
    assert data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(tmp_path / "report.pdf"), "-"],
            capture_output=True, check=True, text=True,
        ).stdout  # fmt: skip
        assert "不动产登记月度监管报表" in text
        # Chart titles exist only inside the Plotly figures: they prove the charts were drawn.
        assert "各区县受理件数" in text
        assert "渠道占比" in text
    else:
        # Without a text extractor: drawn charts add their vector shapes and labels (about
        # 12 KB here), while chart boxes Plotly never drew add about 1 KB.
        bare = replace(content, blocks=[replace(block, chart=None) for block in content.blocks])
        assert len(data) - len(_print(bare, tmp_path, "bare")) > 5_000


def test_without_chromium_the_pdf_is_refused_in_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert chromium_binary() is None
    with pytest.raises(UserError, match="未找到 Chromium，无法生成 PDF"):
        write_pdf(tmp_path / "report.html", tmp_path / "report.pdf")


def _fake_chromium(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-chromium"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_bdc_chromium_names_the_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_chromium(tmp_path, "exit 0")
    monkeypatch.setenv("BDC_CHROMIUM", str(fake))
    assert chromium_binary() == str(fake)
    monkeypatch.setenv("BDC_CHROMIUM", str(tmp_path / "missing"))
    assert chromium_binary() is None


def test_a_failed_print_reports_chromiums_error_and_leaves_no_stale_pdf(tmp_path: Path) -> None:
    fake = _fake_chromium(tmp_path, 'echo "profile $*" >&2; echo "GPU process crashed" >&2; exit 1')
    html_path, pdf_path = tmp_path / "report.html", tmp_path / "report.pdf"
    html_path.write_text("<p>x</p>", encoding="utf-8")
    pdf_path.write_bytes(b"%PDF-1.4 from an earlier run")
    with pytest.raises(UserError, match=r"(?s)生成 PDF 失败：.*GPU process crashed") as raised:
        write_pdf(html_path, pdf_path, chromium=str(fake))
    assert not pdf_path.exists()
    # Chromium ran with a throwaway profile and printed the page by its file URL.
    arguments = str(raised.value)
    assert "--user-data-dir=" in arguments
    assert f"--print-to-pdf={pdf_path}" in arguments
    assert html_path.as_uri() in arguments


def test_a_hung_chromium_times_out(tmp_path: Path) -> None:
    fake = _fake_chromium(tmp_path, "exec sleep 30")
    with pytest.raises(UserError, match="超时"):
        write_pdf(tmp_path / "r.html", tmp_path / "r.pdf", chromium=str(fake), timeout=0.5)
