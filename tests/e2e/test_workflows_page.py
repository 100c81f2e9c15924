"""流程配置 in the browser: design a step on the canvas, fix its error, publish, get it served."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from console.audit.models import OperationLog
from console.core.db import session_scope
from tests.api.test_gateway import _ensure_tenant
from tests.e2e.conftest import log_in
from tests.support import flow
from tests.support.server import ConsoleServer

pytestmark = pytest.mark.e2e


def _served(server: ConsoleServer, key: str, business_code: str) -> dict:
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/workflows/{business_code}",
        headers={"Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_an_administrator_adds_a_step_on_the_canvas_and_publishes_it(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    key = console_server.console(
        "apikey", "create", "--tenant", "330000", "--name", "流程读取",
        "--streams", "workflows.read",
    ).strip()  # fmt: skip
    _ensure_tenant(console_server, "330185", "临安区")  # a county that inherits the template
    before = _served(console_server, key, "4000101")["workflow"]
    log_in(page, console_server.base_url, make_user("workflow_e2e", "sys_admin"))
    page.get_by_test_id("nav-workflows").click()
    expect(page.get_by_test_id("definition-4000101")).to_contain_text("注销登记")
    page.get_by_role("radio", name="流程定义").click()
    page.get_by_test_id("open-cancellation").click()
    expect(page.get_by_test_id("editor-title")).to_have_text("注销登记流程")
    expect(page.get_by_test_id("editor-ok")).to_be_visible()
    page.get_by_test_id("flow-designer").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('[data-testid=flow-designer]').scrollIntoView()")

    new_step = flow.drag_from_palette(page, "task", 470, 120)
    expect(page.get_by_test_id(f"step-error-{new_step}")).to_contain_text("未指定办理岗位")
    expect(page.get_by_test_id("editor-problems")).to_contain_text("无法从开始节点到达")
    flow.click_step(page, new_step)
    page.get_by_test_id("step-name").fill("复核")
    page.get_by_test_id("step-name").blur()
    page.get_by_test_id("role-approve").click()
    expect(page.get_by_test_id(f"step-error-{new_step}")).to_contain_text(
        "环节「复核」无法从开始节点到达"
    )
    flow.delete_edge(page, "t2", "t3")  # 审核 → 登簿 goes; 复核 will stand between them
    expect(page.get_by_test_id("step-error-t3")).to_contain_text("环节「登簿」无法从开始节点到达")
    flow.connect(page, "t2", new_step)  # 审核 → 复核
    flow.connect(page, new_step, "t3")  # 复核 → 登簿
    expect(page.get_by_test_id(f"step-error-{new_step}")).to_have_count(0)
    expect(page.get_by_test_id("editor-ok")).to_be_visible()

    page.get_by_test_id("editor-publish").click()
    page.get_by_test_id("publish-note").fill("注销登记增加复核环节")
    page.get_by_test_id("publish-confirm").click()
    expect(page.get_by_test_id("editor-versions")).to_contain_text(f"执行 v{before['version'] + 1}")
    served = _served(console_server, key, "4000101")["workflow"]
    assert served["version"] == before["version"] + 1
    names = {s["id"]: s["name"] for s in served["steps"]}
    edges = {(names[t["source"]], names[t["target"]]) for t in served["transitions"]}
    assert {("审核", "复核"), ("复核", "登簿")} <= edges and ("审核", "登簿") not in edges
    review = next(s for s in served["steps"] if s["name"] == "复核")
    assert review["roles"] == ["approve"]

    page.get_by_test_id("tab-versions").click()
    page.get_by_test_id("diff-run").click()
    expect(page.get_by_test_id("diff-table")).to_contain_text("环节「复核」")
    expect(page.get_by_test_id("usage-table")).to_contain_text("临安区（330185）继承省级模板")


def test_a_county_overrides_a_business_edits_it_checked_as_typed_and_reverts(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str]
) -> None:
    _ensure_tenant(console_server, "330106", "西湖区")
    account = make_user("workflow_county", "county_admin", tenant="330106")
    log_in(page, console_server.base_url, account)
    page.get_by_test_id("nav-workflows").click()
    expect(page.get_by_test_id("workflows-viewing")).to_contain_text("区县 330106")
    page.get_by_test_id("open-2000402").click()
    expect(page.get_by_test_id("inheritance")).to_contain_text("本区县继承省级模板")
    expect(page.get_by_test_id("editor-save")).to_have_count(0)
    page.get_by_test_id("editor-override").click()
    expect(page.get_by_test_id("inheritance")).to_contain_text("覆盖发布前仍执行省级模板")

    page.get_by_test_id("tab-materials").click()
    page.get_by_test_id("material-add").click()
    expect(page.get_by_test_id("editor-problems")).to_contain_text("材料名称不能为空")
    page.get_by_test_id("material-name").last.fill("户籍证明")
    expect(page.get_by_test_id("editor-ok")).to_be_visible()

    page.get_by_test_id("tab-form").click()
    page.get_by_test_id("field-add").click()
    expect(page.get_by_test_id("editor-problems")).to_contain_text("缺少显示名称")
    page.get_by_test_id("field-label").last.fill("户籍地址")
    expect(page.get_by_test_id("editor-ok")).to_be_visible()
    expect(page.get_by_test_id("form-preview")).to_contain_text("户籍地址")

    page.get_by_test_id("tab-opinions").click()
    expect(page.get_by_test_id("editor")).to_contain_text("张*明申请房地产权转移登记")
    page.get_by_test_id("editor-save").click()
    expect(page.get_by_test_id("editor-versions")).to_contain_text("草稿 v1")
    expect(page.get_by_test_id("editor-publish")).to_have_count(
        0
    )  # counties draft, province publishes

    page.get_by_test_id("editor-revert").click()
    page.get_by_test_id("editor-confirm").click()
    expect(page.get_by_test_id("inheritance")).to_contain_text("本区县继承省级模板")
    with session_scope(console_server.db_url) as session:
        logged = session.exec(
            select(OperationLog.action).where(
                OperationLog.actor_account == account,
                OperationLog.object == "workflows.definitions",
                OperationLog.tenant_code == "330106",
            )
        ).all()
    assert {"override", "save_draft", "revert"} <= set(logged)


TWO_POOLS = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="x">
  <collaboration id="c">
    <participant id="p1" name="税务" processRef="tax" />
    <participant id="p2" name="登记中心" processRef="centre" />
  </collaboration>
  <process id="tax"><startEvent id="tax_start" /></process>
  <process id="centre" name="查封登记（外部设计）">
    <laneSet id="ls">
      <lane id="l1" name="受理岗"><flowNodeRef>a</flowNodeRef></lane>
      <lane id="l2" name="复审核定岗"><flowNodeRef>b</flowNodeRef></lane>
    </laneSet>
    <startEvent id="s" name="申请" />
    <userTask id="a" name="受理" camunda:assignee="zhang" />
    <userTask id="b" name="核定" />
    <endEvent id="e" name="办结"><terminateEventDefinition id="t" /></endEvent>
    <sequenceFlow id="f1" sourceRef="s" targetRef="a" />
    <sequenceFlow id="f2" sourceRef="a" targetRef="b" />
    <sequenceFlow id="f3" sourceRef="b" targetRef="e" />
  </process>
</definitions>"""


def test_a_bpmn_file_is_previewed_a_process_chosen_and_what_was_kept_exported_again(
    page: Page, console_server: ConsoleServer, make_user: Callable[..., str], tmp_path
) -> None:
    upload = tmp_path / "two-pools.bpmn"
    upload.write_text(TWO_POOLS, encoding="utf-8")
    log_in(page, console_server.base_url, make_user("workflow_bpmn", "sys_admin"))
    page.get_by_test_id("nav-workflows").click()
    page.get_by_role("radio", name="流程定义").click()
    page.get_by_test_id("open-seizure").click()
    page.get_by_test_id("tab-bpmn").click()
    page.get_by_test_id("bpmn-upload").locator("input[type=file]").set_input_files(str(upload))
    page.get_by_test_id("bpmn-import").click()
    preview = page.get_by_test_id("bpmn-preview")
    expect(preview).to_contain_text("含 2 个流程")
    expect(page.get_by_test_id("bpmn-summary")).to_have_text("4 个环节、3 条连线、2 条泳道")
    page.get_by_test_id("bpmn-process").click()
    page.get_by_role("option", name="税务（tax）").click()  # a pool with nothing to handle
    expect(preview).to_contain_text("流程「税务」中没有可导入的办理环节")
    expect(page.get_by_test_id("bpmn-import-chosen")).to_be_disabled()
    page.get_by_test_id("bpmn-process").click()
    page.get_by_role("option", name="查封登记（外部设计）（centre）").click()
    expect(page.get_by_test_id("bpmn-summary")).to_have_text("4 个环节、3 条连线、2 条泳道")
    expect(page.get_by_test_id("bpmn-lanes")).to_contain_text(
        "受理岗（1 个元素）→ 岗位 受理岗（accept）"
    )
    parts = page.get_by_test_id("bpmn-parts")
    expect(parts).to_contain_text("属性 camunda:assignee")
    expect(parts).to_contain_text("terminateEventDefinition")
    page.get_by_test_id("bpmn-import-chosen").click()
    expect(page.get_by_test_id("bpmn-kept")).to_contain_text("e › t")
    page.get_by_test_id("tab-main").click()
    expect(page.get_by_test_id("flow-designer")).to_contain_text("核定")

    page.get_by_test_id("editor-save").click()
    page.get_by_test_id("tab-versions").click()
    draft = page.locator("[data-testid^=version-bpmn-]").first
    with page.expect_download() as download_info:
        draft.click()
    exported = download_info.value.path().read_text(encoding="utf-8")
    assert 'kind="@{http://camunda.org/schema/1.0/bpmn}assignee" value="zhang"' in exported
    assert 'kind="terminateEventDefinition"' in exported
