"""共享任务 page: push registration results to other departments, and watch every execution."""

from __future__ import annotations

import reflex as rx

from console.interfaces.models import TASK_STATUS
from console.interfaces.task_state import RunView, SharingTasksState, TaskView
from console.ui.choice import Choice
from console.ui.components import (
    create_button,
    error_callout,
    field_error,
    form_footer,
    labelled,
    list_table,
    option_select,
    page_heading,
    pager,
    scroll_table,
    search_box,
    status_badge,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell

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
RUN_FILTERS = [("*", "全部执行"), *TASK_STATUS.items()]


RUN_COLOURS = {"succeeded": "green", "failed": "red", "running": "blue"}


def _task_row(task: TaskView) -> rx.Component:
    actions = rx.hstack(
        rx.cond(
            SharingTasksState.can_execute & task.enabled,
            rx.button(
                "立即执行",
                size="1",
                variant="soft",
                on_click=SharingTasksState.run_now(task.id),
                data_testid=f"task-run-{task.code}",
            ),
        ),
        rx.cond(
            SharingTasksState.can_write,
            rx.hstack(
                rx.button(
                    "编辑", size="1", variant="ghost", on_click=SharingTasksState.open_edit(task.id)
                ),
                rx.button(
                    rx.cond(task.enabled, "停用", "启用"),
                    size="1",
                    variant="ghost",
                    color_scheme=rx.cond(task.enabled, "red", "green"),
                    on_click=SharingTasksState.toggle(task.id, ~task.enabled),
                ),
            ),
        ),
    )
    return rx.table.row(
        rx.table.cell(rx.code(task.code)),
        rx.table.cell(
            rx.hstack(
                rx.text(task.name), rx.cond(~task.enabled, rx.badge("已停用", color_scheme="gray"))
            )
        ),
        rx.table.cell(rx.text(task.interface_name, size="1")),
        rx.table.cell(task.tenant_code),
        rx.table.cell(rx.code(task.schedule)),
        rx.table.cell(task.next_run_at),
        rx.table.cell(task.pending),
        rx.table.cell(
            rx.vstack(
                status_badge(
                    task.last_status_label, task.last_status, RUN_COLOURS, otherwise="gray"
                ),
                rx.text(task.last_run_at, size="1", color_scheme="gray"),
                spacing="1",
            )
        ),
        rx.table.cell(actions),
        data_testid=f"task-row-{task.code}",
    )


def _run_row(run: RunView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(run.id),
        rx.table.cell(run.task_name),
        rx.table.cell(status_badge(run.status_label, run.status, RUN_COLOURS, otherwise="gray")),
        rx.table.cell(run.trigger_label),
        rx.table.cell(
            rx.hstack(
                rx.progress(value=run.progress, width="80px"), rx.text(run.progress, "%", size="1")
            )
        ),
        rx.table.cell(run.counts),
        rx.table.cell(rx.text(run.error, size="1", color="var(--red-11)")),
        rx.table.cell(run.actor),
        rx.table.cell(rx.text(run.started_at, size="1")),
        rx.table.cell(run.duration),
        rx.table.cell(
            rx.cond(
                SharingTasksState.can_execute & (run.status == "failed"),
                rx.button(
                    "重新执行",
                    size="1",
                    variant="soft",
                    on_click=SharingTasksState.rerun(run.id),
                    data_testid=f"run-rerun-{run.id}",
                ),
            )
        ),
        data_testid=f"run-row-{run.id}",
    )


def _runs() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("执行记录", size="4"),
            option_select(
                RUN_FILTERS,
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


def _choice(choice: Choice) -> rx.Component:
    return rx.select.item(choice.label, value=choice.value)


def _editor() -> rx.Component:
    creating = SharingTasksState.edit_id == 0
    form = rx.form(
        rx.vstack(
            labelled(
                "代码",
                rx.input(
                    name="code",
                    default_value=SharingTasksState.edit_code,
                    read_only=~creating,
                    placeholder="tax.push-results",
                    width="100%",
                    data_testid="task-code",
                ),
            ),
            labelled(
                "名称",
                rx.input(
                    name="name",
                    default_value=SharingTasksState.edit_name,
                    width="100%",
                    data_testid="task-name",
                ),
            ),
            labelled(
                "推送到的共享接口（须已登记地址）",
                rx.select.root(
                    rx.select.trigger(placeholder="选择接口", width="100%"),
                    rx.select.content(rx.foreach(SharingTasksState.interfaces, _choice)),
                    value=SharingTasksState.edit_interface,
                    on_change=SharingTasksState.set_edit_interface,
                ),
            ),
            rx.vstack(
                rx.text(
                    "计划（cron，北京时间；留空为仅手动执行）",
                    as_="label",
                    size="2",
                    weight="medium",
                ),
                rx.input(
                    name="schedule",
                    default_value=SharingTasksState.edit_schedule,
                    placeholder="0 2 * * *",
                    on_change=SharingTasksState.check_schedule.debounce(300),
                    width="100%",
                    data_testid="task-schedule",
                ),
                field_error(SharingTasksState.schedule_error),
                spacing="1",
                width="100%",
            ),
            labelled(
                "每批条数",
                rx.input(
                    name="batch_size",
                    default_value=SharingTasksState.edit_batch,
                    type="number",
                    width="160px",
                ),
            ),
            labelled(
                "说明",
                rx.input(
                    name="description",
                    default_value=SharingTasksState.edit_description,
                    width="100%",
                ),
            ),
            error_callout(SharingTasksState.edit_error, testid="task-error"),
            form_footer(rx.button("保存", type="submit", data_testid="task-save")),
            spacing="3",
        ),
        on_submit=SharingTasksState.save,
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(creating, "新建共享任务", "编辑共享任务")),
            form,
            max_width="560px",
        ),
        open=SharingTasksState.edit_open,
        on_open_change=SharingTasksState.set_edit_open,
    )


def sharing_tasks_page() -> rx.Component:
    """The page."""
    toolbar = rx.hstack(
        search_box(SharingTasksState.search, "任务代码或名称", "tasks-keyword"),
        rx.spacer(),
        create_button(
            SharingTasksState.can_write, "新建任务", SharingTasksState.open_create, "tasks-create"
        ),
        width="100%",
        align="center",
    )
    body = rx.vstack(
        page_heading(SECTION.label, SECTION.summary),
        toolbar,
        error_callout(SharingTasksState.error),
        list_table(
            SharingTasksState,
            TASK_COLUMNS,
            _task_row,
            size="1",
            empty=("还没有共享任务", "先在「接口管理」登记部门接口的地址，再点击「新建任务」。"),
        ),
        _runs(),
        _editor(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
