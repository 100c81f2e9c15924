"""The 流程配置 editor's parts: designer with side panel, business tabs, versions and BPMN."""

from __future__ import annotations

import reflex as rx

from console.ui.choice import Choice
from console.ui.components import (
    confirm_dialog,
    error_callout,
    file_picker,
    form_footer,
    labelled,
    scroll_table,
)
from console.ui.flow_designer import flow_designer
from console.workflows.editor_state import (
    ACTION_CHOICES,
    FIELD_CHECK_CHOICES,
    FIELD_TYPE_CHOICES,
    MATERIAL_FORM_CHOICES,
    DiffView,
    EditorState,
    ExitView,
    ProblemView,
    UsageView,
    VersionView,
)
from console.workflows.schema import GUIDE_LABELS, STEP_KINDS

ORIGIN_COLOURS = {"template": "indigo", "inherited": "gray", "overridden": "amber", "local": "teal"}
CHANGE_COLOURS = {"新增": "green", "删除": "red", "修改": "amber"}


def origin_badge(label: rx.Var[str], origin: rx.Var[str]) -> rx.Component:
    """Where a setting comes from: 省级模板, 继承省级模板, 本地覆盖 or 本地自建."""
    return rx.badge(
        label, color_scheme=rx.match(origin, *ORIGIN_COLOURS.items(), "gray"), variant="soft"
    )


def _select(
    choices: rx.Var[list[Choice]] | list[Choice],
    value: rx.Var[str],
    on_change,
    testid: str,
    *,
    disabled: rx.Var[bool] | bool = False,
    width: str = "100%",
) -> rx.Component:
    items = (
        [rx.select.item(c.label, value=c.value) for c in choices]
        if isinstance(choices, list)
        else rx.foreach(choices, lambda c: rx.select.item(c.label, value=c.value))
    )
    content = rx.select.content(*items) if isinstance(items, list) else rx.select.content(items)
    return rx.select.root(
        rx.select.trigger(width=width, data_testid=testid),
        content,
        value=value,
        on_change=on_change,
        disabled=disabled,
    )


# ---- header, actions, problems ------------------------------------------------------------


def _version_text() -> rx.Component:
    return rx.hstack(
        rx.cond(
            EditorState.served_version > 0,
            rx.badge("执行 v", EditorState.served_version, color_scheme="green", variant="soft"),
            rx.badge("尚未发布", color_scheme="gray", variant="soft"),
        ),
        rx.cond(
            EditorState.draft_number > 0,
            rx.badge("草稿 v", EditorState.draft_number, color_scheme="amber", variant="soft"),
        ),
        rx.cond(EditorState.dirty, rx.badge("有未保存的修改", color_scheme="red")),
        spacing="2",
        data_testid="editor-versions",
    )


def editor_header() -> rx.Component:
    """Title, origin, versions and the actions the viewer may take."""
    return rx.vstack(
        rx.hstack(
            rx.button(
                rx.icon("arrow-left", size=14),
                "返回列表",
                variant="ghost",
                on_click=EditorState.close,
                data_testid="editor-back",
            ),
            rx.heading(EditorState.title, size="5", data_testid="editor-title"),
            rx.code(EditorState.key),
            origin_badge(EditorState.origin_label, EditorState.origin),
            _version_text(),
            rx.spacer(),
            _actions(),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        rx.callout(
            EditorState.inheritance_text,
            icon="git-branch",
            size="1",
            color_scheme=rx.match(EditorState.origin, ("overridden", "amber"), "blue"),
            data_testid="inheritance",
        ),
        error_callout(EditorState.error, testid="editor-error"),
        rx.cond(EditorState.kind == "business", _problems()),
        width="100%",
        spacing="2",
    )


def _actions() -> rx.Component:
    return rx.hstack(
        rx.cond(
            EditorState.may_override,
            rx.button(
                rx.icon("copy", size=14),
                "本地覆盖",
                on_click=EditorState.override,
                loading=EditorState.busy,
                data_testid="editor-override",
            ),
        ),
        rx.cond(
            EditorState.editable,
            rx.hstack(
                rx.button(
                    rx.icon("save", size=14),
                    "保存草稿",
                    variant="soft",
                    on_click=EditorState.save,
                    loading=EditorState.busy,
                    data_testid="editor-save",
                ),
                rx.cond(
                    EditorState.can_publish,
                    rx.button(
                        rx.icon("send", size=14),
                        "发布",
                        on_click=EditorState.set_publish_open(True),
                        disabled=(EditorState.draft_number == 0) & ~EditorState.dirty,
                        data_testid="editor-publish",
                    ),
                ),
                rx.cond(
                    EditorState.draft_number > 0,
                    rx.button(
                        "放弃草稿",
                        variant="soft",
                        color_scheme="red",
                        on_click=EditorState.ask("discard"),
                        data_testid="editor-discard",
                    ),
                ),
            ),
        ),
        rx.cond(
            EditorState.may_revert,
            rx.button(
                rx.icon("undo-2", size=14),
                "恢复继承",
                variant="soft",
                color_scheme="amber",
                on_click=EditorState.ask("revert"),
                data_testid="editor-revert",
            ),
        ),
        spacing="2",
    )


def _problem(problem: ProblemView) -> rx.Component:
    return rx.list.item(
        rx.text(problem.message, size="2"),
        rx.cond(
            problem.ref != "",
            rx.button(
                "定位",
                size="1",
                variant="ghost",
                on_click=EditorState.select_step(problem.ref),
            ),
        ),
    )


def _problems() -> rx.Component:
    return rx.cond(
        EditorState.problems.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.vstack(
                rx.text(
                    "发布前需解决 ",
                    EditorState.problems.length(),
                    " 处问题（草稿可以先保存）：",
                    weight="medium",
                    size="2",
                ),
                rx.list.unordered(rx.foreach(EditorState.problems, _problem)),
                spacing="1",
            ),
            color_scheme="amber",
            size="1",
            data_testid="editor-problems",
        ),
        rx.callout(
            "检查通过：可以发布",
            icon="circle-check",
            color_scheme="green",
            size="1",
            data_testid="editor-ok",
        ),
    )


def editor_dialogs() -> rx.Component:
    """Publish (with a note) and the confirmation of 放弃草稿 / 恢复继承."""
    publish = rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("发布新版本"),
            rx.form(
                rx.vstack(
                    rx.text(
                        "发布后该版本不可修改，并立即对",
                        rx.cond(EditorState.is_county, "本区县", "所有继承省级模板的区县"),
                        "生效。",
                        size="2",
                    ),
                    labelled(
                        "发布说明（记入版本历史）",
                        rx.text_area(name="note", max_length=200, data_testid="publish-note"),
                    ),
                    form_footer(
                        rx.button("确认发布", type="submit", data_testid="publish-confirm")
                    ),
                    spacing="3",
                ),
                on_submit=EditorState.publish,
            ),
            max_width="480px",
        ),
        open=EditorState.publish_open,
        on_open_change=EditorState.set_publish_open,
    )
    confirm = confirm_dialog(
        title="请确认",
        description=[EditorState.confirm_text],
        open_=EditorState.confirm_open,
        on_open_change=EditorState.set_confirm_open,
        on_confirm=EditorState.confirm,
        testid="editor-confirm",
    )
    return rx.fragment(publish, confirm)


# ---- workflow design ----------------------------------------------------------------------


def _role_check(choice: Choice) -> rx.Component:
    return rx.checkbox(
        choice.label,
        checked=EditorState.selected_roles.contains(choice.value),
        on_change=lambda on: EditorState.toggle_role(choice.value, on),
        disabled=~EditorState.editable,
        size="1",
        data_testid=f"role-{choice.value}",
    )


def _action_check(choice: Choice) -> rx.Component:
    return rx.checkbox(
        choice.label,
        checked=EditorState.selected_actions.contains(choice.value),
        on_change=lambda on: EditorState.toggle_action(choice.value, on),
        disabled=~EditorState.editable,
        size="1",
        data_testid=f"action-{choice.value}",
    )


def _exit(edge: ExitView) -> rx.Component:
    return labelled(
        "出口条件",
        rx.hstack(
            rx.text("→ ", edge.target, size="2", white_space="nowrap"),
            rx.input(
                default_value=edge.condition,
                placeholder="如 ${result == '补正'}；留空为默认路径",
                on_blur=lambda value: EditorState.set_condition(edge.id, value),
                disabled=~EditorState.editable,
                width="100%",
                data_testid=f"condition-{edge.id}",
            ),
            width="100%",
            align="center",
        ),
    )


def _side_panel() -> rx.Component:
    step = EditorState.selected_step
    kind = step["kind"].to(str)
    return rx.card(
        rx.cond(
            EditorState.selected != "",
            rx.vstack(
                rx.hstack(
                    rx.text("环节属性", weight="bold"),
                    rx.badge(rx.match(kind, *STEP_KINDS.items(), "办理环节")),
                ),
                rx.cond(
                    EditorState.step_errors.contains(EditorState.selected),
                    rx.callout(
                        EditorState.step_errors[EditorState.selected],
                        icon="triangle-alert",
                        color_scheme="red",
                        size="1",
                    ),
                ),
                labelled(
                    "名称",
                    rx.input(
                        default_value=step["name"].to(str),
                        key=EditorState.revision.to(str) + EditorState.selected,
                        on_blur=EditorState.set_step_name,
                        disabled=~EditorState.editable,
                        data_testid="step-name",
                    ),
                ),
                rx.cond(
                    kind == "task",
                    rx.vstack(
                        rx.text("办理岗位", size="2", weight="medium"),
                        rx.flex(
                            rx.foreach(EditorState.role_choices, _role_check),
                            wrap="wrap",
                            gap="3",
                        ),
                        rx.text("操作权限", size="2", weight="medium"),
                        rx.flex(*[_action_check(c) for c in ACTION_CHOICES], wrap="wrap", gap="3"),
                        labelled(
                            "可编辑的表单字段（标识，逗号分隔）",
                            rx.input(
                                default_value=step["editable_fields"].to(list[str]).join(","),
                                key=EditorState.revision.to(str) + EditorState.selected + "-fields",
                                on_blur=EditorState.set_step_fields,
                                disabled=~EditorState.editable,
                                data_testid="step-fields",
                            ),
                        ),
                        labelled(
                            "环节时限（工作日，0 为不限）",
                            rx.input(
                                default_value=step["limit_workdays"].to(str),
                                key=EditorState.revision.to(str) + EditorState.selected + "-limit",
                                type="number",
                                step="0.5",
                                min="0",
                                on_blur=EditorState.set_step_limit,
                                disabled=~EditorState.editable,
                                data_testid="step-limit",
                            ),
                        ),
                        spacing="2",
                        width="100%",
                    ),
                ),
                rx.cond(
                    kind == "gateway",
                    rx.vstack(rx.foreach(EditorState.selected_exits, _exit), width="100%"),
                ),
                spacing="3",
                width="100%",
            ),
            rx.vstack(
                rx.text("环节属性", weight="bold"),
                rx.text(
                    "从左侧拖入环节并连线；点击环节在此设置名称、岗位、权限与时限。"
                    "选中后按 Delete 删除，连线同理。",
                    size="2",
                    color_scheme="gray",
                ),
            ),
        ),
        width="320px",
        min_width="320px",
        data_testid="step-panel",
    )


def _workflow_aside() -> rx.Component:
    return rx.vstack(
        _side_panel(),
        rx.scroll_area(_problems(), max_height="300px", type="auto"),
        width="320px",
        min_width="320px",
    )


def workflow_design() -> rx.Component:
    """The canvas and the selected step's properties."""
    return rx.vstack(
        labelled(
            "流程名称",
            rx.input(
                default_value=EditorState.name,
                key=EditorState.revision.to(str) + "-wfname",
                on_blur=EditorState.set_name,
                disabled=~EditorState.editable,
                width="360px",
                data_testid="workflow-name",
            ),
        ),
        rx.hstack(
            flow_designer(
                steps=EditorState.steps,
                transitions=EditorState.transitions,
                errors=EditorState.step_errors,
                role_labels=EditorState.role_labels,
                selected=EditorState.selected,
                read_only=~EditorState.editable,
                on_graph_change=EditorState.apply_graph,
                on_select=EditorState.select_step,
                height="620px",
            ),
            _workflow_aside(),
            width="100%",
            align="start",
            spacing="3",
        ),
        width="100%",
    )


def bpmn_panel() -> rx.Component:
    """Export a version as BPMN 2.0; import a BPMN design into the draft."""
    return rx.vstack(
        rx.text(
            "BPMN 2.0 XML 可在 Flowable、Camunda 等流程引擎中运行：岗位写为 candidateGroups，"
            "条件写为 conditionExpression；环节权限与时限写在扩展属性中，引擎会忽略。",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            EditorState.editable,
            rx.vstack(
                file_picker(
                    "bpmn_upload",
                    "拖入或点击选择 .bpmn / .xml 文件（导入后替换当前草稿）",
                    {"application/xml": [".bpmn", ".xml"], "text/xml": [".bpmn", ".xml"]},
                    "bpmn-upload",
                ),
                rx.button(
                    rx.icon("upload", size=14),
                    "导入到草稿",
                    on_click=EditorState.upload_bpmn(rx.upload_files(upload_id="bpmn_upload")),
                    data_testid="bpmn-import",
                ),
                rx.foreach(
                    EditorState.bpmn_skipped,
                    lambda text: rx.text(text, size="2", color_scheme="amber"),
                ),
                width="100%",
            ),
        ),
        width="100%",
        spacing="3",
    )


# ---- business -----------------------------------------------------------------------------


def _text_input(value: rx.Var, on_change, testid: str, **props) -> rx.Component:
    """A field checked as the user types (the draft is rechecked on every change)."""
    return rx.input(
        default_value=value,
        on_change=on_change,
        disabled=~EditorState.editable,
        data_testid=testid,
        **props,
    )


def business_main() -> rx.Component:
    """Name, types, promised limit, bound workflow, and the 办事指南."""
    guide = EditorState.guide
    return rx.grid(
        labelled(
            "业务名称",
            _text_input(
                EditorState.name,
                EditorState.set_name,
                "business-name",
                key=EditorState.revision.to(str) + "-bname",
                width="100%",
            ),
        ),
        labelled(
            "登记类型",
            _select(
                EditorState.registration_choices,
                EditorState.registration_type,
                lambda v: EditorState.set_business("registration_type", v),
                "business-registration-type",
                disabled=~EditorState.editable,
            ),
        ),
        labelled(
            "权利类型",
            _select(
                EditorState.right_choices,
                EditorState.right_type,
                lambda v: EditorState.set_business("right_type", v),
                "business-right-type",
                disabled=~EditorState.editable,
            ),
        ),
        labelled(
            "承诺办结时限（工作日，0–30）",
            _text_input(
                EditorState.time_limit,
                lambda v: EditorState.set_business("time_limit", v),
                "business-limit",
                type="number",
                min="0",
                max="30",
                key=EditorState.revision.to(str) + "-limit",
            ),
        ),
        labelled(
            "绑定流程（执行其最新发布版本）",
            _select(
                EditorState.workflow_choices,
                EditorState.workflow,
                lambda v: EditorState.set_business("workflow", v),
                "business-workflow",
                disabled=~EditorState.editable,
            ),
        ),
        rx.box(),
        *[
            labelled(
                label,
                rx.text_area(
                    default_value=guide[name].to(str),
                    key=EditorState.revision.to(str) + "-" + name,
                    on_change=lambda v, n=name: EditorState.set_guide(n, v),
                    disabled=~EditorState.editable,
                    rows="3",
                    width="100%",
                    data_testid=f"guide-{name}",
                ),
            )
            for name, label in ((n, f"办事指南 · {t}") for n, t in GUIDE_LABELS.items())
        ],
        columns="2",
        spacing="4",
        width="100%",
    )


def guide_preview() -> rx.Component:
    """The 办事指南 as the public will read it, put together from the definition."""
    return rx.card(
        rx.vstack(
            rx.text("办事指南预览（流程、材料、时限取自本定义）", weight="bold"),
            rx.text(EditorState.guide_preview, size="2", white_space="pre-wrap"),
            width="100%",
        ),
        width="100%",
        data_testid="guide-preview",
    )


def _row_input(row: rx.Var, index: rx.Var[int], setter, attribute: str, **props) -> rx.Component:
    """A text cell of an editable list row, keyed by the row's identity."""
    return rx.table.cell(
        _text_input(
            row[attribute].to(str),
            lambda v: setter(index, attribute, v),
            props.pop("testid"),
            key=EditorState.revision.to(str) + row["uid"].to(str) + "-" + attribute,
            **props,
        )
    )


def _row_check(row: rx.Var, index: rx.Var[int], setter, attribute: str) -> rx.Component:
    return rx.table.cell(
        rx.checkbox(
            checked=row[attribute].to(bool),
            on_change=lambda on: setter(index, attribute, on),
            disabled=~EditorState.editable,
        )
    )


def _row_select(
    row: rx.Var, index: rx.Var[int], setter, attribute: str, choices, testid: str, width: str
) -> rx.Component:
    return rx.table.cell(
        _select(
            choices,
            row[attribute].to(str),
            lambda v: setter(index, attribute, v),
            testid,
            disabled=~EditorState.editable,
            width=width,
        )
    )


def _row_remove(on_click) -> rx.Component:
    return rx.table.cell(
        rx.cond(
            EditorState.editable,
            rx.icon_button(
                rx.icon("trash-2", size=14),
                size="1",
                variant="ghost",
                color_scheme="red",
                on_click=on_click,
            ),
        )
    )


def _field_row(field: rx.Var, index: rx.Var[int]) -> rx.Component:
    setter = EditorState.set_field
    return rx.table.row(
        _row_input(field, index, setter, "name", testid="field-name", width="140px"),
        _row_input(field, index, setter, "label", testid="field-label"),
        _row_select(field, index, setter, "type", FIELD_TYPE_CHOICES, "field-type", "110px"),
        _row_check(field, index, setter, "required"),
        _row_select(
            field,
            index,
            setter,
            "dictionary",
            EditorState.dictionary_choices,
            "field-dictionary",
            "150px",
        ),
        _row_select(field, index, setter, "check", FIELD_CHECK_CHOICES, "field-check", "170px"),
        _row_remove(EditorState.remove_field(index)),
    )


def _preview_field(field: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(field["label"].to(str), size="2", weight="medium"),
            rx.cond(field["required"].to(bool), rx.text("*", color="var(--red-9)")),
            spacing="1",
        ),
        rx.match(
            field["type"].to(str),
            ("textarea", rx.text_area(placeholder="", disabled=True, width="100%")),
            ("select", rx.select(["（字典项）"], placeholder="请选择", disabled=True)),
            ("date", rx.input(type="date", disabled=True, width="100%")),
            rx.input(disabled=True, width="100%"),
        ),
        rx.cond(
            field["hint"].to(str) != "",
            rx.text("校验：", field["hint"].to(str), size="1", color_scheme="gray"),
        ),
        spacing="1",
        width="100%",
    )


def business_form() -> rx.Component:
    """Field list editor beside a live preview of the application form."""
    return rx.hstack(
        rx.vstack(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("标识", "显示名称", "类型", "必填", "字典", "校验", "")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(EditorState.form_fields, _field_row)),
                size="1",
                width="100%",
                data_testid="form-fields",
            ),
            rx.cond(
                EditorState.editable,
                rx.button(
                    rx.icon("plus", size=14),
                    "添加字段",
                    variant="soft",
                    on_click=EditorState.add_form_field,
                    data_testid="field-add",
                ),
            ),
            width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.text("申请表预览", weight="bold"),
                rx.foreach(EditorState.form_preview, _preview_field),
                spacing="3",
                width="100%",
            ),
            width="320px",
            min_width="320px",
            data_testid="form-preview",
        ),
        width="100%",
        align="start",
        spacing="3",
    )


def _material_row(material: rx.Var, index: rx.Var[int]) -> rx.Component:
    setter = EditorState.set_material
    return rx.table.row(
        _row_input(material, index, setter, "name", testid="material-name", width="220px"),
        _row_check(material, index, setter, "required"),
        _row_select(
            material, index, setter, "form", MATERIAL_FORM_CHOICES, "material-form", "130px"
        ),
        _row_input(
            material,
            index,
            setter,
            "count",
            testid="material-count",
            type="number",
            min="1",
            width="70px",
        ),
        _row_check(material, index, setter, "electronic"),
        _row_input(material, index, setter, "spec", testid="material-spec", width="100%"),
        _row_remove(EditorState.remove_material(index)),
    )


def business_materials() -> rx.Component:
    """Required materials: name, required or not, original/copy, count, electronic, spec."""
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in (
                            "材料名称",
                            "必收",
                            "原件/复印件",
                            "份数",
                            "可收电子件",
                            "规格要求",
                            "",
                        )
                    ]
                )
            ),
            rx.table.body(rx.foreach(EditorState.materials, _material_row)),
            size="1",
            width="100%",
            data_testid="materials",
        ),
        rx.cond(
            EditorState.editable,
            rx.button(
                rx.icon("plus", size=14),
                "添加材料",
                variant="soft",
                on_click=EditorState.add_material,
                data_testid="material-add",
            ),
        ),
        width="100%",
    )


def _opinion(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.grid(
            labelled(
                row["step"].to(str),
                rx.text_area(
                    default_value=row["text"].to(str),
                    key=EditorState.revision.to(str) + "-op-" + row["step"].to(str),
                    on_change=lambda v: EditorState.set_opinion(row["step"].to(str), v),
                    disabled=~EditorState.editable,
                    rows="3",
                    placeholder="该环节无意见模板",
                    width="100%",
                ),
            ),
            rx.vstack(
                rx.text("预览（示例办件，已脱敏）", size="2", weight="medium"),
                rx.text(row["preview"].to(str), size="2", color_scheme="gray"),
            ),
            columns="2",
            spacing="3",
        ),
        width="100%",
    )


def business_opinions() -> rx.Component:
    """Opinion templates per task of the bound workflow, with the placeholders they may use."""
    return rx.vstack(
        rx.text(
            "可用占位符：{业务名称} {受理编号} {受理日期} {申请人} {权利人} {坐落} {不动产单元号}"
            " {办理人} {日期} {登记机构}",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            EditorState.workflow_tasks.length() > 0,
            rx.vstack(rx.foreach(EditorState.opinion_rows, _opinion), width="100%"),
            rx.text("先绑定一个已发布的流程，再为其环节填写意见模板。", size="2"),
        ),
        width="100%",
    )


# ---- versions -----------------------------------------------------------------------------


def _version_row(version: VersionView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(version.label)),
        rx.table.cell(
            rx.badge(
                version.status_label,
                color_scheme=rx.cond(version.status == "published", "green", "amber"),
                variant="soft",
            )
        ),
        rx.table.cell(version.based_on),
        rx.table.cell(version.note),
        rx.table.cell(rx.text(version.created, size="1")),
        rx.table.cell(rx.text(version.published, size="1")),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    EditorState.editable
                    & (version.status == "published")
                    & (EditorState.draft_number == 0),
                    rx.button(
                        "以此新建草稿",
                        size="1",
                        variant="soft",
                        on_click=EditorState.new_draft(version.number),
                        data_testid=f"version-draft-{version.number}",
                    ),
                ),
                rx.cond(
                    EditorState.kind == "workflow",
                    rx.button(
                        "导出 BPMN",
                        size="1",
                        variant="ghost",
                        on_click=EditorState.export_bpmn(version.number),
                        data_testid=f"version-bpmn-{version.number}",
                    ),
                ),
            )
        ),
    )


def _diff_row(row: DiffView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.section),
        rx.table.cell(row.item),
        rx.table.cell(
            rx.badge(
                row.change,
                color_scheme=rx.match(row.change, *CHANGE_COLOURS.items(), "gray"),
            )
        ),
        rx.table.cell(rx.text(row.left, size="1"), background="var(--red-2)"),
        rx.table.cell(rx.text(row.right, size="1"), background="var(--green-2)"),
    )


def _usage_row(row: UsageView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.tenant), rx.table.cell(row.origin), rx.table.cell(row.version)
    )


def versions_panel() -> rx.Component:
    """History, a side-by-side comparison of two versions, and which county uses which."""
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("版本", "状态", "来源", "发布说明", "创建", "发布", "操作")
                    ]
                )
            ),
            rx.table.body(rx.foreach(EditorState.versions, _version_row)),
            size="1",
            width="100%",
            data_testid="versions",
        ),
        rx.hstack(
            rx.text("比较", size="2"),
            rx.select(
                EditorState.version_options,
                value=EditorState.diff_left,
                on_change=lambda v: EditorState.set_diff_side("left", v),
                data_testid="diff-left",
            ),
            rx.text("与", size="2"),
            rx.select(
                EditorState.version_options,
                value=EditorState.diff_right,
                on_change=lambda v: EditorState.set_diff_side("right", v),
                data_testid="diff-right",
            ),
            rx.button(
                "比较并查看使用情况",
                variant="soft",
                on_click=EditorState.compare,
                data_testid="diff-run",
            ),
            align="center",
        ),
        rx.cond(
            EditorState.diff_rows.length() > 0,
            scroll_table(
                ("部分", "项目", "变化", "旧版本", "新版本"),
                EditorState.diff_rows,
                _diff_row,
                testid="diff-table",
                max_height="50vh",
            ),
        ),
        rx.cond(
            EditorState.usage.length() == 0,
            rx.text(
                "尚无区县租户：区县建立后，这里列出各区县执行的版本。",
                size="2",
                color_scheme="gray",
            ),
        ),
        rx.cond(
            EditorState.usage.length() > 0,
            rx.vstack(
                rx.text("各区县执行的版本", weight="medium", size="2"),
                scroll_table(
                    ("区县", "来源", "执行版本"),
                    EditorState.usage,
                    _usage_row,
                    testid="usage-table",
                ),
                width="100%",
            ),
        ),
        width="100%",
        spacing="3",
    )
