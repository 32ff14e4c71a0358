"""Error pages in the visitor's language (problem+json under /api/); 5xx roll the session back."""

from flask import Flask, render_template
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from portal.api import is_api_request, problems
from portal.extensions import db
from portal.search.backend import SearchUnavailable

# Codes that get their own page; anything else falls back to the generic one.
PAGES = {400, 403, 404, 405, 413, 429, 500, 503}
RETRY_AFTER_SECONDS = 30


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code >= 500:
            # Unhandled exceptions arrive here as InternalServerError (outside testing).
            db.session.rollback()
        if is_api_request():
            return problems.from_http_exception(error)
        response = render_template("errors/error.html", code=code, known=code in PAGES)
        return response, code

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    @app.errorhandler(SearchUnavailable)
    def overloaded(error: Exception):
        """The database is locked, gone or out of connections, or the search index is being
        rebuilt: nothing was saved, say so."""
        db.session.rollback()
        app.logger.warning("Unavailable: %s", error)
        if is_api_request():
            return problems.problem(503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        page = render_template("errors/error.html", code=503, known=True)
        return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
