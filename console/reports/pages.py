"""报表中心 page: generate, follow and download monthly and quarterly reports."""

from __future__ import annotations

import reflex as rx

from console.reports.service import ReportRow, SubscriptionRow
from console.reports.state import ReportsState
from console.ui.components import (
    error_callout,
    list_table,
    page_heading,
    search_box,
    status_badge,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import action_button, dropdown, row_button, table_row

SECTION = section_by_key("reports")
COLUMNS = ("报表", "范围", "期间", "状态", "方式", "生成人", "申请时间", "下载")
FORMAT_LABELS = (("xlsx", "XLSX"), ("html", "HTML"), ("pdf", "PDF"))
STATUS_COLOURS = {"done": "green", "queued": "gray", "running": "blue", "failed": "red"}


def _select(
    items: rx.Var,
    value: rx.Var[str],
    on_change: object,
    testid: str,
    placeholder: str | None = None,
) -> rx.Component:
    """A select over a list of ``Choice`` held in the state."""
    return dropdown(items, placeholder=placeholder, testid=testid, value=value, on_change=on_change)


def _generate_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("生成报表", size="3"),
            rx.flex(
                _select(
                    ReportsState.definition_choices,
                    ReportsState.form_definition,
                    ReportsState.set_form_definition,
                    "report-definition",
                ),
                _select(
                    ReportsState.scopes,
                    ReportsState.form_scope,
                    ReportsState.set_form_scope,
                    "report-scope",
                    "范围",
                ),
                _select(
                    ReportsState.period_choices,
                    ReportsState.form_period,
                    ReportsState.set_form_period,
                    "report-period",
                    "期间",
                ),
                action_button(
                    "生成",
                    ReportsState.generate,
                    icon="file-plus",
                    variant=None,
                    loading=ReportsState.generating,
                    testid="report-generate",
                ),
                action_button(
                    "订阅定时生成",
                    ReportsState.subscribe,
                    icon="calendar-clock",
                    testid="report-subscribe",
                ),
                wrap="wrap",
                spacing="2",
                align="center",
            ),
            rx.text(
                "报表按所选范围与期间，从日志湖的统计数据生成 XLSX（含图表）、HTML 与 PDF；"
                "只能生成已结束的月份或季度。",
                size="1",
                color_scheme="gray",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _subscription(order: SubscriptionRow) -> rx.Component:
    return rx.hstack(
        rx.icon("calendar-clock", size=14),
        rx.text(order.title, "·", order.scope, size="2"),
        rx.text(order.cadence, size="1", color_scheme="gray"),
        rx.spacer(),
        row_button(
            "取消订阅", ReportsState.unsubscribe(order.id), variant="ghost", color_scheme="red"
        ),
        width="100%",
        align="center",
        data_testid="report-subscription",
    )


def _subscriptions() -> rx.Component:
    return rx.cond(
        ReportsState.subscriptions.length() > 0,  # type: ignore[attr-defined]
        rx.card(
            rx.vstack(
                rx.heading("我的订阅", size="3"),
                rx.foreach(ReportsState.subscriptions, _subscription),
                spacing="2",
                width="100%",
            ),
            width="100%",
        ),
    )


def _status(report: ReportRow) -> rx.Component:
    return rx.vstack(
        status_badge(
            report.status_label,
            report.status,
            STATUS_COLOURS,
            otherwise="gray",
            testid="report-status",
        ),
        rx.cond(
            report.status == "running",
            rx.progress(value=report.progress, width="100px", data_testid="report-progress"),
        ),
        rx.cond(report.note != "", rx.text(report.note, size="1", color_scheme="gray")),
        spacing="1",
    )


def _downloads(report: ReportRow) -> rx.Component:
    buttons = [
        row_button(
            label,
            ReportsState.download(report.id, fmt),
            allowed=report.formats.contains(fmt),  # type: ignore[attr-defined]
            testid=f"report-download-{fmt}",
        )
        for fmt, label in FORMAT_LABELS
    ]
    return rx.cond(ReportsState.can_export, rx.hstack(*buttons, spacing="1"), rx.text("—"))


def _row(report: ReportRow) -> rx.Component:
    return table_row(
        report.title,
        report.scope,
        report.period,
        _status(report),
        report.trigger,
        report.requested_by,
        report.created_at,
        _downloads(report),
        data_testid="report-row",
    )


def _filters() -> rx.Component:
    return rx.flex(
        _select(
            ReportsState.definition_filters,
            ReportsState.definition_filter,
            lambda v: ReportsState.set_filter("definition", v),
            "report-filter-definition",
        ),
        _select(
            ReportsState.scope_filters,
            ReportsState.scope_filter,
            lambda v: ReportsState.set_filter("scope", v),
            "report-filter-scope",
        ),
        _select(
            ReportsState.status_filters,
            ReportsState.status_filter,
            lambda v: ReportsState.set_filter("status", v),
            "report-filter-status",
        ),
        search_box(ReportsState.search, "期间、范围或生成人", "report-search"),
        wrap="wrap",
        spacing="2",
        align="center",
        width="100%",
    )


def reports_page() -> rx.Component:
    """The page."""
    body = rx.vstack(
        page_heading(SECTION.label, "月度、季度监管报表：图表与文字说明同页，可下载与归档"),
        rx.cond(ReportsState.can_generate, _generate_form()),
        _subscriptions(),
        _filters(),
        error_callout(ReportsState.error),
        list_table(
            ReportsState,
            COLUMNS,
            _row,
            size="1",
            empty=("还没有报表", "在上方选择模板、范围与期间后点击“生成”，或订阅定时生成。"),
        ),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
