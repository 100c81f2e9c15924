"""系统设置 → 备份与恢复: targets, schedule, every run, 立即备份 / 立即校验."""

from __future__ import annotations

import reflex as rx

from console.backup.components import (
    dialogs,
    history_filters,
    overview_card,
    policy_card,
    run_row,
    target_dialog,
    targets_card,
)
from console.backup.state import BackupState
from console.ui.components import error_callout, list_table, page_heading
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("backup")
RUN_COLUMNS = ("开始时间", "类型", "结果", "备份集", "目标", "大小", "耗时", "说明", "执行人")


def backup_page() -> rx.Component:
    """The page."""
    history = list_table(
        BackupState,
        RUN_COLUMNS,
        run_row,
        size="1",
        empty=(
            "暂无备份记录",
            "配置备份目标后，定时任务按计划备份；也可点“立即备份”。"
            "命令行：python -m console backup --to 目标。",
        ),
    )
    body = rx.vstack(
        page_heading(
            SECTION.label,
            "加密的一致性备份、异地副本与每次备份后的恢复校验；审计管理员可查看记录",
        ),
        error_callout(BackupState.error),
        overview_card(),
        targets_card(),
        policy_card(),
        rx.heading("运行记录", size="4", margin_top="8px"),
        history_filters(),
        history,
        target_dialog(),
        dialogs(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
