"""运维监控 → 告警中心: open alerts per severity, the filtered list, silences, the dialogs."""

from __future__ import annotations

import reflex as rx

from console.alerts.components import alert_row, dialogs, filters, silences_card, tiles
from console.alerts.state import AlertsState
from console.ui.components import list_table, page_heading
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import list_body

SECTION = section_by_key("alerts")
COLUMNS = ("级别", "类型", "对象", "区县", "摘要", "首次触发", "最近一次", "状态", "处理人", "操作")


def alerts_page() -> rx.Component:
    """The page."""
    table = list_table(
        AlertsState,
        COLUMNS,
        alert_row,
        size="1",
        empty=("暂无告警", "规则在「告警规则」页设置，评估每分钟一次。"),
    )
    body = list_body(
        page_heading(SECTION.label, SECTION.summary),
        rx.vstack(tiles(), filters(), spacing="3", width="100%"),
        AlertsState,
        table,
        silences_card(),
        dialogs(),
    )
    return shell(body, title=SECTION.label, section=SECTION)
