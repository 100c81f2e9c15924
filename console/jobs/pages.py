"""系统任务 page: each job with its schedule, deadline, last and next run; the run history."""

from __future__ import annotations

import reflex as rx

from console.jobs.state import OUTCOME_FILTERS, JobsState, JobView, RunView
from console.ui.components import (
    confirm_dialog,
    empty_state,
    error_callout,
    list_table,
    page_heading,
    status_badge,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("system_jobs")
JOB_COLUMNS = ("任务", "计划", "运行时限", "上次运行", "结果", "耗时", "下次运行", "")
RUN_COLUMNS = ("开始时间", "任务", "触发", "结果", "耗时", "说明", "运行位置")
OUTCOME_COLOURS = {
    "running": "blue",
    "succeeded": "green",
    "failed": "red",
    "timed_out": "orange",
    "interrupted": "amber",
}


def _outcome(label: rx.Var[str], outcome: rx.Var[str]) -> rx.Component:
    return status_badge(label, outcome, OUTCOME_COLOURS, otherwise="gray")


def _note(text: rx.Var[str], colour: str = "gray") -> rx.Component:
    return rx.text(text, size="1", color_scheme=colour, max_width="360px", white_space="pre-wrap")


def _run_button(job: JobView) -> rx.Component:
    return rx.cond(
        JobsState.can_execute,
        rx.button(
            rx.icon("play", size=14),
            rx.cond(job.waiting, "等待执行", "立即运行"),
            size="1",
            variant="soft",
            disabled=job.waiting,
            on_click=JobsState.ask_run(job.name, job.label),
            data_testid=f"job-run-{job.name}",
        ),
    )


def _job_row(job: JobView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(job.label, weight="medium"),
                rx.text(job.name, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(job.schedule),
        rx.table.cell(rx.vstack(rx.text(job.deadline), _note(job.rerun), spacing="0")),
        rx.table.cell(job.last_started),
        rx.table.cell(
            rx.vstack(
                rx.cond(
                    job.last_outcome != "",
                    _outcome(job.last_outcome_label, job.last_outcome),
                    rx.text("—"),
                ),
                rx.cond(job.last_error != "", _note(job.last_error, "red")),
                spacing="1",
            )
        ),
        rx.table.cell(job.last_duration),
        rx.table.cell(job.next_run),
        rx.table.cell(_run_button(job)),
        data_testid="job-row",
    )


def _jobs_table() -> rx.Component:
    table = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in JOB_COLUMNS])),
        rx.table.body(rx.foreach(JobsState.jobs, _job_row)),
        width="100%",
        variant="surface",
        size="1",
    )
    return rx.cond(
        JobsState.jobs.length() > 0,  # type: ignore[attr-defined]
        table,
        rx.cond(
            JobsState.loading,
            rx.center(rx.spinner(), padding="32px"),
            empty_state(
                "没有登记的系统任务",
                "系统任务由各模块登记，随控制台后端或 python -m console scheduler 启动。",
            ),
        ),
    )


def _run_row(run: RunView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(run.started), _note("时段 " + run.slot), spacing="0")),
        rx.table.cell(run.label),
        rx.table.cell(run.trigger_label),
        rx.table.cell(_outcome(run.outcome_label, run.outcome)),
        rx.table.cell(run.duration),
        rx.table.cell(rx.cond(run.error != "", _note(run.error, "red"), _note(run.summary))),
        rx.table.cell(_note(run.where)),
        data_testid="job-run-row",
    )


def _filters() -> rx.Component:
    job_items = rx.foreach(
        JobsState.job_choices, lambda choice: rx.select.item(choice.label, value=choice.value)
    )
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(data_testid="job-filter"),
            rx.select.content(rx.select.item("全部任务", value="*"), job_items),
            value=JobsState.job_filter,
            on_change=JobsState.set_job_filter,
        ),
        rx.select.root(
            rx.select.trigger(data_testid="job-outcome-filter"),
            rx.select.content(*[rx.select.item(label, value=v) for v, label in OUTCOME_FILTERS]),
            value=JobsState.outcome_filter,
            on_change=JobsState.set_outcome_filter,
        ),
        rx.spacer(),
        rx.button(rx.icon("refresh-cw", size=14), "刷新", variant="soft", on_click=JobsState.load),
        width="100%",
        align="center",
    )


def _confirm() -> rx.Component:
    return confirm_dialog(
        title="立即运行",
        description=[
            "将立即运行“",
            JobsState.run_label,
            "”（不影响其定时计划）。调度器会在几秒内开始执行；若该任务正在运行，则在本次结束后执行。",
        ],
        open_=JobsState.run_open,
        on_open_change=JobsState.set_run_open,
        on_confirm=JobsState.run_now,
        confirm_label="立即运行",
        testid="job-run-ok",
    )


def system_jobs_page() -> rx.Component:
    """The page."""
    history = list_table(
        JobsState,
        RUN_COLUMNS,
        _run_row,
        size="1",
        empty=(
            "暂无运行记录",
            "调度器每秒检查一次到期任务；若长时间没有记录，请确认 BDC_SCHEDULER_ENABLED 未关闭，"
            "且控制台后端或 python -m console scheduler 正在运行。",
        ),
    )
    body = rx.vstack(
        page_heading(
            SECTION.label,
            "每个任务在独立进程中运行，超过运行时限即被终止；多个进程共用配置库时只有主节点运行任务",
        ),
        error_callout(JobsState.error),
        _jobs_table(),
        rx.heading("运行记录", size="4", margin_top="16px"),
        _filters(),
        history,
        _confirm(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
