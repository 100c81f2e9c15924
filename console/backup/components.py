"""Pieces of the 备份与恢复 page: overview, targets, schedule form, history."""

from __future__ import annotations

import reflex as rx

from console.backup.state import (
    KIND_FILTERS,
    OUTCOME_FILTERS,
    BackupState,
    CheckView,
    RunView,
    TargetView,
)
from console.ui.components import (
    confirm_dialog,
    empty_state,
    field_error,
    form_footer,
    labelled,
    option_select,
    status_badge,
)

OUTCOME_COLOURS = {"running": "blue", "succeeded": "green", "failed": "red"}


def _note(text: rx.Var[str], colour: str = "gray") -> rx.Component:
    return rx.text(text, size="1", color_scheme=colour, max_width="420px", white_space="pre-wrap")


def _check(check: CheckView) -> rx.Component:
    return rx.hstack(
        rx.cond(
            check.passed,
            rx.icon("circle-check", size=16, color="var(--green-9)"),
            rx.icon("circle-x", size=16, color="var(--red-9)"),
        ),
        rx.text(check.name, size="2", weight="medium", min_width="96px"),
        _note(check.detail),
        align="start",
        data_testid="backup-check",
    )


def _cannot_run() -> rx.Var[bool]:
    no_target = BackupState.targets.length() == 0  # type: ignore[attr-defined]
    return BackupState.running | ~BackupState.passphrase_ready | no_target


def overview_card() -> rx.Component:
    """Can backups run, the last verified restore and its checks, the two buttons."""
    buttons = rx.cond(
        BackupState.can_execute,
        rx.hstack(
            rx.button(
                rx.icon("hard-drive-download", size=14),
                "立即备份",
                disabled=_cannot_run(),
                on_click=BackupState.ask("backup"),
                data_testid="backup-now",
            ),
            rx.button(
                rx.icon("shield-check", size=14),
                "立即校验",
                variant="soft",
                disabled=_cannot_run(),
                on_click=BackupState.ask("verify"),
                data_testid="verify-now",
            ),
            rx.cond(BackupState.running, rx.hstack(rx.spinner(size="1"), _note("正在运行…"))),
        ),
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("最近一次通过的恢复校验", size="4"),
                rx.spacer(),
                buttons,
                width="100%",
                align="center",
            ),
            rx.cond(
                ~BackupState.passphrase_ready,
                rx.callout(
                    BackupState.passphrase_problem,
                    icon="key-round",
                    color_scheme="amber",
                    data_testid="backup-passphrase-missing",
                ),
            ),
            rx.cond(
                BackupState.verified_text != "",
                rx.vstack(
                    rx.text(BackupState.verified_text, size="2", data_testid="backup-verified"),
                    rx.foreach(BackupState.checks, _check),
                    spacing="1",
                ),
                rx.text(
                    "还没有通过恢复校验的备份集：添加备份目标后点“立即备份”，"
                    "每次备份都会恢复到临时位置逐项校验。",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.text(
                "口令由安全管理员保管，不保存在服务器的数据目录与配置库中；丢失口令则备份集无法恢复。"
                "恢复到新服务器的步骤见 README 的“应急预案”。",
                size="1",
                color_scheme="gray",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _target_row(target: TargetView) -> rx.Component:
    actions = rx.cond(
        BackupState.can_write,
        rx.hstack(
            rx.button(
                "编辑",
                size="1",
                variant="soft",
                on_click=BackupState.edit_target(target.id),
                data_testid="backup-target-edit",
            ),
            rx.button(
                "移除",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=BackupState.ask_delete(target.id, target.name),
            ),
        ),
    )
    return rx.table.row(
        rx.table.cell(rx.text(target.name, weight="medium")),
        rx.table.cell(target.kind_label),
        rx.table.cell(
            rx.vstack(
                rx.code(target.location),
                rx.cond(target.endpoint != "", _note(target.endpoint)),
                rx.cond(
                    target.live,
                    _note(target.live_state, rx.cond(target.live_ok, "green", "red")),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.cond(
                target.enabled,
                rx.badge("启用", color_scheme="green", variant="soft"),
                rx.badge("停用", color_scheme="gray", variant="soft"),
            )
        ),
        rx.table.cell(_note(target.updated)),
        rx.table.cell(actions),
        data_testid="backup-target-row",
    )


def targets_card() -> rx.Component:
    """Where sets are written; several at once, one of them off-site."""
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(c)
                    for c in ("名称", "类型", "位置", "状态", "修改", "")
                ]
            )
        ),
        rx.table.body(rx.foreach(BackupState.targets, _target_row)),
        width="100%",
        size="1",
        variant="surface",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("备份目标", size="4"),
                rx.spacer(),
                rx.cond(
                    BackupState.can_write,
                    rx.button(
                        rx.icon("plus", size=14),
                        "添加目标",
                        size="2",
                        on_click=BackupState.new_target,
                        data_testid="backup-target-new",
                    ),
                ),
                width="100%",
                align="center",
            ),
            rx.cond(
                BackupState.targets.length() > 0,  # type: ignore[attr-defined]
                table,
                empty_state(
                    "尚未配置备份目标",
                    "添加一个目录（第二块磁盘或挂载的共享）和一个异地的 S3 兼容对象存储，"
                    "每次备份同时写入全部启用的目标。",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _errors(field: str) -> rx.Var[str]:
    return BackupState.target_errors.get(field, "")  # type: ignore[attr-defined]


def _input(name: str, label: str, placeholder: str, **extra: object) -> rx.Component:
    return labelled(
        label,
        rx.input(
            name=name,
            default_value=BackupState.target_form.get(name, ""),  # type: ignore[attr-defined]
            placeholder=placeholder,
            on_change=lambda value: BackupState.check_target(name, value),
            data_testid=f"backup-target-{name}",
            width="100%",
            **extra,
        ),
        _errors(label),
    )


def target_dialog() -> rx.Component:
    """Add or change a target; the secret is write-only."""
    s3_fields = rx.vstack(
        _input("endpoint", "服务地址", "https://oss.example.gov.cn"),
        _input("region", "区域", "us-east-1"),
        _input("access_key", "访问密钥", "访问密钥 ID"),
        labelled(
            "访问密钥密码",
            rx.input(
                name="secret",
                type="password",
                width="100%",
                data_testid="backup-target-secret",
                placeholder=rx.cond(BackupState.has_secret, "已保存；留空则不变", ""),
            ),
        ),
        width="100%",
        spacing="2",
    )
    form = rx.form(
        rx.vstack(
            _input("name", "名称", "如 机房二号盘、异地对象存储"),
            labelled(
                "类型",
                option_select(
                    [("directory", "目录（第二块磁盘或挂载的共享）"), ("s3", "S3 兼容对象存储")],
                    value=BackupState.target_kind,
                    on_change=BackupState.set_target_kind,
                    testid="backup-target-kind",
                ),
            ),
            _input(
                "location",
                "位置",
                rx.cond(
                    BackupState.target_kind == "s3",
                    "桶名/前缀，如 bdc-backup/zhejiang",
                    "/mnt/backup/bdc",
                ),
            ),
            rx.cond(BackupState.target_kind == "s3", s3_fields),
            rx.checkbox(
                "异地实时副本（每 15 秒同步数据库变化与新封存的日志文件）",
                name="live",
                default_checked=BackupState.target_form.get("live", "") == "on",  # type: ignore[attr-defined]
                data_testid="backup-target-live",
            ),
            rx.checkbox(
                "启用（定时备份与立即备份写入此目标）",
                name="enabled",
                default_checked=BackupState.target_form.get("enabled", "on") == "on",  # type: ignore[attr-defined]
            ),
            field_error(_errors("form")),
            form_footer(rx.button("保存", type="submit", data_testid="backup-target-save")),
            spacing="3",
            width="100%",
        ),
        on_submit=BackupState.save_target,
        reset_on_submit=False,
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(BackupState.target_id > 0, "编辑备份目标", "添加备份目标")),
            form,
            max_width="560px",
        ),
        open=BackupState.target_open,
        on_open_change=lambda value: BackupState.set_open("target", value),
    )


def _policy_field(name: str, label: str, value: rx.Var[str], hint: str) -> rx.Component:
    return labelled(
        label,
        rx.input(
            name=name,
            default_value=value,
            key=value,
            read_only=~BackupState.can_write,
            on_change=lambda text: BackupState.check_policy(name, text),
            data_testid=f"backup-policy-{name}",
            placeholder=hint,
        ),
        BackupState.policy_errors.get(label, ""),  # type: ignore[attr-defined]
    )


def policy_card() -> rx.Component:
    """When the scheduled backup runs and how many sets are kept."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("备份计划与保留", size="4"),
                rx.hstack(
                    _policy_field("cron", "备份时间", BackupState.cron, "30 2 * * *"),
                    _policy_field("daily", "保留日备份", BackupState.keep_daily, "7"),
                    _policy_field("weekly", "保留周备份", BackupState.keep_weekly, "4"),
                    _policy_field("monthly", "保留月备份", BackupState.keep_monthly, "12"),
                    spacing="3",
                    width="100%",
                ),
                rx.text(
                    "下次定时备份：",
                    BackupState.next_run,
                    "。备份时间为 5 段 cron（分 时 日 月 周，北京时间）。"
                    "清理时保留每天、每周、每月最新的备份集各若干个，"
                    "且从不删除唯一一个通过恢复校验的备份集。",
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    BackupState.can_write,
                    rx.button(
                        "保存计划", type="submit", variant="soft", data_testid="backup-policy-save"
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=BackupState.save_policy,
            reset_on_submit=False,
        ),
        width="100%",
    )


def run_row(run: RunView) -> rx.Component:
    """One run of the history."""
    return rx.table.row(
        rx.table.cell(run.started),
        rx.table.cell(run.kind),
        rx.table.cell(
            status_badge(run.outcome, run.outcome_code, OUTCOME_COLOURS, otherwise="gray")
        ),
        rx.table.cell(rx.code(run.set_id)),
        rx.table.cell(_note(run.targets)),
        rx.table.cell(run.size),
        rx.table.cell(run.seconds),
        rx.table.cell(_note(run.message, rx.cond(run.outcome_code == "failed", "red", "gray"))),
        rx.table.cell(run.actor),
        data_testid="backup-run-row",
    )


def history_filters() -> rx.Component:
    """Filter the history by kind and outcome."""
    return rx.hstack(
        option_select(
            KIND_FILTERS,
            value=BackupState.kind_filter,
            on_change=BackupState.set_kind_filter,
            testid="backup-kind-filter",
        ),
        option_select(
            OUTCOME_FILTERS,
            value=BackupState.outcome_filter,
            on_change=BackupState.set_outcome_filter,
            testid="backup-outcome-filter",
        ),
        rx.spacer(),
        rx.button(
            rx.icon("refresh-cw", size=14), "刷新", variant="soft", on_click=BackupState.load
        ),
        width="100%",
    )


def dialogs() -> rx.Component:
    """Confirmations: start a run, remove a target."""
    return rx.fragment(
        confirm_dialog(
            title=rx.cond(BackupState.confirm_kind == "backup", "立即备份", "立即校验"),
            description=[
                rx.cond(
                    BackupState.confirm_kind == "backup",
                    "将立即备份配置库、待封存记录、日志湖、密钥与报表到全部启用的目标，"
                    "随后恢复到临时位置逐项校验。备份期间日志接收与页面照常可用。",
                    "将把最新的备份集恢复到临时位置，逐项校验（不影响在用数据）。",
                )
            ],
            open_=BackupState.confirm_open,
            on_open_change=BackupState.set_confirm_open,
            on_confirm=BackupState.run_now,
            confirm_label="开始",
            testid="backup-confirm-ok",
        ),
        confirm_dialog(
            title="移除备份目标",
            description=[
                "将从列表中移除“",
                BackupState.delete_name,
                "”。已写入该目标的备份集不会被删除，仍可用于恢复。",
            ],
            open_=BackupState.delete_open,
            on_open_change=BackupState.set_delete_open,
            on_confirm=BackupState.delete,
            confirm_label="移除",
            testid="backup-target-delete-ok",
        ),
    )
