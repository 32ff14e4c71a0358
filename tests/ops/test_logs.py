"""Structured logs: JSON lines, each carrying the id of the request that made it, the same id
as the response's X-Request-ID."""

import io
import json
import logging

import pytest

from portal.ops import logs


@pytest.fixture
def log_lines():
    """Capture what the portal's JSON formatter writes for every logger, as parsed lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.make_formatter("json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def chatty_app(app_factory, app):
    """An app with a view that logs through a library's logger, as SQLAlchemy or Whoosh do."""
    chatty = app_factory()

    def chatter():
        logging.getLogger("some.library").warning("working on it")
        chatty.logger.info("the app says so too")
        return "done"

    chatty.add_url_rule("/chatter", "chatter", chatter)
    return chatty


def test_a_sane_request_id_is_kept_and_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c:0001"})
    assert response.headers["X-Request-ID"] == "lb-7f3a9c:0001"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "a" * 129,
        'x", "level": "forged',
        "two\nlines",
        "空格 id",
        "-leading-dash",
    ],
)
def test_an_insane_request_id_is_replaced(client, header):
    # Through the WSGI environ: the test client's own header checks would refuse some.
    response = client.get("/healthz", environ_base={"HTTP_X_REQUEST_ID": header})
    given = response.headers["X-Request-ID"]
    assert given != header
    assert len(given) == 32 and int(given, 16) >= 0


def test_each_request_gets_its_own_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second


def test_every_log_line_of_a_request_carries_its_id(chatty_app, log_lines):
    client = chatty_app.test_client()
    response = client.get("/chatter", headers={"X-Request-ID": "req-abc-123"})
    assert response.status_code == 200
    response = client.get("/chatter")
    generated = response.headers["X-Request-ID"]
    lines = log_lines()
    by_message = {}
    for line in lines:
        by_message.setdefault(line["message"], []).append(line["request_id"])
    assert by_message["working on it"] == ["req-abc-123", generated]
    assert by_message["the app says so too"] == ["req-abc-123", generated]
    access = [line for line in lines if line["logger"] == "portal.access"]
    assert [line["request_id"] for line in access] == ["req-abc-123", generated]
    assert access[0]["route"] == "/chatter" and access[0]["status"] == 200
    assert access[0]["duration_ms"] >= 0
    assert {"time", "level", "logger", "message", "request_id"} <= set(access[0])
    # Outside a request the field is there, empty.
    logging.getLogger("some.library").warning("between requests")
    assert log_lines()[-1]["request_id"] is None


def test_error_responses_carry_the_id_too(client, log_lines):
    response = client.get("/no-such-page", headers={"X-Request-ID": "missing-page-1"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "missing-page-1"
    assert any(
        line["logger"] == "portal.access" and line["request_id"] == "missing-page-1"
        for line in log_lines()
    )


def test_receipt_codes_stay_out_of_the_access_log(client, log_lines):
    client.get("/receipts/7KQ2-M9XD-3FTA-WB8C")
    text = json.dumps(log_lines())
    assert "7KQ2" not in text
    assert "/receipts/<code>" in text


def test_the_app_installs_one_json_handler(app_factory, app):
    app_factory()
    app_factory(LOG_FORMAT="text")
    ours = [h for h in logging.getLogger().handlers if getattr(h, "portal_handler", False)]
    assert len(ours) == 1
    assert not isinstance(ours[0].formatter, logs.JsonFormatter)  # the last app's choice
    app_factory()
    ours = [h for h in logging.getLogger().handlers if getattr(h, "portal_handler", False)]
    assert len(ours) == 1 and isinstance(ours[0].formatter, logs.JsonFormatter)


def test_an_unknown_log_format_is_refused_at_start(app_factory, app):
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        app_factory(LOG_FORMAT="xml")
