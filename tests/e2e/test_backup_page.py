"""备份与恢复 in the browser: a target added with live checks, a backup run from the page and
verified by restoring, the audit administrator reading the history only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import delete

from console.backup.models import BackupPolicy, BackupRun, BackupTarget
from console.core.clock import CHINA_TZ
from console.core.db import session_scope
from tests.e2e.conftest import log_in
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def clean_backup(console_server: ConsoleServer) -> Iterator[None]:
    """The shared server's backup settings and history are put back to empty afterwards."""
    yield
    with session_scope(console_server.db_url) as session:
        for table in (BackupTarget, BackupPolicy, BackupRun):
            session.exec(delete(table))  # type: ignore[call-overload]


def _cron_far_from_now() -> str:
    """A nightly time twelve hours away, so the schedule cannot fire while the test runs."""
    hour = (datetime.now(CHINA_TZ).hour + 12) % 24
    return f"15 {hour} * * *"


def test_a_backup_started_on_the_page_is_verified_and_shown(
    page: Page,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
    clean_backup: None,
    tmp_path: Path,
) -> None:
    base = console_server.base_url
    log_in(page, base, make_user("bk_system", "sys_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.goto(f"{base}/system-backup")
    expect(page.get_by_text("尚未配置备份目标")).to_be_visible()
    expect(page.get_by_test_id("backup-now")).to_be_disabled()  # no target yet: nothing to run

    page.get_by_test_id("backup-target-new").click()
    page.get_by_test_id("backup-target-name").fill("机房二号盘")
    page.get_by_test_id("backup-target-location").fill("mnt/backup")
    expect(page.get_by_text("请填写绝对路径")).to_be_visible()
    page.get_by_test_id("backup-target-location").fill(str(tmp_path / "second-disk"))
    expect(page.get_by_text("请填写绝对路径")).to_have_count(0)
    page.get_by_test_id("backup-target-save").click()
    expect(page.get_by_test_id("backup-target-row")).to_contain_text("机房二号盘")

    page.get_by_test_id("backup-policy-cron").fill("every night")
    expect(page.get_by_text("请填写 5 段 cron 表达式")).to_be_visible()
    page.get_by_test_id("backup-policy-cron").fill(_cron_far_from_now())
    page.get_by_test_id("backup-policy-save").click()
    expect(page.get_by_text("备份计划与保留策略已保存")).to_be_visible()

    page.get_by_test_id("backup-now").click()
    page.get_by_test_id("backup-confirm-ok").click()
    rows = page.get_by_test_id("backup-run-row")
    expect(rows.filter(has_text="恢复校验").filter(has_text="成功")).to_have_count(
        1, timeout=120_000
    )
    expect(rows.filter(has_text="备份").filter(has_text="成功")).to_have_count(1)
    expect(page.get_by_test_id("backup-verified")).to_be_visible()
    expect(page.get_by_test_id("backup-check").filter(has_text="日志校验链")).to_be_visible()
    assert list((tmp_path / "second-disk" / "sets").iterdir())

    page.context.clear_cookies()
    log_in(page, base, make_user("bk_audit", "audit_admin"))
    expect(page.get_by_role("heading", name="概览", level=1)).to_be_visible()
    page.goto(f"{base}/system-backup")
    expect(page.get_by_test_id("backup-run-row").first).to_be_visible()
    expect(page.get_by_test_id("backup-target-new")).to_have_count(0)
    expect(page.get_by_test_id("backup-now")).to_have_count(0)
    expect(page.get_by_test_id("backup-policy-save")).to_have_count(0)
