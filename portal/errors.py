"""Error pages in the visitor's language (problem+json under /api/); 5xx roll the session back."""

import math
import time
from datetime import UTC, datetime, timedelta

from flask import Flask, render_template
from flask_babel import format_datetime, format_timedelta
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from portal.api import is_api_request, problems
from portal.extensions import db, limiter
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
        if code == 429:
            return _too_many_requests()
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


def retry_after_seconds() -> int | None:
    """Seconds until every limit this request exhausted allows it again.

    Read from the limiter's own windows, the reset times its Retry-After header comes from;
    RATELIMIT_FAIL_ON_FIRST_BREACH is off so that an exhausted hourly limit behind a per-minute
    one is not hidden.
    """
    resets = [limit.reset_at for limit in limiter.current_limits if limit.breached]
    if not resets:
        return None
    # As the header counts it: reset_at is already rounded up to the next whole second.
    return max(1, int(max(resets) - time.time()))


def _wait_text(seconds: int) -> str:
    """The wait in words, rounded up to the unit shown so that it is never too short."""
    if seconds < 120:
        wait = timedelta(seconds=seconds)
    elif seconds < 2 * 3600:
        wait = timedelta(minutes=math.ceil(seconds / 60))
    elif seconds < 48 * 3600:
        wait = timedelta(hours=math.ceil(seconds / 3600))
    else:
        wait = timedelta(days=math.ceil(seconds / 86400))
    # threshold=2: Babel keeps the unit chosen here (60 seconds, not "1 minute").
    return format_timedelta(wait, threshold=2)


def _too_many_requests():
    seconds = retry_after_seconds()
    wait = until = None
    headers = {}
    if seconds is not None:
        wait = _wait_text(seconds)
        pattern = "HH:mm:ss" if seconds < 12 * 3600 else "yyyy-MM-dd HH:mm"
        until = format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), pattern)
        # The limiter keeps the later of this and its own reset time: page and header agree.
        headers["Retry-After"] = str(seconds)
    page = render_template("errors/error.html", code=429, known=True, wait=wait, until=until)
    return page, 429, headers
