"""The queue dialog of the 共享任务 page: a task's records by state, re-queued on request."""

from __future__ import annotations

import reflex as rx

from console.interfaces.queue_state import STATUS_CHOICES, QueueView, TaskQueueState
from console.ui.components import confirm_dialog, pager, scroll_table, search_box, status_badge
from console.ui.widgets import dropdown, row_button, table_row

QUEUE_COLUMNS = ("记录标识", "状态", "来源", "入队时间", "送达时间 / 失败原因", "失败次数", "")
QUEUE_COLOURS = {"waiting": "blue", "delivered": "green", "failed": "red"}


def _queue_row(row: QueueView) -> rx.Component:
    return table_row(
        rx.code(row.record_id, size="1"),
        status_badge(row.status_label, row.status, QUEUE_COLOURS, otherwise="gray"),
        rx.text(row.source, size="1"),
        rx.text(row.queued, size="1"),
        rx.text(
            row.outcome,
            size="1",
            color=rx.cond(row.status == "failed", "var(--red-11)", "inherit"),
        ),
        row.attempts,
        row_button(
            "重新排队",
            TaskQueueState.ask_requeue([row.id], "记录 " + row.record_id),
            allowed=TaskQueueState.may_requeue & (row.status != "waiting"),
            variant="ghost",
            testid=f"queue-requeue-{row.record_id}",
        ),
        data_testid=f"queue-row-{row.record_id}",
    )


def _counts() -> rx.Component:
    return rx.hstack(
        *[
            rx.badge(
                f"{label} ",
                TaskQueueState.counts.get(status, 0),
                color_scheme=QUEUE_COLOURS[status],
                variant="soft",
            )
            for status, label in STATUS_CHOICES[1:]
        ],
        data_testid="queue-counts",
    )


def _table() -> rx.Component:
    return rx.cond(
        TaskQueueState.total > 0,
        rx.vstack(
            scroll_table(
                QUEUE_COLUMNS,
                TaskQueueState.rows,
                _queue_row,
                testid="queue-table",
                max_height="50vh",
            ),
            pager(
                page=TaskQueueState.page,
                pages=TaskQueueState.pages,
                total=TaskQueueState.total,
                on_prev=TaskQueueState.turn(-1),
                on_next=TaskQueueState.turn(1),
            ),
            width="100%",
        ),
        rx.cond(
            TaskQueueState.loading,
            rx.center(rx.spinner(), padding="24px"),
            rx.text(
                "没有符合条件的记录。登记系统可通过 POST /api/v1/sharing-tasks/{任务代码}/records "
                "移交待推送的记录（接入密钥需含「移交共享任务记录」）。",
                size="2",
                color_scheme="gray",
                data_testid="queue-empty",
            ),
        ),
    )


def queue_dialog() -> rx.Component:
    """The open task's queue; records' content is never shown (it may name people)."""
    return rx.fragment(
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("推送队列：", TaskQueueState.task_label),
                rx.vstack(
                    _counts(),
                    rx.hstack(
                        dropdown(
                            [(v or "*", label) for v, label in STATUS_CHOICES],
                            value=rx.cond(TaskQueueState.status == "", "*", TaskQueueState.status),
                            on_change=TaskQueueState.choose_status,
                            testid="queue-status",
                        ),
                        search_box(TaskQueueState.search, "记录标识", "queue-keyword"),
                        rx.cond(
                            TaskQueueState.may_requeue,
                            rx.button(
                                "本页失败记录重新排队",
                                on_click=TaskQueueState.ask_requeue_failed,
                                variant="soft",
                                data_testid="queue-requeue-failed",
                            ),
                        ),
                        align="center",
                        wrap="wrap",
                    ),
                    _table(),
                    width="100%",
                    spacing="3",
                ),
                max_width="1100px",
                data_testid="queue-dialog",
            ),
            open=TaskQueueState.open,
            on_open_change=TaskQueueState.set_open,
        ),
        confirm_dialog(
            title="重新排队",
            description=[
                TaskQueueState.confirm_text,
                " 将在下次执行时再次推送给部门"
                "（已送达的记录会重复送达，请确认部门能按记录标识去重）。",
            ],
            open_=TaskQueueState.confirm_ids.length() > 0,
            on_open_change=TaskQueueState.cancel_requeue,
            on_confirm=TaskQueueState.requeue,
            confirm_label="重新排队",
            testid="queue-requeue-confirm",
        ),
    )
