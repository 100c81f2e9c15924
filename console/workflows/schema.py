"""The bodies of versions: a workflow graph, and a business with its form, materials and texts.

Pydantic checks the shapes (types, lengths, allowed values); ``rules`` checks the meaning.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from console.core.errors import ValidationFailed
from console.workflows.models import LEGAL_LIMIT_WORKDAYS

StepKind = Literal["start", "task", "gateway", "end"]
STEP_KINDS: dict[str, str] = {"start": "开始", "task": "环节", "gateway": "条件分支", "end": "结束"}
# What a role may do at a step, as the guide lists them.
ACTIONS: dict[str, str] = {
    "view": "查看",
    "edit": "编辑表单",
    "approve": "审核通过",
    "return": "退回补正",
    "forward": "转办",
    "reject": "不予登记",
}
FIELD_TYPES: dict[str, str] = {
    "text": "文本",
    "textarea": "多行文本",
    "number": "数字",
    "date": "日期",
    "select": "字典选择",
    "id_number": "证件号码",
    "phone": "电话",
}
FIELD_CHECKS: dict[str, str] = {
    "": "无",
    "resident_id": "居民身份证号（18 位，校验码）",
    "phone": "手机号码",
    "unit_no": "不动产单元号（28 位）",
    "postcode": "邮政编码",
}
MATERIAL_FORMS: dict[str, str] = {"original": "原件", "copy": "复印件", "both": "原件及复印件"}
GUIDE_LABELS: dict[str, str] = {
    "scope": "适用范围",
    "basis": "设定依据",
    "fee_basis": "收费依据及标准",
    "notes": "注意事项",
}

Name = Annotated[str, Field(max_length=60, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$")]
BodyT = TypeVar("BodyT", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# An XML NCName (what BPMN ids are): a letter or "_" first, no colon; long enough for any
# modelling tool's generated ids, bounded so a design stays a design. Letters are ASCII or
# the common CJK block: schema validators (libxml2) judge other letters by older XML rules.
ElementId = Annotated[
    str, Field(min_length=1, max_length=1000, pattern=r"^[A-Za-z_一-龥][A-Za-z0-9_.一-龥-]*$")
]
# Text that ends up in XML attributes: no control characters, which XML cannot carry.
_PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"


class Step(_Body):
    """A node of the graph."""

    id: ElementId
    name: Name = ""
    kind: StepKind = "task"
    x: float = 0
    y: float = 0
    roles: list[Annotated[str, Field(max_length=40)]] = []
    actions: list[Literal["view", "edit", "approve", "return", "forward", "reject"]] = []
    editable_fields: list[Annotated[str, Field(max_length=40)]] = []
    limit_workdays: Annotated[float, Field(ge=0, le=LEGAL_LIMIT_WORKDAYS)] = 0


class Transition(_Body):
    """An edge; a condition is allowed only on the way out of a gateway."""

    id: ElementId
    source: str
    target: str
    condition: Annotated[str, Field(max_length=1000, pattern=_PRINTABLE)] = ""
    name: Annotated[str, Field(max_length=200, pattern=_PRINTABLE)] = ""  # the flow's label


class Kept(_Body):
    """Part of an imported BPMN file the designer cannot show, given back by the next export.

    ``element`` is the id of the step or transition it belongs to ("" for the process);
    ``kind`` is the BPMN element's name (``timerEventDefinition``) or, for an attribute,
    ``@`` and its qualified name; ``xml`` is the element as the file wrote it.
    """

    element: Annotated[str, Field(max_length=1000)] = ""
    kind: Annotated[str, Field(min_length=1, max_length=300)]
    xml: Annotated[str, Field(max_length=2_000_000)] = ""  # no more than an upload holds
    value: Annotated[str, Field(max_length=10_000)] = ""


class WorkflowBody(_Body):
    """A workflow definition: its steps and transitions."""

    name: Name = ""
    steps: Annotated[list[Step], Field(max_length=2000)] = []
    transitions: Annotated[list[Transition], Field(max_length=4000)] = []
    kept: Annotated[list[Kept], Field(max_length=20_000)] = []


class FormField(_Body):
    """A field of the business's application form."""

    name: Annotated[str, Field(max_length=40)]
    label: Annotated[str, Field(max_length=40)] = ""
    type: Literal["text", "textarea", "number", "date", "select", "id_number", "phone"] = "text"
    required: bool = False
    dictionary: Annotated[str, Field(max_length=40)] = ""
    check: Literal["", "resident_id", "phone", "unit_no", "postcode"] = ""


class Material(_Body):
    """A material the applicant hands in."""

    name: Annotated[str, Field(max_length=60)]
    required: bool = True
    form: Literal["original", "copy", "both"] = "original"
    count: Annotated[int, Field(ge=1, le=99)] = 1
    electronic: bool = True
    spec: Annotated[str, Field(max_length=300)] = ""


class Opinion(_Body):
    """The opinion text a step's handler starts from; ``{占位符}`` are filled from the case."""

    step: Annotated[str, Field(max_length=60)]
    text: Annotated[str, Field(max_length=500)]


class Guide(_Body):
    """办事指南 beyond what the definition already says (process, materials and limit)."""

    scope: Annotated[str, Field(max_length=500)] = ""
    basis: Annotated[str, Field(max_length=500)] = ""
    fee_basis: Annotated[str, Field(max_length=500)] = ""
    notes: Annotated[str, Field(max_length=1000)] = ""


class BusinessBody(_Body):
    """A business definition: what it is and what it binds."""

    name: Name = ""
    registration_type: Annotated[str, Field(max_length=3)] = ""
    right_type: Annotated[str, Field(max_length=4)] = ""
    time_limit_workdays: Annotated[int, Field(ge=0, le=LEGAL_LIMIT_WORKDAYS)] = LEGAL_LIMIT_WORKDAYS
    workflow: Annotated[str, Field(max_length=40)] = ""
    form: list[FormField] = []
    materials: list[Material] = []
    opinions: list[Opinion] = []
    guide: Guide = Guide()


_FIELD_NAMES = {
    "name": "名称",
    "steps": "环节",
    "transitions": "连线",
    "id": "标识",
    "kind": "类型",
    "roles": "办理岗位",
    "actions": "操作权限",
    "editable_fields": "可编辑字段",
    "limit_workdays": "环节时限",
    "condition": "条件",
    "registration_type": "登记类型",
    "right_type": "权利类型",
    "time_limit_workdays": "承诺时限",
    "workflow": "流程",
    "form": "表单",
    "label": "显示名称",
    "type": "字段类型",
    "dictionary": "字典",
    "check": "校验规则",
    "materials": "材料",
    "required": "是否必收",
    "count": "份数",
    "spec": "规格要求",
    "opinions": "意见模板",
    "text": "模板内容",
    "step": "环节",
    "guide": "办事指南",
    **GUIDE_LABELS,
}
_REASONS = {
    "string_too_long": "过长",
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "含不允许的字符（标识须以字母或下划线开头，只能由字母、数字、"
    "下划线、点和连字符组成；名称不能含控制字符）",
    "literal_error": "取值不在允许范围内",
    "greater_than_equal": "不能小于下限",
    "less_than_equal": "超过上限",
    "extra_forbidden": "不是可识别的设置项",
    "missing": "缺少",
    "too_long": "过多",
}


def _where(location: tuple[Any, ...]) -> str:
    parts = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"第 {part + 1} 项")
        else:
            parts.append(_FIELD_NAMES.get(str(part), str(part)))
    return "·".join(parts)


def _translated(error: ValidationError) -> ValidationFailed:
    first = error.errors()[0]
    where = _where(tuple(first["loc"]))
    reason = _REASONS.get(first["type"], "格式不正确")
    return ValidationFailed(f"{where}{reason}", field=where.split("·")[0] or "内容")


def _parse(model: type[BodyT], data: dict[str, Any] | str) -> BodyT:
    try:
        if isinstance(data, str):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as error:
        raise _translated(error) from None


def parse_workflow(data: dict[str, Any] | str) -> WorkflowBody:
    """A workflow body from JSON (or its dict).

    Raises:
        ValidationFailed: naming the first field of the wrong shape, in Chinese.
    """
    return _parse(WorkflowBody, data)


def parse_business(data: dict[str, Any] | str) -> BusinessBody:
    """A business body from JSON (or its dict).

    Raises:
        ValidationFailed: naming the first field of the wrong shape, in Chinese.
    """
    return _parse(BusinessBody, data)


def dumps(body: BaseModel) -> str:
    """Canonical JSON of a body (stable key order, Chinese kept readable)."""
    return json.dumps(body.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
