"""统计分析 page: a figure broken down by region, time, type, channel or institution."""

from __future__ import annotations

import reflex as rx

from console.stats.components import chart_box, sentences_card
from console.stats.service import (
    CHANNEL_FILTER,
    CHART_CHOICES,
    CROSS_CHOICES,
    DIMENSION_CHOICES,
    GRAINS,
    MEASURES,
    CaseRow,
)
from console.stats.statistics_state import BreakdownRow, StatisticsState
from console.ui.components import (
    error_callout,
    export_menu,
    option_select,
    page_heading,
    pager,
    period_picker,
    simple_table,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import dropdown, table_row

SECTION = section_by_key("statistics")


def _control(choices, name: str, testid: str) -> rx.Component:
    """A select of one control; a choice reloads the page."""
    return option_select(
        list(choices),
        value=getattr(StatisticsState, name),
        on_change=lambda v: StatisticsState.set_filter(name, v),
        testid=testid,
    )


def _controls() -> rx.Component:
    return rx.flex(
        period_picker(StatisticsState),
        _control(MEASURES.items(), "measure", "stats-measure"),
        rx.segmented_control.root(
            *[rx.segmented_control.item(label, value=value) for value, label in DIMENSION_CHOICES],
            value=StatisticsState.dimension,
            on_change=lambda v: StatisticsState.set_filter("dimension", v),
            size="1",
            data_testid="stats-dimension",
        ),
        rx.cond(StatisticsState.dimension == "time", _control(GRAINS, "grain", "stats-grain")),
        _control(CROSS_CHOICES, "cross", "stats-cross"),
        _control(CHANNEL_FILTER, "channel", "stats-channel"),
        _control(CHART_CHOICES, "chart_kind", "stats-chart-type"),
        rx.cond(
            StatisticsState.can_export,
            export_menu(
                (("xlsx", "Excel（XLSX）"), ("csv", "CSV")),
                StatisticsState.export,
                loading=StatisticsState.exporting,
                testid="stats-export",
            ),
        ),
        wrap="wrap",
        spacing="2",
        align="center",
    )


def _views() -> rx.Component:
    """Open a saved view; save the current one under a name, shared with a role."""
    picker = dropdown(
        StatisticsState.views,
        placeholder="打开已保存的视图",
        testid="stats-views",
        on_change=StatisticsState.open_view,
    )
    save = rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon("save", size=14),
                "保存视图",
                size="1",
                variant="soft",
                data_testid="stats-save-open",
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.input(
                    placeholder="视图名称，如：本月各渠道办结",
                    value=StatisticsState.view_name,
                    on_change=StatisticsState.set_view_name,
                    max_length=40,
                    data_testid="stats-view-name",
                ),
                rx.text("共享给角色（对方只看到其本人数据范围内的数字）", size="1"),
                dropdown(
                    StatisticsState.share_choices,
                    testid="stats-view-share",
                    value=StatisticsState.share_role,
                    on_change=StatisticsState.set_share_role,
                ),
                rx.popover.close(
                    rx.button(
                        "保存",
                        size="1",
                        loading=StatisticsState.saving,
                        on_click=StatisticsState.save_view,
                        data_testid="stats-view-save",
                    )
                ),
                spacing="2",
            )
        ),
    )
    return rx.hstack(picker, save, spacing="2", align="center")


def _crumbs() -> rx.Component:
    return rx.cond(
        StatisticsState.city != "",
        rx.hstack(
            rx.link(
                "全省", on_click=StatisticsState.back_to_province, data_testid="stats-province"
            ),
            rx.text("›"),
            rx.text(StatisticsState.city_label, data_testid="stats-city"),
            spacing="2",
            font_size="14px",
        ),
    )


def _row(row: BreakdownRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                row.label,
                on_click=StatisticsState.open_group(row.code, row.label),
                data_testid=f"stats-group-{row.code}",
            )
        ),
        rx.foreach(row.cells, lambda cell: rx.table.cell(cell)),
    )


def _table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(rx.foreach(StatisticsState.headers, rx.table.column_header_cell))
        ),
        rx.table.body(rx.foreach(StatisticsState.rows, _row)),
        size="1",
        width="100%",
        data_testid="stats-table",
    )


def _drill_row(row: CaseRow) -> rx.Component:
    return table_row(
        rx.tooltip(rx.text(row.tenant_name), content=row.tenant),
        row.case_no,
        row.business,
        row.channel,
        row.time,
        row.hours,
        rx.link("追溯", href=row.trace_url, data_testid="stats-trace"),
    )


def _drill() -> rx.Component:
    headers = ("区县", "受理编号", "业务", "渠道", "时间", "办理时长（小时）", "")
    return rx.cond(
        StatisticsState.drill_title != "",
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(StatisticsState.drill_title, weight="bold"),
                    rx.spacer(),
                    rx.icon_button(
                        rx.icon("x", size=14),
                        size="1",
                        variant="ghost",
                        on_click=StatisticsState.close_drill,
                    ),
                    width="100%",
                    align="center",
                ),
                simple_table(
                    headers, StatisticsState.drill_rows, _drill_row, testid="stats-drill-table"
                ),
                pager(
                    page=StatisticsState.page,
                    pages=StatisticsState.pages,
                    total=StatisticsState.total,
                    on_prev=StatisticsState.drill_page(-1),
                    on_next=StatisticsState.drill_page(1),
                ),
                width="100%",
            ),
            width="100%",
            data_testid="stats-drill",
        ),
    )


def statistics_page() -> rx.Component:
    """The page."""
    body = rx.vstack(
        page_heading(SECTION.label, SECTION.summary),
        _controls(),
        _views(),
        _crumbs(),
        error_callout(StatisticsState.error),
        sentences_card(StatisticsState.sentences, testid="stats-text"),
        sentences_card(StatisticsState.quality, testid="stats-quality", title="数据质量"),
        chart_box(
            StatisticsState.chart,
            testid="stats-chart",
            on_click=StatisticsState.drill,
            # The camera button saves the chart as PNG.
            config={
                "displaylogo": False,
                "toImageButtonOptions": {"format": "png", "filename": "统计分析"},
            },
        ),
        rx.cond(
            StatisticsState.dimension == "time",
            chart_box(StatisticsState.heatmap, testid="stats-heatmap"),
        ),
        _drill(),
        _table(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
