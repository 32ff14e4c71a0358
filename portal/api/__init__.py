"""The JSON API under /api/v1: the same services as the pages, described by OpenAPI 3."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, current_app, request
from flask_smorest import Api

from portal.api.problems import PROBLEM_TYPE
from portal.api.schemas import ProblemSchema

API_PREFIX = "/api/"
DOCS_PATH = "/api/v1/docs"


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

    @app.before_request
    def limit_api_bodies() -> None:
        if is_api_request():
            request.max_content_length = current_app.config["API_MAX_CONTENT_LENGTH"]
