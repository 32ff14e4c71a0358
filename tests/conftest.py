"""Shared fixtures: an app on a migrated database (SQLite, or PostgreSQL when DATABASE_URL is
set), a client, a CLI runner, factories for users, and a login helper."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db
from portal.models import Role, User
from portal.search.index import open_index

PASSWORD = "correct-horse-battery"


def _postgres_database(server_url: str) -> Iterator[str]:
    """Create a throw-away database on the given server for this test session."""
    import psycopg

    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"portal_test_{secrets.token_hex(4)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    server = os.environ.get("DATABASE_URL")
    if server:
        yield from _postgres_database(server)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def make_config(database_url: str, instance: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INDEX_DIR": os.path.join(instance, "index"),
        "UPLOAD_DIR": os.path.join(instance, "uploads"),
        "JOB_DIR": os.path.join(instance, "jobs"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Jobs run at once in the process that queues them (tests/jobs runs them queued too).
        "JOBS_IMMEDIATE": True,
        "COMMENT_MIN_SECONDS": 0,
        "SERVER_NAME": None,
        # Cheap hashing: the tests create many accounts; scrypt's cost is not under test.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def migrated(database_url, tmp_path_factory) -> str:
    """Build the schema once per session, the only way it is ever built: by the migrations."""
    from flask_migrate import upgrade

    app = create_app(make_config(database_url, str(tmp_path_factory.mktemp("instance"))))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _empty_all_tables() -> None:
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        # RESTART IDENTITY keeps ids small and predictable, as on SQLite after a DELETE.
        names = ", ".join(t.name for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # On the connection: a wipe is not a change the search outbox should follow.
        connection = db.session.connection()
        for table in reversed(tables):
            connection.execute(delete(table))
    db.session.commit()


# Search tests that run against every engine the database offers: Whoosh always, and the
# PostgreSQL backend (portal/search/pg.py) when DATABASE_URL is PostgreSQL.
ENGINE_TESTS = (
    "tests/search/test_query.py",
    "tests/search/test_pg",
    "tests/api/test_search.py",
    "tests/review/test_search_page.py",
)


def search_engines() -> list[str]:
    url = os.environ.get("DATABASE_URL", "")
    return ["whoosh", "postgres"] if url.startswith("postgres") else ["whoosh"]


def pytest_generate_tests(metafunc):
    path = metafunc.definition.path.relative_to(metafunc.config.rootpath).as_posix()
    if "search_backend" in metafunc.fixturenames and path.startswith(ENGINE_TESTS):
        engines = search_engines()
        if len(engines) > 1:
            metafunc.parametrize("search_backend", engines, indirect=True)


@pytest.fixture
def search_backend(request, monkeypatch) -> str:
    """The app's SEARCH_BACKEND: whoosh unless the test is parametrized over the engines; on
    another engine, the test module's direct calls of the Whoosh functions (search,
    apply_pending, ...) go through get_backend() instead."""
    name = getattr(request, "param", "whoosh")
    if name != "whoosh":
        from tests.search.engines import route_to_backend

        route_to_backend(request.module, monkeypatch)
    return name


@pytest.fixture
def app_factory(migrated, tmp_path, search_backend) -> Iterator[Callable[..., Flask]]:
    """Make apps on the session's database; every table is emptied after the test."""
    made: list[Flask] = []

    def make(**overrides) -> Flask:
        overrides = {"SEARCH_BACKEND": search_backend, **overrides}
        app = create_app(make_config(migrated, str(tmp_path), **overrides))
        # An empty search index, as the worker's indexer creates at start: requests never
        # create it (a missing index is a 503, tests/search/test_outbox.py).
        open_index(app)
        made.append(app)
        return app

    yield make
    if made:
        with made[0].app_context():
            db.session.remove()
            _empty_all_tables()
        for app in made:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def app(app_factory) -> Iterator[Flask]:
    """The app that serves the test client's requests.

    Test code runs in the context of a second app on the same database: a request must never
    share the test's app context, or `g` (Flask-Login's user, Flask-Babel's locale) would leak
    from one request into the next, which cannot happen in production.
    """
    app = app_factory()
    with app_factory().app_context():
        yield app


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_point(app):
    from portal.models import LiaisonPoint, PointLevel

    counter = iter(range(1, 10_000))

    def make(code: str | None = None, **fields) -> LiaisonPoint:
        n = next(counter)
        point = LiaisonPoint(
            code=code or f"T-{n:03d}",
            name=fields.pop("name", f"测试联系点{n}"),
            level=fields.pop("level", PointLevel.municipal),
            **fields,
        )
        db.session.add(point)
        db.session.commit()
        return point

    return make


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(role: Role | str = Role.citizen, *, point=None, email: str | None = None) -> User:
        n = next(counter)
        user = User(
            role=Role(role),
            email=email or f"user{n}@example.org",
            display_name=f"用户{n}",
            liaison_point=point,
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client) -> Callable[[User], None]:
    def do_login(user: User) -> None:
        response = client.post("/login", data={"login": user.email, "password": PASSWORD})
        assert response.status_code == 302, "login failed"

    return do_login


@pytest.fixture
def index_now(app) -> Callable[[], object]:
    """Do the indexer's work now (requests never write the index): apply every pending
    outbox job, creating the index if missing; returns the backend's report."""
    from portal.search import get_backend

    def run():
        return get_backend().apply_pending(wait=True)

    return run


@pytest.fixture
def demo(app):
    """The demo data (three drafts, 27 points, four accounts), loaded through the service."""
    from portal.demo.seed import seed_demo

    report = seed_demo()
    db.session.commit()
    return report


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[str]:
    """A Redis for the suite's Redis-backed parts: PORTAL_TEST_REDIS_URL (.ci/run starts one),
    else a throw-away redis-server on a free loopback port, without persistence, stopped after
    the session. Outside CI a missing redis-server skips with a message; in CI it fails."""
    import shutil
    import subprocess
    import time

    import redis

    url = os.environ.get("PORTAL_TEST_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        message = (
            "redis-server is missing: apt-get install redis-server, or set PORTAL_TEST_REDIS_URL"
        )
        if os.environ.get("CI"):
            pytest.fail(message + " (the Redis tests must run in CI)")
        pytest.skip(message)
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            *(binary, "--bind", "127.0.0.1", "--port", str(port)),
            *("--save", "", "--appendonly", "no"),
            *("--dir", str(folder), "--logfile", str(folder / "redis.log")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "redis.log").read_text(errors="replace")[-2000:]
                    pytest.fail(f"redis-server did not start on port {port}:\n{log}")
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server) -> str:
    """The test Redis, emptied first (counters of an earlier test would still be in their
    window): point PORTAL_TEST_REDIS_URL only at a Redis the tests may empty."""
    import redis

    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    return redis_server
