"""The 拒收记录 card of 日志保全: refused pushed lines with their reasons, masked."""

from __future__ import annotations

import reflex as rx

from console.logs.contract import STREAM_LABELS
from console.logs.quarantine_service import QuarantineRow
from console.logs.quarantine_state import QuarantineState
from console.ui.components import list_table, search_box
from console.ui.widgets import filter_select, table_row, toolbar

COLUMNS = ("接收时间", "日志", "密钥", "租户", "行号", "拒收原因", "内容（已脱敏）")


def _row(row: QuarantineRow) -> rx.Component:
    return table_row(
        row.time,
        row.stream,
        rx.code(row.key_id, size="1"),
        row.tenant,
        row.line_no,
        rx.text(row.reason, size="1", color="var(--red-11)"),
        rx.code(
            row.preview,
            size="1",
            max_width="360px",
            white_space="pre-wrap",
            word_break="break-all",
        ),
        data_testid=f"quarantine-{row.id}",
    )


def quarantine_card() -> rx.Component:
    """Every line a push refused: kept encrypted, shown masked, purged after its retention."""
    return rx.card(
        rx.vstack(
            rx.heading("拒收记录", size="3"),
            rx.text(
                "推送中被拒收的每一行都在这里留存（加密保存，显示时脱敏），"
                "即使发送方丢弃了接口返回的拒收明细。",
                size="2",
                color_scheme="gray",
            ),
            toolbar(
                search_box(QuarantineState.search, "密钥编号", "quarantine-key", width="200px"),
                filter_select(
                    QuarantineState, "stream_filter", STREAM_LABELS.items(), all_label="全部日志"
                ),
            ),
            list_table(
                QuarantineState,
                COLUMNS,
                _row,
                size="1",
                empty=("没有拒收记录", "推送的每一行都通过了校验。"),
            ),
            width="100%",
        ),
        width="100%",
    )
