"""Errors of the JSON API as application/problem+json (RFC 9457), in the requested language."""

from __future__ import annotations

import re

from flask import Response, json, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from portal.urls import external_url

PROBLEM_TYPE = "application/problem+json"

TITLES = {
    400: _l("请求格式有误"),
    401: _l("需要有效的 API 令牌"),
    403: _l("没有权限"),
    404: _l("没有找到"),
    405: _l("不支持这种请求方法"),
    406: _l("无法提供所要求的格式"),
    409: _l("与现有数据冲突"),
    413: _l("请求内容过大"),
    415: _l("不支持的内容类型"),
    422: _l("请求内容未通过校验"),
    429: _l("请求过于频繁"),
    500: _l("服务器内部错误"),
    503: _l("服务暂时不可用"),
}

DETAILS = {
    400: _l("请求无法解析，请检查 JSON 格式和参数。"),
    401: _l("请在请求头中提供 Authorization: Bearer 令牌；令牌可在账号设置中生成。"),
    403: _l("您的账号没有执行此操作的权限。"),
    404: _l("请求的资源不存在，或您无权查看。"),
    405: _l("此地址不支持这种请求方法。"),
    413: _l("请求内容超过了允许的大小。"),
    422: _l("请求内容有误，请查看 errors 中列出的字段。"),
    429: _l("请求过于频繁，请在 Retry-After 所示的秒数之后再试。"),
    500: _l("服务器出错了，请稍后重试。"),
    503: _l("服务暂时不可用，请稍后重试。"),
}

# marshmallow's English messages, in the requester's language (others pass through as they are).
_FIELD_MESSAGES: list[tuple[re.Pattern, object]] = [
    (re.compile(r"^Missing data for required field\.$"), _l("必填。")),
    (re.compile(r"^Field may not be null\.$"), _l("不能为 null。")),
    (re.compile(r"^Unknown field\.$"), _l("不认识的字段。")),
    (re.compile(r"^Not a valid string\.$"), _l("应为字符串。")),
    (re.compile(r"^Not a valid integer\.$"), _l("应为整数。")),
    (re.compile(r"^Number too large\.$"), _l("数值过大。")),
    (re.compile(r"^Not a valid boolean\.$"), _l("应为 true 或 false。")),
    (re.compile(r"^Not a valid date\.$"), _l("应为 YYYY-MM-DD 格式的日期。")),
    (re.compile(r"^Not a valid list\.$"), _l("应为数组。")),
    (re.compile(r"^Invalid input type\.$"), _l("类型不对，应为 JSON 对象。")),
    (re.compile(r"^Invalid JSON body\.$"), _l("请求体不是有效的 JSON。")),
    (re.compile(r"^Must be one of: (?P<choices>.*)\.$"), _l("应为以下之一：%(choices)s。")),
    (re.compile(r"^Shorter than minimum length (?P<min>\d+)\.$"), _l("长度至少为 %(min)s。")),
    (re.compile(r"^Longer than maximum length (?P<max>\d+)\.$"), _l("长度最多为 %(max)s。")),
    (
        re.compile(r"^Length must be between (?P<min>\d+) and (?P<max>\d+)\.$"),
        _l("长度应在 %(min)s 到 %(max)s 之间。"),
    ),
    (
        re.compile(
            r"^Must be greater than or equal to (?P<min>-?\d+) "
            r"and less than or equal to (?P<max>-?\d+)\.$"
        ),
        _l("应在 %(min)s 到 %(max)s 之间。"),
    ),
    (re.compile(r"^Must be greater than or equal to (?P<min>-?\d+)\.$"), _l("应不小于 %(min)s。")),
    (re.compile(r"^Must be less than or equal to (?P<max>-?\d+)\.$"), _l("应不大于 %(max)s。")),
    (re.compile(r"^String does not match expected pattern\.$"), _l("格式不对。")),
]


def field_message(message: str) -> str:
    for pattern, translated in _FIELD_MESSAGES:
        match = pattern.match(message)
        if match:
            return str(translated) % match.groupdict() if match.groupdict() else str(translated)
    return message


def flatten(messages, prefix: str = "") -> list[dict]:
    """webargs' nested {"json": {"opinions": {"3": {"body": [...]}}}} as a flat list."""
    items: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if prefix == "" and key in ("json", "query", "headers", "path", "view_args"):
                items.extend(flatten(value, ""))
                continue
            name = "" if key == "_schema" else str(key)
            items.extend(flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name))
    elif isinstance(messages, list | tuple):
        for value in messages:
            if isinstance(value, dict | list):
                items.extend(flatten(value, prefix))
            else:
                items.append({"field": prefix, "detail": field_message(str(value))})
    else:
        items.append({"field": prefix, "detail": field_message(str(messages))})
    return items


def problem_type(code: str | None) -> str:
    if not code:
        return "about:blank"
    return external_url("api_reference.page", _anchor="problems")


def problem(
    status: int,
    *,
    code: str | None = None,
    detail: str | None = None,
    errors: list[dict] | None = None,
    headers: dict | None = None,
) -> Response:
    body = {
        "type": problem_type(code),
        "title": str(TITLES.get(status, _("请求未成功"))),
        "status": status,
        "detail": detail or str(DETAILS.get(status, TITLES.get(status, _("请求未成功")))),
        "instance": request.path,
    }
    if code:
        body["code"] = code
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def from_http_exception(error: HTTPException) -> Response:
    """Any HTTP error raised under /api/: abort(), webargs validation, limits, 404s, 500s."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors")
    if errors is None and "messages" in data:
        errors = flatten(data["messages"])
    headers = dict(data.get("headers") or {})
    if status == 429:
        # Flask-Limiter adds Retry-After to the response; say it in the body as well.
        retry = getattr(error, "retry_after", None)
        if retry:
            headers.setdefault("Retry-After", str(int(retry)))
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(
        status,
        code=data.get("code"),
        detail=data.get("message"),
        errors=errors,
        headers=headers,
    )
