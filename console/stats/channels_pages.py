"""机构通道统计 page: institutions' cases and rejections, channels' calls and refusals."""

from __future__ import annotations

import reflex as rx

from console.stats.channels_state import ChannelStatsState, ChannelView, InstitutionView
from console.stats.components import dashboard_head
from console.ui.components import simple_table
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import table_row

SECTION = section_by_key("channel_stats")
INSTITUTION_COLUMNS = ("渠道", "机构", "受理", "办结", "驳回", "驳回率", "平均时长（小时）")
CHANNEL_COLUMNS = ("区县", "通道", "类型", "调用", "被拒", "被拒率")


def _flag(text, flagged) -> rx.Component:
    return rx.text(text, color_scheme=rx.cond(flagged, "red", "gray"))


def _institution(row: InstitutionView) -> rx.Component:
    return table_row(
        row.channel,
        row.institution,
        rx.link(row.received, href=row.cases_url, data_testid="institution-cases"),
        row.completed,
        row.rejected,
        _flag(row.rate, row.flagged),
        row.hours,
    )


def _channel(row: ChannelView) -> rx.Component:
    return table_row(
        row.tenant, row.name, row.kind, row.calls, row.refusals, _flag(row.rate, row.flagged)
    )


def channel_stats_page() -> rx.Component:
    """The page."""
    body = rx.vstack(
        *dashboard_head(SECTION, ChannelStatsState, testid="channel-stats"),
        rx.heading("机构办件", size="3"),
        simple_table(
            INSTITUTION_COLUMNS,
            ChannelStatsState.institutions,
            _institution,
            testid="channel-stats-institutions",
        ),
        rx.heading("机构通道调用（被拒率高的在前）", size="3"),
        simple_table(
            CHANNEL_COLUMNS, ChannelStatsState.channels, _channel, testid="channel-stats-channels"
        ),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
