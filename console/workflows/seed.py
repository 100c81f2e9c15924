"""Province templates for the common businesses, published as version 1 on a fresh database.

Steps follow the usual 申请 → 受理 → 审核 → 登簿 → 缮证 → 发证; materials follow 《不动产登记
暂行条例实施细则》 and the national 办事指南 samples. Values are demonstration settings
(UNCONFIRMED for any one province): administrators change them in 流程配置. A business's
promised limit is the one already kept in ``limits`` (the legal 30 working days where none is).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from console.core.settings import get_settings
from console.workflows.limits import promised_limits
from console.workflows.models import LEGAL_LIMIT_WORKDAYS, Definition, Kind, Status, Version
from console.workflows.schema import dumps, parse_business, parse_workflow
from console.workflows.store import owned

SEED_ACTOR = "seed"
_TASK_ROLES = {
    "受理": (["accept"], ["view", "edit", "forward", "return", "reject"]),
    "审核": (["review", "approve"], ["view", "approve", "return", "reject"]),
    "登簿": (["register"], ["view", "approve"]),
    "缮证": (["certify"], ["view", "edit"]),
    "发证": (["issue"], ["view", "approve"]),
    "送达": (["issue"], ["view", "approve"]),
}
_EDITABLE = {"受理": ["applicant_name", "applicant_id_no", "applicant_phone", "location"]}
_STEP_LIMITS = {"受理": 0.5, "审核": 2, "登簿": 1, "缮证": 0.5, "发证": 0.5, "送达": 0.5}


def _chain(name: str, first: str, tasks: list[str], *, review_gateway: bool) -> dict[str, Any]:
    """A straight workflow; with ``review_gateway`` 审核 may send the case back or refuse it."""
    steps: list[dict[str, Any]] = [{"id": "start", "name": first, "kind": "start", "x": 0, "y": 0}]
    transitions: list[dict[str, Any]] = []
    previous = "start"
    for index, task in enumerate(tasks, start=1):
        roles, actions = _TASK_ROLES[task]
        step_id = f"t{index}"
        steps.append(
            {
                "id": step_id,
                "name": task,
                "kind": "task",
                "x": 0,
                "y": index * 110,
                "roles": roles,
                "actions": actions,
                "editable_fields": _EDITABLE.get(task, []),
                "limit_workdays": _STEP_LIMITS[task],
            }
        )
        transitions.append({"id": f"f_{previous}_{step_id}", "source": previous, "target": step_id})
        previous = step_id
        if task == "审核" and review_gateway:
            previous = _review_gateway(steps, transitions, step_id, index)
    last_y = (len(tasks) + 2) * 110
    steps.append({"id": "end", "name": "办结", "kind": "end", "x": 0, "y": last_y})
    transitions.append({"id": f"f_{previous}_end", "source": previous, "target": "end"})
    return {"name": name, "steps": steps, "transitions": transitions}


def _review_gateway(steps: list, transitions: list, review: str, index: int) -> str:
    """审核结果 → pass on, back to 受理 for 补正, or 不予登记; returns the gateway's id."""
    y = index * 110 + 55
    steps.append({"id": "g_review", "name": "审核结果", "kind": "gateway", "x": 260, "y": y})
    steps.append({"id": "end_refused", "name": "不予登记", "kind": "end", "x": 480, "y": y})
    transitions.append({"id": f"f_{review}_g", "source": review, "target": "g_review"})
    transitions.append(
        {"id": "f_g_back", "source": "g_review", "target": "t1", "condition": "${result == '补正'}"}
    )
    transitions.append(
        {
            "id": "f_g_refuse",
            "source": "g_review",
            "target": "end_refused",
            "condition": "${result == '不予登记'}",
        }
    )
    return "g_review"


WORKFLOWS: dict[str, dict[str, Any]] = {
    "general": _chain(
        "一般登记流程", "申请", ["受理", "审核", "登簿", "缮证", "发证"], review_gateway=True
    ),
    "certificate": _chain(
        "登记证明流程", "申请", ["受理", "审核", "登簿", "缮证", "发证"], review_gateway=False
    ),
    "cancellation": _chain("注销登记流程", "申请", ["受理", "审核", "登簿"], review_gateway=False),
    "seizure": _chain(
        "嘱托登记流程", "嘱托", ["受理", "审核", "登簿", "送达"], review_gateway=False
    ),
}

_APPLICANT_FORM = [
    {"name": "applicant_name", "label": "申请人姓名（名称）", "required": True},
    {
        "name": "applicant_id_type",
        "label": "证件种类",
        "type": "select",
        "dictionary": "id_type",
        "required": True,
    },
    {
        "name": "applicant_id_no",
        "label": "证件号码",
        "type": "id_number",
        "required": True,
        "check": "resident_id",
    },
    {
        "name": "applicant_phone",
        "label": "联系电话",
        "type": "phone",
        "required": True,
        "check": "phone",
    },
    {"name": "unit_no", "label": "不动产单元号", "required": True, "check": "unit_no"},
    {"name": "location", "label": "坐落", "required": True},
]
_APPLICATION = {"name": "不动产登记申请书", "spec": "申请人签字（盖章），A4 纸"}
_IDENTITY = {
    "name": "申请人身份证明",
    "form": "both",
    "spec": "居民身份证、营业执照等；委托代理的另附授权委托书及代理人身份证明",
}
_CERTIFICATE = {"name": "不动产权属证书", "spec": "不动产权证书或房屋所有权证、土地使用证"}
_OPINIONS = [
    {
        "step": "受理",
        "text": "{申请人}申请{业务名称}，坐落{坐落}，申请材料齐全、符合法定形式，予以受理。",
    },
    {
        "step": "审核",
        "text": "经审核，{坐落}（不动产单元号 {不动产单元号}）{业务名称}申请符合"
        "《不动产登记暂行条例》有关规定，拟准予登记。",
    },
    {"step": "登簿", "text": "准予登记，记载于不动产登记簿。{办理人} {日期}"},
]
_GUIDE_BASIS = "《中华人民共和国民法典》；《不动产登记暂行条例》；《不动产登记暂行条例实施细则》"
_FEE = (
    "按《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》"
    "（发改价格规〔2016〕2559号）收取"
)


def _business(
    name: str,
    registration_type: str,
    right_type: str,
    workflow: str,
    materials: list[dict[str, Any]],
    extra_form: list[dict[str, Any]] | None = None,
    scope: str = "",
) -> dict[str, Any]:
    tasks = {s["name"] for s in WORKFLOWS[workflow]["steps"] if s["kind"] == "task"}
    return {
        "name": name,
        "registration_type": registration_type,
        "right_type": right_type,
        "workflow": workflow,
        "form": _APPLICANT_FORM + (extra_form or []),
        "materials": materials,
        "opinions": [o for o in _OPINIONS if o["step"] in tasks],
        "guide": {"scope": scope, "basis": _GUIDE_BASIS, "fee_basis": _FEE, "notes": ""},
    }


BUSINESSES: dict[str, dict[str, Any]] = {
    "1000301": _business(
        "建设用地使用权首次登记",
        "100",
        "3",
        "general",
        [
            _APPLICATION,
            _IDENTITY,
            {"name": "土地权属来源材料", "spec": "国有建设用地使用权出让合同、划拨决定书等"},
            {"name": "土地出让价款、税费缴纳凭证", "form": "copy"},
            {"name": "不动产权籍调查成果", "spec": "宗地图、界址点坐标等"},
        ],
        scope="依法取得国有建设用地使用权的，申请首次登记",
    ),
    "1000402": _business(
        "国有建设用地使用权及房屋所有权首次登记",
        "100",
        "4",
        "general",
        [
            _APPLICATION,
            _IDENTITY,
            {"name": "不动产权属证书（土地）"},
            {"name": "建设工程符合规划的材料", "spec": "建设工程规划核实确认书"},
            {"name": "房屋已经竣工的材料", "spec": "竣工验收备案材料"},
            {"name": "房地产调查或测绘报告"},
        ],
        scope="新建房屋竣工后，由房地产开发企业等申请首次登记",
    ),
    "2000402": _business(
        "房地产权转移登记",
        "200",
        "4",
        "general",
        [
            _APPLICATION,
            _IDENTITY,
            _CERTIFICATE,
            {"name": "买卖合同", "form": "both", "spec": "已网签备案的存量房或商品房买卖合同"},
            {"name": "完税凭证", "spec": "契税、增值税等税费缴纳凭证（可由税务共享获取）"},
            {"name": "婚姻状况证明", "required": False, "spec": "可由民政共享获取"},
        ],
        [{"name": "price", "label": "成交价格（元）", "type": "number", "required": True}],
        scope="买卖、互换、赠与、继承等导致权利转移的",
    ),
    "3000402": _business(
        "国有建设用地使用权及房屋所有权变更登记",
        "300",
        "4",
        "general",
        [
            _APPLICATION,
            _IDENTITY,
            _CERTIFICATE,
            {"name": "变更的材料", "spec": "姓名或名称、身份证明号码、坐落名称等变更的证明"},
        ],
        [{"name": "change_reason", "label": "变更原因", "type": "textarea", "required": True}],
        scope="权利人姓名或名称、坐落、用途等发生变更的",
    ),
    "4000101": _business(
        "注销登记",
        "400",
        "",
        "cancellation",
        [
            _APPLICATION,
            _IDENTITY,
            _CERTIFICATE,
            {
                "name": "不动产权利消灭的材料",
                "spec": "不动产灭失、权利人放弃权利、土地被收回等证明",
            },
        ],
        scope=(
            "不动产灭失、权利人放弃不动产权利、依法没收或收回土地等情形"
            "（抵押权、预告、异议、查封、地役权的注销按各自业务办理）"
        ),
    ),
    "8000101": _business(
        "查封登记",
        "800",
        "",
        "seizure",
        [
            {"name": "人民法院工作人员的工作证", "form": "copy", "count": 2},
            {"name": "协助执行通知书", "spec": "载明查封期限"},
            {"name": "生效法律文书", "spec": "查封裁定书等"},
        ],
        [
            {"name": "court", "label": "嘱托机关", "required": True},
            {"name": "ruling_no", "label": "文书编号", "required": True},
        ],
        scope="人民法院等国家有权机关嘱托查封不动产的",
    ),
    "9000101": _business(
        "抵押权登记",
        "900",
        "",
        "certificate",
        [
            _APPLICATION,
            _IDENTITY,
            _CERTIFICATE,
            {"name": "主债权合同", "form": "both"},
            {"name": "抵押合同", "form": "both"},
        ],
        [
            {"name": "debt_amount", "label": "被担保主债权数额（元）", "type": "number"},
            {"name": "debt_start", "label": "债务履行期限起", "type": "date", "required": True},
            {"name": "debt_end", "label": "债务履行期限止", "type": "date", "required": True},
        ],
        scope="以不动产设定抵押的",
    ),
}


def _add(session: Session, *, kind: Kind, key: str, name: str, body: str, owner: str) -> bool:
    """Publish ``body`` as version 1 of a new template, unless the owner already has ``key``."""
    if owned(session, kind, key, owner) is not None:
        return False
    definition = Definition(
        kind=kind.value, key=key, tenant_code=owner, name=name, created_by=SEED_ACTOR
    )
    session.add(definition)
    session.flush()
    assert definition.id is not None
    session.add(
        Version(
            definition_id=definition.id,
            number=1,
            status=Status.PUBLISHED.value,
            body=body,
            based_on="初始模板",
            created_by=SEED_ACTOR,
            published_by=SEED_ACTOR,
            published_at=definition.created_at,
        )
    )
    return True


def load_workflow_seed(session: Session) -> int:
    """Publish the province templates that are missing; returns how many were added."""
    owner = get_settings().province_code
    limits = promised_limits(session)
    added = 0
    for key, data in WORKFLOWS.items():
        body = dumps(parse_workflow(data))
        added += _add(
            session, kind=Kind.WORKFLOW, key=key, name=data["name"], body=body, owner=owner
        )
    for code, data in BUSINESSES.items():
        limit = limits.get(code, LEGAL_LIMIT_WORKDAYS)
        body = dumps(parse_business({**data, "time_limit_workdays": limit}))
        added += _add(
            session, kind=Kind.BUSINESS, key=code, name=data["name"], body=body, owner=owner
        )
    return added
