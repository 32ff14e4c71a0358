"""gunicorn.conf.py: its settings from the environment, the real server loading it, and rate limits
shared by separate server processes through Redis (issue 12: 4 workers let 20 opinions through a
limit of "5 per minute")."""

from __future__ import annotations

import json
import os
import runpy
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest

from portal import PROJECT_ROOT
from tests.api.test_comments import OPINION, URL
from tests.conftest import _free_port
from tests.drafts.test_views import make_draft

CONFIG = PROJECT_ROOT / "gunicorn.conf.py"


def load_config(monkeypatch, **environ) -> dict:
    for name in list(os.environ):
        if name.startswith("PORTAL_"):
            monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONFIG))


def test_defaults_are_one_process_with_threads_on_loopback(monkeypatch):
    config = load_config(monkeypatch)
    assert config["bind"] == ["127.0.0.1:8000"]
    assert (config["workers"], config["threads"], config["worker_class"]) == (1, 8, "gthread")
    assert config["timeout"] == 120


def test_size_and_address_come_from_the_environment(monkeypatch):
    config = load_config(
        monkeypatch,
        PORTAL_BIND="10.0.0.5:8000, unix:/run/portal/web.sock",
        PORTAL_WEB_WORKERS="3",
        PORTAL_WEB_THREADS="4",
    )
    assert config["bind"] == ["10.0.0.5:8000", "unix:/run/portal/web.sock"]
    assert (config["workers"], config["threads"]) == (3, 4)


def test_shared_rate_limits_allow_a_process_per_core_by_default(monkeypatch):
    config = load_config(monkeypatch, PORTAL_RATELIMIT_STORAGE_URI="redis://redis:6379/0")
    assert config["workers"] == (os.cpu_count() or 1)


@pytest.mark.parametrize("value", ["0", "four", "-2", "1.5"])
def test_a_bad_size_stops_with_a_clear_message(monkeypatch, value):
    with pytest.raises(SystemExit, match="PORTAL_WEB_WORKERS must be a whole number"):
        load_config(monkeypatch, PORTAL_WEB_WORKERS=value)


class Server:
    """gunicorn with the repo's gunicorn.conf.py on a free loopback port, its own instance folder
    and only the PORTAL_* settings given."""

    def __init__(
        self, instance: Path, database_url: str, app: str | None = None, **settings: str
    ) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        instance.mkdir(parents=True, exist_ok=True)
        self.log = instance / "gunicorn.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        environ.update(
            PORTAL_BIND=f"127.0.0.1:{self.port}",
            PORTAL_DATABASE_URL=database_url,
            PORTAL_SECRET_KEY="test-secret",
            PORTAL_PUBLIC_URL=self.url,
            **settings,
        )
        app = app or f"portal:create_app(instance_path={str(instance)!r})"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", str(CONFIG), app],
                cwd=PROJECT_ROOT,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        # Generous: each process imports the app (about 3 s of CPU), on two shared cores.
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):  # refused, reset, or not answered yet
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer at {self.url}:\n{self.output()}")
            time.sleep(0.1)

    def post(self, path: str, body: dict) -> int:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def servers(app, migrated, tmp_path):
    """Start servers; each one is stopped before the test's tables are emptied."""
    with ExitStack() as stack:

        def start(count: int, **settings: str) -> list[Server]:
            started = []
            for n in range(count):
                server = Server(tmp_path / f"server{n}", migrated, **settings)
                stack.callback(server.stop)
                started.append(server)
            # All are told to stop at once, then waited for (callbacks run last first).
            stack.callback(lambda: [s.process.send_signal(signal.SIGINT) for s in started])
            for server in started:
                server.wait_ready()
            return started

        yield start


@pytest.mark.parametrize(
    ("workers", "storage", "warned"),
    [("2", "memory://", True), ("1", "memory://", False), ("2", "redis://127.0.0.1:1/0", False)],
)
def test_gunicorn_warns_at_start_when_limits_would_multiply(tmp_path, workers, storage, warned):
    server = Server(
        tmp_path,
        "sqlite://",
        app="tests.deploy.tiny_app:create()",
        PORTAL_WEB_WORKERS=workers,
        TINY_STORAGE=storage,
    )
    try:
        server.wait_ready()
        deadline = time.monotonic() + 30
        # The first worker to start says how the limits are counted, once, whatever it says.
        while "Rate limits are" not in server.output():
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        with urllib.request.urlopen(server.url + "/", timeout=10) as response:
            assert response.read() == b"ok"
    finally:
        server.stop()
    log = server.output()
    assert "Using worker: gthread" in log
    assert log.count("Rate limits are") == 1, log
    if warned:
        assert "[WARNING] Rate limits are multiplied by 2" in log
    else:
        scheme = storage.partition("://")[0]
        assert f"[INFO] Rate limits are counted in {scheme} storage, not multiplied" in log


def test_two_servers_share_one_limit_through_redis(servers, redis_url):
    """Two gunicorn servers (the repository's config, the real app) answer in turn, as a load
    balancer hands requests to app hosts: the 6th opinion from one address within a minute is
    refused whichever answers. (With in-memory counters each process would accept 5.)"""
    make_draft()
    pair = servers(
        2,
        PORTAL_RATELIMIT_STORAGE_URI=redis_url,
        PORTAL_COMMENT_RATE_LIMIT="5 per minute",
        PORTAL_WEB_WORKERS="1",
        PORTAL_WEB_THREADS="2",
    )
    statuses = [
        pair[n % 2].post(URL, {**OPINION, "body": f"第{n}条意见：建议增加适用范围。"})
        for n in range(6)
    ]
    assert statuses == [201] * 5 + [429]
    for server in pair:
        assert "[INFO] Rate limits are counted in redis storage" in server.output()
        assert "redis://" not in server.output()  # the URI may hold a password
