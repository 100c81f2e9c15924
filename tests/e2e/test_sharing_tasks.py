"""共享任务 in the browser: run a task, watch it fail on a broken receiver, re-run it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from console.core.db import session_scope
from console.interfaces.models import InterfaceDef, SharingTask
from tests.e2e.conftest import log_in
from tests.support.receiver import Receiver
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def _hand_over(server: ConsoleServer, task: str, records: list[dict]) -> dict:
    """POST records to the task's queue with a key of the province; the answer's body."""
    key = server.console(
        "apikey", "create", "--tenant", "330000", "--name", f"移交 {task}",
        "--streams", "sharing.records",
    ).strip()  # fmt: skip
    body = "\n".join(
        json.dumps({"record_id": r["key"], "data": r}, ensure_ascii=False) for r in records
    ).encode()
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/sharing-tasks/{task}/records",
        method="POST",
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


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
    # Handed over as a county system does: over the API (sealed with the server's own key).
    _hand_over(console_server, "e2e.push", [{"key": f"case-{n}", "n": n} for n in range(25)])
    receiver.fail_from = 2  # the second batch of ten is refused

    log_in(page, console_server.base_url, make_user("task_admin", "sys_admin"))
    page.get_by_test_id("nav-sharing_tasks").click()
    expect(page.get_by_test_id("task-row-e2e.push")).to_contain_text("25")
    page.get_by_test_id("task-run-e2e.push").click()
    runs = page.get_by_test_id("task-runs").locator("tr", has_text="推送登记结果（测试）").first
    expect(runs).to_contain_text("失败")
    expect(runs).to_contain_text("第 2 批")
    expect(runs).to_contain_text("10 / 25")

    receiver.fail_from = None
    page.get_by_role("button", name="重新执行").first.click()
    expect(runs).to_contain_text("成功")
    expect(page.get_by_test_id("task-row-e2e.push")).to_contain_text("成功")
    assert sorted(receiver.keys()) == sorted(f"case-{n}" for n in range(25))


def test_the_queue_shows_each_records_state_and_a_failed_one_is_requeued(
    page: Page,
    console_server: ConsoleServer,
    make_user: Callable[..., str],
    receiver: Receiver,
) -> None:
    with session_scope(console_server.db_url) as session:
        interface = InterfaceDef(
            code="e2e.queue-push", name="队列测试接口", direction="outbound",
            endpoint_url=receiver.url, timeout_ms=3000,
        )  # fmt: skip
        session.add(interface)
        session.flush()
        session.add(
            SharingTask(code="e2e.queue", name="队列测试", interface_id=interface.id, batch_size=3)
        )
    answer = _hand_over(console_server, "e2e.queue", [{"key": f"q-{n}"} for n in range(5)])
    assert (answer["accepted"], answer["rejected"]) == (5, [])
    receiver.fail_from = 2  # q-3, q-4 fail with the second batch

    log_in(page, console_server.base_url, make_user("queue_admin", "sys_admin"))
    page.get_by_test_id("nav-sharing_tasks").click()
    page.get_by_test_id("task-run-e2e.queue").click()
    # This task's run (the runs of other tasks are listed too): failed on its second batch.
    run = page.get_by_test_id("task-runs").locator("tr", has_text="队列测试")
    expect(run).to_contain_text("第 2 批")
    page.get_by_test_id("task-queue-e2e.queue").click()
    dialog = page.get_by_test_id("queue-dialog")
    expect(page.get_by_test_id("queue-counts")).to_contain_text("推送失败 2")
    expect(page.get_by_test_id("queue-counts")).to_contain_text("已送达 3")
    expect(page.get_by_test_id("queue-row-q-4")).to_contain_text("接口返回状态码 500")
    expect(page.get_by_test_id("queue-row-q-4")).to_contain_text("接入密钥")

    page.get_by_test_id("queue-status").click()
    page.get_by_role("option", name="推送失败").click()
    expect(dialog.locator("[data-testid^=queue-row-]")).to_have_count(2)
    page.get_by_test_id("queue-requeue-failed").click()
    page.get_by_test_id("queue-requeue-confirm").click()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()  # none failed any more
    expect(page.get_by_test_id("queue-counts")).to_contain_text("等待推送 2")
