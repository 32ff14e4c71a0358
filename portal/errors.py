"""Error pages in the visitor's language; a 500 rolls the session back."""

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from portal.extensions import db

# Codes that get their own page; anything else falls back to the generic one.
PAGES = {400, 403, 404, 405, 413, 429, 500, 503}


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code >= 500:
            # Unhandled exceptions arrive here as InternalServerError (outside testing).
            db.session.rollback()
        response = render_template("errors/error.html", code=code, known=code in PAGES)
        return response, code
