"""The JSON API under /api/v1: the same services as the pages, described by OpenAPI 3."""

from __future__ import annotations

from http import HTTPStatus

import numpy as np
from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_smorest import Api

from portal.api.problems import PROBLEM_TYPE, problem
from portal.api.schemas import ProblemSchema

API_PREFIX = "/api/"
DOCS_PATH = "/api/v1/docs"

# No request of the API nests deeper than 4 levels; Python's json recurses once per level and
# fails with RecursionError (a 500) near 1,000. Checked on the raw body, before any parser.
MAX_JSON_DEPTH = 32
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_SPECIAL = np.zeros(256, dtype=bool)
_SPECIAL[list(b'[]{}"\\')] = True
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


def json_too_deep(body: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays/objects deeper than `limit` (counting only brackets
    outside strings), so that a recursive parser must not be given it.

    Vectorised, linear and never recursive: only brackets, quotes and backslashes matter. A
    quote ends or starts a string unless an odd run of backslashes right before it escapes it;
    the running count of open brackets outside strings is the depth. Malformed JSON that is
    shallow is left to the parser (a 400 as well).
    """
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # the usual small request: cannot be deeper than it has brackets
    codes = np.frombuffer(data, dtype=np.uint8)
    where = np.flatnonzero(_SPECIAL[codes]).astype(np.int32)
    chars = codes[where]
    quote = chars == _QUOTE
    if b"\\" in data:
        k = np.arange(where.size, dtype=np.int32)
        adjacent = np.zeros(where.size, dtype=bool)  # right after the previous special byte
        adjacent[1:] = where[1:] - where[:-1] == 1
        backslash = chars == _BACKSLASH
        # Where each run of adjacent backslashes starts, and its length at each backslash.
        starts = backslash.copy()
        starts[1:] &= ~(adjacent[1:] & backslash[:-1])
        run_start = np.maximum.accumulate(np.where(starts, k, np.int32(-1)))
        run = np.where(backslash, k - run_start + 1, np.int32(0))
        escaped = np.zeros(where.size, dtype=bool)  # an odd run right before
        escaped[1:] = adjacent[1:] & (run[:-1] % 2 == 1)
        quote &= ~escaped
    inside = np.cumsum(quote, dtype=np.int32) & 1
    step = _STEP[chars]
    step[inside == 1] = 0
    return bool(np.cumsum(step, dtype=np.int32).max() > limit)


class DepthLimitedJSONProvider(DefaultJSONProvider):
    """request.get_json() anywhere in the app: a too-deep body is a 400, never a RecursionError."""

    def loads(self, s, **kwargs):
        if json_too_deep(s):
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels or unbalanced")
        return super().loads(s, **kwargs)


class PortalApi(Api):
    """flask-smorest's Api with problem+json errors, rendered by the portal's error handler."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        # portal/errors.py answers every HTTP error: HTML pages, problem+json under /api/.
        pass

    def _register_responses(self):
        """Every status as a lazy response component; errors as application/problem+json."""
        from flask_smorest.utils import prepare_response

        for status in HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
                prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)


def is_api_request() -> bool:
    """JSON answers (and Accept-Language) for the API; its reference page is an HTML page."""
    return request.path.startswith(API_PREFIX) and not request.path.startswith(DOCS_PATH)


def init_app(app: Flask) -> None:
    from portal.api import comments, docs, drafts, liaison, search
    from portal.extensions import csrf

    api = PortalApi(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "Read drafts and their figures, send opinions, follow receipts; liaison "
                    "points send batches of opinions; the drafting team searches and exports. "
                    "Errors are application/problem+json in the language of Accept-Language "
                    "(zh-CN by default, en)."
                )
            },
            "servers": [{"url": "/"}],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from the account's settings (shown once).",
        },
    )
    for blueprint in (drafts.blp, comments.blp, liaison.blp, search.blp):
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    app.extensions["portal-api"] = api

    app.json = DepthLimitedJSONProvider(app)

    @app.before_request
    def limit_api_bodies():
        if not is_api_request():
            return None
        request.max_content_length = current_app.config["API_MAX_CONTENT_LENGTH"]
        # webargs parses JSON bodies with the standard library, not app.json: check here.
        if request.is_json and json_too_deep(request.get_data(cache=True)):
            return problem(
                400,
                code="json_too_deep",
                detail=_("请求体的 JSON 嵌套超过 %(max)d 层或括号不配对。", max=MAX_JSON_DEPTH),
            )
        return None
