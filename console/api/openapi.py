"""The OpenAPI document as callers need it, and parameter errors in Chinese.

FastAPI's document names no security scheme here (the dependencies read ``Authorization``
themselves) and only the 200 and 422 answers. ``document`` adds the two bearer schemes (API
keys for systems, personal access tokens for people's own tools) and every status a route can
answer, so a generated client and schemathesis know what to expect.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

SCHEMES = {
    "ApiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "接入密钥（登记系统、一体化平台、共享部门）：Authorization: Bearer bdc_…",
    },
    "AccessToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "个人访问令牌（“我的账号”中创建）：Authorization: Bearer bdcp_…",
    },
}
_ERROR = {
    "description": "",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"type": "string"}, "request_id": {"type": "string"}},
                "required": ["detail"],
            }
        }
    },
}
_STATUS_TEXT = {
    "400": "请求整体无效（如请求体为空、gzip 数据损坏）",
    "401": "缺少或无效的密钥、令牌",
    "403": "无权限或不在数据范围内",
    "404": "不存在",
    "413": "请求体过大",
    "415": "不支持的内容编码",
    "422": "参数无效（中文原因）",
    "429": "超过调用频率限制（见 Retry-After）",
    "500": "服务器内部错误（附 request_id，可据此查运行日志）",
}
# Which scheme each route family uses; the rest of /api/v1 are public (health).
_TOKEN_PREFIXES = (
    "/api/v1/logs/{stream}/export",
    "/api/v1/cases/",
    "/api/v1/stats/",
    "/api/v1/reports/",
)
_PUBLIC = ("/api/v1/health",)


def _scheme(path: str, method: str) -> str | None:
    if path in _PUBLIC:
        return None
    if path == "/api/v1/logs/{stream}":
        return "ApiKey" if method == "post" else "AccessToken"
    if path.startswith(_TOKEN_PREFIXES):
        return "AccessToken"
    return "ApiKey"


def _statuses(path: str, method: str, scheme: str | None) -> list[str]:
    if scheme is None:
        return ["500"]
    codes = ["401", "403", "404", "422", "500"]
    if scheme == "ApiKey":
        codes.append("429")
    if path == "/api/v1/logs/{stream}" and method == "post":
        codes += ["400", "413", "415"]
    return codes


def document(api: FastAPI) -> dict[str, Any]:
    """The OpenAPI document with security schemes and every answer each route can give."""
    if api.openapi_schema:
        return api.openapi_schema
    schema = get_openapi(
        title=api.title, version=api.version, routes=api.routes, description=api.description
    )
    schema.setdefault("components", {})["securitySchemes"] = SCHEMES
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            scheme = _scheme(path, method)
            if scheme is not None:
                operation["security"] = [{scheme: []}]
            answers = operation.setdefault("responses", {})
            for code in _statuses(path, method, scheme):
                answers.setdefault(code, {**_ERROR, "description": _STATUS_TEXT[code]})
    api.openapi_schema = schema
    return schema


_TYPES = {
    "missing": "缺少该参数",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为时间（ISO 8601）",
    "string_too_long": "过长",
    "string_too_short": "过短",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "string_type": "应为字符串",
}


def describe_error(error: dict[str, Any]) -> str:
    """One pydantic validation error in Chinese, naming the parameter."""
    where = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body")]
    name = ".".join(where) or "请求"
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "greater_than_equal":
        reason = f"应不小于 {context.get('ge')}"
    elif kind == "less_than_equal":
        reason = f"应不大于 {context.get('le')}"
    elif kind == "enum":
        reason = f"应为 {context.get('expected', '')} 之一"
    else:
        reason = _TYPES.get(kind, "取值无效")
    return f"参数 {name}：{reason}"
