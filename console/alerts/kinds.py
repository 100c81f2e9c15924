"""The rule kinds: what each watches, its parameters with their bounds, and who may silence it."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a rule kind, with its Chinese label, unit and bounds."""

    name: str
    label: str
    default: float | str
    low: float = 0
    high: float = 0
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) for a choice
    optional_text: bool = False  # free text, "" allowed (e.g. an interface code, "" = all)

    @property
    def is_number(self) -> bool:
        """A bounded number (not a choice, not text)."""
        return not self.choices and not self.optional_text


@dataclass(frozen=True, slots=True)
class Kind:
    """A rule kind: ``integrity`` ones are silenced or resolved only with the auditor."""

    key: str
    label: str
    group: str
    params: tuple[Param, ...]
    explain: str
    integrity: bool = False
    province_only: bool = False  # about the whole platform, not a county


_INTERFACE = Param("interface", "接口编码", "", optional_text=True)
_STREAMS = (("case_event", "办件进度"), ("interface_call", "接口调用日志"), ("any", "任一"))

KINDS: tuple[Kind, ...] = (
    Kind("interface_health", "共享接口成功率或时延", "共享接口", (
        _INTERFACE,
        Param("minutes", "统计时长", 10, 1, 1440, "分钟"),
        Param("min_success", "成功率下限", 90, 0, 100, "%"),
        Param("p95_ms", "P95 时延上限（0 不检查）", 0, 0, 600000, "毫秒"),
        Param("min_calls", "最少调用次数", 20, 1, 1000000, "次"),
    ), "最近 N 分钟内某接口成功率低于 X %（或 P95 时延高于 Y 毫秒）；调用次数不足时不判断"),
    Kind("probe_failures", "接口探测连续失败", "共享接口", (
        _INTERFACE,
        Param("times", "连续失败次数", 3, 1, 100, "次"),
    ), "某接口最近 K 次连通性探测全部失败（接口不可用）"),
    Kind("channel_refusals", "机构通道拒绝率或超限", "机构通道", (
        Param("max_refusal", "拒绝率上限", 20, 0, 100, "%"),
        Param("min_calls", "最少调用次数", 20, 1, 1000000, "次"),
        Param("minutes", "超限统计时长", 60, 1, 1440, "分钟"),
    ), "某机构通道当日被拒率高于 X %，或最近 N 分钟内有调用超出其频率限制"),
    Kind("task_failed", "共享任务失败", "共享任务", (),
         "某共享任务最近一次执行失败；之后一次执行成功即恢复"),
    Kind("task_queue_age", "共享任务积压", "共享任务", (
        Param("hours", "最早待推送记录超过", 4, 1, 720, "小时"),
    ), "某共享任务最早的待推送记录已等待超过 N 小时"),
    Kind("tenant_silent", "区县停止推送", "日志接入", (
        Param("stream", "数据类别", "any", choices=_STREAMS),
        Param("hours", "工作时间内无推送超过", 4, 1, 240, "小时"),
    ), "某区县在工作时间（工作日 8:30–12:00、13:30–17:30）内超过 N 小时未推送办件进度或接口日志"),
    Kind("overdue_cases", "超期未办结办件", "办理时效", (
        Param("max_open", "超期未办结件数上限", 10, 0, 1000000, "件"),
    ), "某区县已超过法定时限仍未办结的办件多于 N 件"),
    Kind("ontime_rate", "按时办结率偏低", "办理时效", (
        Param("min_rate", "本月按时办结率下限", 95, 0, 100, "%"),
        Param("min_closed", "最少办结件数", 20, 1, 1000000, "件"),
    ), "某区县本月按时办结率低于 X %（办结件数不足时不判断）"),
    Kind("sealing_lag", "日志封存滞后", "日志保全", (
        Param("hours", "滞后超过", 6, 1, 240, "小时"),
    ), "已结束的日期超过 N 小时仍未封存入湖（封存任务停滞）", province_only=True),
    Kind("chain_break", "日志校验失败或校验链断裂", "日志保全", (),
         "最近一次日志完整性校验发现异常（文件被改动、缺失或校验链断裂）",
         integrity=True, province_only=True),
    Kind("backup_failed", "备份或恢复校验失败", "备份与恢复", (
        Param("max_age_hours", "无成功备份超过", 26, 1, 720, "小时"),
    ), "最近一次备份或恢复校验失败，或超过 N 小时没有成功的备份",
         integrity=True, province_only=True),
    Kind("exception_burst", "异常突增", "异常日志", (
        Param("count", "ERROR/CRITICAL 条数超过", 20, 1, 1000000, "条"),
        Param("minutes", "统计时长", 5, 1, 1440, "分钟"),
    ), "同一来源在 M 分钟内的 ERROR/CRITICAL 异常日志多于 N 条"),
    Kind("channel_failing", "通知渠道发送失败", "告警通知", (
        Param("times", "连续失败次数", 3, 1, 100, "次"),
    ), "某通知渠道连续 K 次发送失败（告警可能无人收到）", province_only=True),
)  # fmt: skip

BY_KEY = {kind.key: kind for kind in KINDS}


def number_text(value: float) -> str:
    """1000000 → "1,000,000", 2.5 → "2.5" (never "1e+06")."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def param_problems(kind: Kind, values: dict[str, str]) -> dict[str, str]:
    """Parameter label → reason, for each value the kind cannot take (Chinese)."""
    problems: dict[str, str] = {}
    for param in kind.params:
        raw = str(values.get(param.name, "")).strip()
        if param.optional_text:
            if len(raw) > 64:
                problems[param.label] = "不超过 64 个字符"
            continue
        if param.choices:
            if raw not in {value for value, _ in param.choices}:
                problems[param.label] = "请选择：" + "、".join(label for _, label in param.choices)
            continue
        try:
            number = float(raw)
        except ValueError:
            problems[param.label] = "请填写数字"
            continue
        if not param.low <= number <= param.high:
            low, high = number_text(param.low), number_text(param.high)
            problems[param.label] = f"应在 {low} 到 {high}{param.unit} 之间"
    return problems


def parsed_params(kind: Kind, values: dict[str, str]) -> dict[str, float | str]:
    """Checked values, numbers as numbers (call ``param_problems`` first)."""
    out: dict[str, float | str] = {}
    for param in kind.params:
        raw = str(values.get(param.name, param.default)).strip()
        out[param.name] = raw if (param.choices or param.optional_text) else float(raw)
    return out


def defaults(kind: Kind) -> dict[str, str]:
    """Each parameter's default, as a form shows it."""
    return {param.name: f"{param.default:g}" if isinstance(param.default, float | int)
            else str(param.default) for param in kind.params}  # fmt: skip


def stored(params_json: str, kind: Kind) -> dict[str, float | str]:
    """A rule's stored parameters, defaults for any missing."""
    values = {**defaults(kind), **{k: str(v) for k, v in json.loads(params_json or "{}").items()}}
    return parsed_params(kind, values)


def describe(kind: Kind, params: dict[str, float | str]) -> str:
    """The parameters in one line, e.g. "统计时长 10 分钟，成功率下限 90 %"."""
    parts = []
    for param in kind.params:
        value = params.get(param.name, param.default)
        if param.choices:
            value = dict(param.choices).get(str(value), value)
        elif param.optional_text:
            value = value or "全部"
        elif isinstance(value, float):
            value = number_text(value)
        parts.append(f"{param.label} {value}{(' ' + param.unit) if param.unit else ''}")
    return "，".join(parts)
