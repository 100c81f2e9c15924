"""The business editor's tabs: basics and 办事指南, the form, the materials, the opinions."""

from __future__ import annotations

import reflex as rx

from console.ui.choice import Choice
from console.ui.components import labelled, simple_table
from console.ui.widgets import action_button
from console.workflows.business_state import (
    FIELD_CHECK_CHOICES,
    FIELD_TYPE_CHOICES,
    MATERIAL_FORM_CHOICES,
)
from console.workflows.editor_state import EditorState
from console.workflows.schema import GUIDE_LABELS

PREVIEW_WIDTH = "320px"
FIELD_COLUMNS = ("标识", "显示名称", "类型", "必填", "字典", "校验", "")
MATERIAL_COLUMNS = ("材料名称", "必收", "原件/复印件", "份数", "可收电子件", "规格要求", "")


def _select(
    choices: rx.Var[list[Choice]] | list[Choice],
    value: rx.Var[str],
    on_change,
    testid: str,
    *,
    width: str = "100%",
) -> rx.Component:
    """A select of the business, disabled where the viewer may not edit."""
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
        disabled=~EditorState.editable,
    )


def _text_input(value: rx.Var, on_change, testid: str, **props) -> rx.Component:
    """A field checked as the user types (the draft is rechecked on every change)."""
    return rx.input(
        default_value=value,
        on_change=on_change,
        disabled=~EditorState.editable,
        data_testid=testid,
        **props,
    )


def _basic_select(label: str, choices: rx.Var[list[Choice]], attribute: str) -> rx.Component:
    """One of the business's basic selects (registration type, right type, workflow)."""
    testid = "business-" + attribute.replace("_", "-")
    return labelled(
        label,
        _select(
            choices,
            getattr(EditorState, attribute),
            lambda v: EditorState.set_business(attribute, v),
            testid,
        ),
    )


def _guide_field(name: str, title: str) -> rx.Component:
    return labelled(
        f"办事指南 · {title}",
        rx.text_area(
            default_value=EditorState.guide[name].to(str),
            key=EditorState.revision.to(str) + "-" + name,
            on_change=lambda v: EditorState.set_guide(name, v),
            disabled=~EditorState.editable,
            rows="3",
            width="100%",
            data_testid=f"guide-{name}",
        ),
    )


def business_main() -> rx.Component:
    """Name, types, promised limit, bound workflow, and the 办事指南."""
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
        _basic_select("登记类型", EditorState.registration_choices, "registration_type"),
        _basic_select("权利类型", EditorState.right_choices, "right_type"),
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
        _basic_select("绑定流程（执行其最新发布版本）", EditorState.workflow_choices, "workflow"),
        rx.box(),
        *[_guide_field(name, title) for name, title in GUIDE_LABELS.items()],
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


# ---- editable lists (form fields, materials) ----------------------------------------------


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


def _row_list(
    columns: tuple[str, ...],
    rows: rx.Var,
    row,
    testid: str,
    *,
    add: tuple[str, rx.EventHandler, str],
) -> rx.Component:
    """A table of editable rows and, for an editor, the button adding one (label, event, id)."""
    label, on_add, add_testid = add
    return rx.vstack(
        simple_table(columns, rows, row, testid=testid),
        action_button(label, on_add, allowed=EditorState.editable, icon="plus", testid=add_testid),
        width="100%",
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
            ("date", rx.input(placeholder="年-月-日", disabled=True, width="100%")),
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
        _row_list(
            FIELD_COLUMNS,
            EditorState.form_fields,
            _field_row,
            "form-fields",
            add=("添加字段", EditorState.add_form_field, "field-add"),
        ),
        rx.card(
            rx.vstack(
                rx.text("申请表预览", weight="bold"),
                rx.foreach(EditorState.form_preview, _preview_field),
                spacing="3",
                width="100%",
            ),
            width=PREVIEW_WIDTH,
            min_width=PREVIEW_WIDTH,
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
    return _row_list(
        MATERIAL_COLUMNS,
        EditorState.materials,
        _material_row,
        "materials",
        add=("添加材料", EditorState.add_material, "material-add"),
    )


# ---- opinions ------------------------------------------------------------------------------


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
