"""共享任务 in the browser: run a task, watch it fail on a broken receiver, re-run it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from console.core.db import session_scope
from console.interfaces import task_service
from console.interfaces.models import InterfaceDef, SharingTask
from tests.e2e.conftest import log_in
from tests.support.receiver import Receiver
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def test_a_failed_run_is_shown_with_its_error_and_a_rerun_delivers_the_rest(
    page: Page,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
    receiver: Receiver,
) -> None:
    with session_scope(console_server.db_url) as session:
        interface = InterfaceDef(
            code="e2e.tax-push",
            name="契税完税推送（测试）",
            direction="outbound",
            department="税务",
            sharing_class="业务协同类",
            endpoint_url=receiver.url,
            timeout_ms=3000,
        )
        session.add(interface)
        session.flush()
        session.add(
            SharingTask(
                code="e2e.push",
                name="推送登记结果（测试）",
                interface_id=interface.id,
                batch_size=10,
            )
        )
        session.flush()
        task_service.enqueue(
            session=session,
            task_code="e2e.push",
            records=[(f"case-{n}", {"key": f"case-{n}", "n": n}) for n in range(25)],
        )
    receiver.fail_from = 2  # the second batch of ten is refused

    log_in(page, console_server.base_url, make_user("task_admin", "sys_admin"))
    page.get_by_test_id("nav-sharing_tasks").click()
    expect(page.get_by_test_id("task-row-e2e.push")).to_contain_text("25")
    page.get_by_test_id("task-run-e2e.push").click()
    runs = page.get_by_test_id("task-runs")
    expect(runs).to_contain_text("失败")
    expect(runs).to_contain_text("第 2 批")
    expect(runs).to_contain_text("10 / 25")

    receiver.fail_from = None
    page.get_by_role("button", name="重新执行").first.click()
    expect(runs).to_contain_text("成功")
    expect(page.get_by_test_id("task-row-e2e.push")).to_contain_text("成功")
    assert sorted(receiver.keys()) == sorted(f"case-{n}" for n in range(25))
