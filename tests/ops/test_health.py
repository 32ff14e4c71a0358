"""/healthz and /readyz: JSON for machines, 503 with a clear reason for each failed check."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from portal.extensions import db
from portal.models import IndexAction, IndexJob, utcnow
from portal.ops import health


def test_healthz_answers_without_session_or_redirect(app_factory):
    app = app_factory(FORCE_HTTPS=True)
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    # The control: people's pages are still sent to HTTPS.
    assert client.get("/").status_code == 302


def test_healthz_sends_no_query(client):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(Engine, "before_cursor_execute", count)
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert statements == []
    # The control: a page that does read is seen.
    event.listen(Engine, "before_cursor_execute", count)
    try:
        client.get("/")
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert statements


def test_healthz_does_not_need_the_database(app, app_factory, tmp_path):
    broken = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.db")
    client = broken.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert "database unreachable" in body["checks"]["database"]["detail"]
    assert body["checks"]["migrations"]["detail"] == "not checked: no database"


def test_readyz_is_ready_on_a_current_database(client):
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ready" and body["reasons"] == []
    assert set(body["checks"]) == {"database", "migrations", "search_index", "job_queue"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.fixture
def schema_at(app):
    """Pretend the database is at another revision; put the real one back afterwards."""
    real = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    db.session.commit()

    def set_revision(revision: str) -> None:
        db.session.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        db.session.commit()

    yield set_revision
    set_revision(real)


def test_readyz_fails_when_migrations_are_behind(client, schema_at):
    schema_at("0003")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["migrations"]["ok"] is False
    detail = body["checks"]["migrations"]["detail"]
    assert detail.startswith("database at 0003, code expects ")
    assert "flask db upgrade" in detail
    assert body["reasons"] == [f"migrations: {detail}"]


def test_readyz_fails_when_the_database_is_ahead_of_the_code(client, schema_at):
    schema_at("9999_future")
    body = client.get("/readyz").get_json()
    assert "unknown to this code" in body["checks"]["migrations"]["detail"]


def test_readyz_fails_when_the_index_lags(app_factory, app):
    lagging = app_factory(READY_MAX_INDEX_LAG=60)
    db.session.add(
        IndexJob(
            comment_id=1, action=IndexAction.upsert, created_at=utcnow() - timedelta(minutes=5)
        )
    )
    db.session.commit()
    response = lagging.test_client().get("/readyz")
    assert response.status_code == 503
    check = response.get_json()["checks"]["search_index"]
    assert check["ok"] is False
    assert re.match(r"index lags: 1 pending, oldest 30\d s old \(bound 60 s\)", check["detail"])
    # A newer job alone is within the bound.
    db.session.execute(db.delete(IndexJob))
    db.session.add(IndexJob(comment_id=1, action=IndexAction.upsert, created_at=utcnow()))
    db.session.commit()
    assert lagging.test_client().get("/readyz").status_code == 200


def test_readyz_fails_when_the_job_queue_is_unreachable(client, monkeypatch):
    import portal.jobs.queue

    monkeypatch.setattr(portal.jobs.queue, "queue_reachable", lambda: False)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reasons"] == ["job_queue: job queue unreachable (JOBS_URL)"]


def test_a_build_without_a_job_queue_reports_it_not_configured(app, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "portal.jobs.queue", None)  # import now raises
    checks = {check.name: check for check in health.readiness()}
    assert checks["job_queue"].ok and checks["job_queue"].detail == "not configured"


def test_probes_are_not_rate_limited(app_factory, app):
    limited = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute")
    client = limited.test_client()
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
    # The control: the same default limit does stop an ordinary page.
    statuses = [client.get("/feed.atom").status_code for _ in range(3)]
    assert statuses[-1] == 429
