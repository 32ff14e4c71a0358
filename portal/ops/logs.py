"""Structured logs: one JSON object a line (python-json-logger), each with the request id.

The request id comes from a sane ``X-Request-ID`` header (set by nginx or a load balancer, so
one id follows a request through every tier) or is generated; it is echoed in the response's
``X-Request-ID`` and put on every log record made while the request runs, whichever logger
makes it (SQLAlchemy's, Flask's, a library's), through the log record factory.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar

from flask import Flask, g, request
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id looks like (nginx's $request_id, a UUID, a trace id): nothing that could
# forge another log line or field.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}\Z")
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"

request_id_var: ContextVar[str | None] = ContextVar("portal_request_id", default=None)
access_log = logging.getLogger("portal.access")


def current_request_id() -> str | None:
    """The id of the request being served in this thread, None outside one."""
    return request_id_var.get()


def accept_request_id(header: str | None) -> str:
    """The caller's id when it is sane, else a new one (32 hex digits)."""
    if header and _SANE_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


def _install_record_factory() -> None:
    """Every log record carries ``request_id`` (None outside a request); installed once."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "portal_request_id", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    factory.portal_request_id = True
    logging.setLogRecordFactory(factory)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (gunicorn and pytest replace it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def make_formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601 in UTC
            json_ensure_ascii=False,  # Chinese text stays readable in the log
        )
    if log_format == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"LOG_FORMAT must be 'json' or 'text', not {log_format!r}")


def configure_logging(app: Flask) -> None:
    """One handler on the root logger, in LOG_FORMAT; replaces the one an earlier app set."""
    _install_record_factory()
    handler = _StderrHandler()
    handler.setFormatter(make_formatter(app.config["LOG_FORMAT"]))
    handler.portal_handler = True
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "portal_handler", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    # app.logger's records reach the root handler; Flask's own would print them twice.
    app.logger.removeHandler(default_handler)


def init_app(app: Flask) -> None:
    configure_logging(app)

    def start_request() -> None:
        g.request_started = time.perf_counter()
        g.request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
        request_id_var.set(g.request_id)

    # First of all before_request functions, so that their log lines carry the id too.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)

    @app.after_request
    def finish_request(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        # Health checks and scrapes come every few seconds: kept out of the INFO log.
        quiet = request.blueprint == "ops"
        # The route, not the path: a receipt's path holds its tracking code, a secret.
        route = request.url_rule.rule if request.url_rule else request.path[:200]
        access_log.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %s",
            request.method,
            route,
            response.status_code,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "endpoint": request.endpoint,
            },
        )
        return response

    @app.teardown_request
    def forget_request_id(_error=None) -> None:
        request_id_var.set(None)
