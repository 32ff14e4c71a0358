"""The API reference for people: the OpenAPI document rendered as a page (no scripts, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _

from portal.api import MAX_JSON_DEPTH

bp = Blueprint("api_reference", __name__, url_prefix="/api/v1")

METHODS = ("get", "post", "put", "patch", "delete")


def problem_codes() -> list[tuple[str, str]]:
    """The codes an error may carry besides the form's own (listed in each field's detail)."""
    return [
        ("token_required", _("没有提供令牌。")),
        ("invalid_token", _("令牌无效、已撤销，或账号已停用。")),
        ("wrong_role", _("令牌所属账号的角色不能调用这个接口。")),
        ("point_inactive", _("您所在的联系点已停用，不能再报送意见。")),
        ("draft_not_found", _("没有这部草案，或它尚未发布。")),
        ("receipt_not_found", _("没有找到这个回执编号，请检查后重新输入。")),
        ("submission_not_found", _("没有这批意见，或它属于其他联系点。")),
        ("window_closed", _("本草案当前不在征求意见期内，无法提交意见。")),
        ("bad_idempotency_key", _("这个 Idempotency-Key 已用于另一部草案。")),
        ("too_many_opinions", _("一次报送的意见条数超过上限。")),
        (
            "json_too_deep",
            _("请求体的 JSON 嵌套超过 %(max)d 层或括号不配对。", max=MAX_JSON_DEPTH),
        ),
    ]


@dataclass
class Field:
    name: str
    type: str
    required: bool
    description: str = ""
    children: list[Field] = field(default_factory=list)


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    tag: str
    needs_token: bool
    optional_token: bool
    parameters: list[dict]
    body: list[Field]
    responses: list[tuple[str, str]]

    @property
    def anchor(self) -> str:
        path = self.path.strip("/").replace("/", "-").replace("{", "").replace("}", "")
        return f"{self.method.lower()}-{path}"


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _type(spec: dict, schema: dict) -> str:
    schema = _resolve(spec, schema)
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {_type(spec, schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"] if v is not None)
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return kind


def _fields(spec: dict, schema: dict, depth: int = 0) -> list[Field]:
    schema = _resolve(spec, schema)
    required = set(schema.get("required", []))
    result = []
    for name, prop in schema.get("properties", {}).items():
        target = _resolve(spec, prop)
        children = []
        if depth < 2:
            if target.get("type") == "array" and "properties" in _resolve(
                spec, target.get("items", {})
            ):
                children = _fields(spec, target["items"], depth + 1)
            elif "properties" in target:
                children = _fields(spec, target, depth + 1)
        result.append(
            Field(
                name=name,
                type=_type(spec, prop),
                required=name in required,
                description=prop.get("description", target.get("description", "")),
                children=children,
            )
        )
    return result


def operations(spec: dict) -> list[Operation]:
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            security = op.get("security", [])
            body = []
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = _fields(spec, content["application/json"]["schema"])
            responses = []
            for code, response in op.get("responses", {}).items():
                response = _resolve_response(spec, response)
                responses.append((code, response.get("description", "")))
            description = op.get("description", "")
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=description,
                    tag=(op.get("tags") or [""])[0],
                    needs_token=bool(security) and {} not in security,
                    optional_token=bool(security) and {} in security,
                    parameters=[
                        {**p, "type": _type(spec, p.get("schema", {}))}
                        for p in op.get("parameters", [])
                    ],
                    body=body,
                    responses=sorted(responses),
                )
            )
    return found


def _resolve_response(spec: dict, response: dict) -> dict:
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        return spec["components"]["responses"][name]
    return response


@bp.route("/docs")
def page():
    spec = current_app.extensions["portal-api"].spec.to_dict()
    return render_template(
        "api/reference.html",
        spec=spec,
        operations=operations(spec),
        problem_codes=problem_codes(),
    )
