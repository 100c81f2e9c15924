"""共享任务 page: push registration results to other departments, and watch every execution."""

from __future__ import annotations

import reflex as rx

from console.interfaces.models import TASK_STATUS
from console.interfaces.queue_components import queue_dialog
from console.interfaces.queue_state import TaskQueueState
from console.interfaces.task_state import RunView, SharingTasksState, TaskView
from console.ui.components import (
    create_button,
    error_callout,
    labelled,
    list_table,
    page_heading,
    pager,
    scroll_table,
    search_box,
    status_badge,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import (
    dropdown,
    field,
    form_dialog,
    list_body,
    row_button,
    submit_button,
    table_row,
    toggle_button,
    toolbar,
)

SECTION = section_by_key("sharing_tasks")
TASK_COLUMNS = (
    "代码",
    "名称",
    "推送接口",
    "范围",
    "计划",
    "下次执行",
    "待推送",
    "最近执行",
    "操作",
)
RUN_COLUMNS = (
    "编号",
    "任务",
    "状态",
    "触发",
    "进度",
    "已推送/总数",
    "错误",
    "执行人",
    "开始",
    "耗时",
    "",
)
RUN_COLOURS = {"succeeded": "green", "failed": "red", "running": "blue"}


def _task_row(task: TaskView) -> rx.Component:
    actions = rx.hstack(
        row_button(
            "队列",
            TaskQueueState.show(
                task.id, task.name + "（" + task.code + "）", SharingTasksState.can_write
            ),
            variant="ghost",
            testid=f"task-queue-{task.code}",
        ),
        row_button(
            "立即执行",
            SharingTasksState.run_now(task.id),
            allowed=SharingTasksState.can_execute & task.enabled,
            testid=f"task-run-{task.code}",
        ),
        rx.cond(
            SharingTasksState.can_write,
            rx.hstack(
                row_button("编辑", SharingTasksState.open_edit(task.id), variant="ghost"),
                toggle_button(task.enabled, SharingTasksState.toggle(task.id, ~task.enabled)),
            ),
        ),
    )
    return table_row(
        rx.code(task.code),
        rx.hstack(
            rx.text(task.name), rx.cond(~task.enabled, rx.badge("已停用", color_scheme="gray"))
        ),
        rx.text(task.interface_name, size="1"),
        task.tenant_code,
        rx.code(task.schedule),
        task.next_run_at,
        task.pending,
        rx.vstack(
            status_badge(task.last_status_label, task.last_status, RUN_COLOURS, otherwise="gray"),
            rx.text(task.last_run_at, size="1", color_scheme="gray"),
            spacing="1",
        ),
        actions,
        data_testid=f"task-row-{task.code}",
    )


def _run_row(run: RunView) -> rx.Component:
    return table_row(
        run.id,
        run.task_name,
        status_badge(run.status_label, run.status, RUN_COLOURS, otherwise="gray"),
        run.trigger_label,
        rx.hstack(
            rx.progress(value=run.progress, width="80px"), rx.text(run.progress, "%", size="1")
        ),
        run.counts,
        rx.text(run.error, size="1", color="var(--red-11)"),
        run.actor,
        rx.text(run.started_at, size="1"),
        run.duration,
        row_button(
            "重新执行",
            SharingTasksState.rerun(run.id),
            allowed=SharingTasksState.can_execute & (run.status == "failed"),
            testid=f"run-rerun-{run.id}",
        ),
        data_testid=f"run-row-{run.id}",
    )


def _runs() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("执行记录", size="4"),
            dropdown(
                list(TASK_STATUS.items()),
                first=("*", "全部执行"),
                value=SharingTasksState.run_status,
                on_change=SharingTasksState.set_run_status,
            ),
            rx.cond(
                SharingTasksState.watching,
                rx.hstack(rx.spinner(size="1"), rx.text("执行中，自动刷新…", size="1")),
            ),
            align="center",
            spacing="3",
        ),
        rx.cond(
            SharingTasksState.run_total > 0,
            rx.vstack(
                scroll_table(
                    RUN_COLUMNS,
                    SharingTasksState.runs,
                    _run_row,
                    testid="task-runs",
                    max_height="none",
                ),
                pager(
                    page=SharingTasksState.run_page,
                    pages=SharingTasksState.run_pages,
                    total=SharingTasksState.run_total,
                    on_prev=SharingTasksState.previous_runs,
                    on_next=SharingTasksState.next_runs,
                ),
                width="100%",
            ),
            rx.text(
                "还没有执行记录：在上面的任务上点击「立即执行」，或等计划时间到达。",
                size="2",
                color_scheme="gray",
            ),
        ),
        width="100%",
        spacing="3",
    )


def _editor() -> rx.Component:
    creating = SharingTasksState.edit_id == 0
    return form_dialog(
        SharingTasksState,
        "edit",
        rx.cond(creating, "新建共享任务", "编辑共享任务"),
        field(
            "代码",
            "code",
            default_value=SharingTasksState.edit_code,
            read_only=~creating,
            placeholder="tax.push-results",
            data_testid="task-code",
        ),
        field("名称", "name", default_value=SharingTasksState.edit_name, data_testid="task-name"),
        labelled(
            "推送到的共享接口（须已登记地址）",
            dropdown(
                SharingTasksState.interfaces,
                placeholder="选择接口",
                width="100%",
                value=SharingTasksState.edit_interface,
                on_change=SharingTasksState.set_edit_interface,
            ),
        ),
        field(
            "计划（cron，北京时间；留空为仅手动执行）",
            "schedule",
            default_value=SharingTasksState.edit_schedule,
            placeholder="0 2 * * *",
            on_change=SharingTasksState.check_schedule.debounce(300),
            data_testid="task-schedule",
            error=SharingTasksState.schedule_error,
        ),
        field(
            "每批条数",
            "batch_size",
            default_value=SharingTasksState.edit_batch,
            type="number",
            width="160px",
        ),
        field("说明", "description", default_value=SharingTasksState.edit_description),
        error_callout(SharingTasksState.edit_error, testid="task-error"),
        on_submit=SharingTasksState.save,
        submit=submit_button("保存", "task-save"),
        max_width="560px",
    )


def sharing_tasks_page() -> rx.Component:
    """The page."""
    actions = toolbar(
        search_box(SharingTasksState.search, "任务代码或名称", "tasks-keyword"),
        end=[
            create_button(
                SharingTasksState.can_write,
                "新建任务",
                SharingTasksState.open_create,
                "tasks-create",
            )
        ],
    )
    body = list_body(
        page_heading(SECTION.label, SECTION.summary),
        actions,
        SharingTasksState,
        list_table(
            SharingTasksState,
            TASK_COLUMNS,
            _task_row,
            size="1",
            empty=("还没有共享任务", "先在「接口管理」登记部门接口的地址，再点击「新建任务」。"),
        ),
        _runs(),
        _editor(),
        queue_dialog(),
    )
    return shell(body, title=SECTION.label, section=SECTION)
