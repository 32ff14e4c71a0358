"""The single indexer (portal/search/indexer.py): catches up, stops on its event, survives
errors, builds a missing index, and a second one waits for the first."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import delete

from portal.extensions import db
from portal.models import IndexJob
from portal.search import index, indexer
from portal.search.backend import WhooshBackend
from portal.search.indexer import LOCK_FILE, index_lag, run_indexer
from portal.search.query import SearchParams, search


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def no_index(app) -> None:
    """As before the indexer's first start (the test app has an empty index)."""
    shutil.rmtree(app.config["INDEX_DIR"])


def in_sync() -> bool:
    return index.index_exists() and index.status()["in_sync"]


def found(q: str) -> list[int]:
    return search(SearchParams(q=q), per_page=100).ids


@pytest.fixture
def start_indexer(app):
    """Start run_indexer threads on the app; every one is stopped and joined afterwards."""
    running: list[tuple[threading.Event, threading.Thread]] = []

    def start(name: str = "indexer", interval: float = 0.05):
        stop = threading.Event()
        thread = threading.Thread(
            target=run_indexer, args=(app, stop, interval), name=name, daemon=True
        )
        thread.start()
        running.append((stop, thread))
        return stop, thread

    yield start
    for stop, _ in running:
        stop.set()
    for _, thread in running:
        thread.join(timeout=10)
        assert not thread.is_alive()


def test_the_indexer_builds_the_index_catches_up_and_stops(app, add_comment, start_indexer):
    first = add_comment("垃圾分类设施应当就近设置。")
    no_index(app)
    stop, thread = start_indexer()
    assert wait_for(in_sync)
    assert found("垃圾分类") == [first.id]

    later = [add_comment(f"第{n}条：物业费应当公示。") for n in range(3)]
    assert wait_for(in_sync)
    assert sorted(found("物业费")) == [c.id for c in later]
    assert index_lag() == {"pending": 0, "oldest_seconds": 0.0}

    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    add_comment("停止之后的意见。")
    time.sleep(0.2)
    assert index.status()["pending"] == 1  # nobody indexes any more


def test_a_missing_index_is_built_from_the_database_not_left_empty(app, add_comment, start_indexer):
    comments = [add_comment(f"意见{n}：扬尘治理。") for n in range(3)]
    # Their jobs are gone (applied to an index that was then lost, say).
    db.session.execute(delete(IndexJob))
    db.session.commit()
    no_index(app)
    start_indexer()
    assert wait_for(in_sync)
    assert sorted(found("扬尘")) == [c.id for c in comments]


def test_an_index_with_an_old_schema_is_rebuilt(app, add_comment, index_now, start_indexer):
    index_now()
    with open(os.path.join(app.config["INDEX_DIR"], "portal-schema-version"), "w") as fh:
        fh.write("0\n")
    comment = add_comment("旧格式的索引。")
    start_indexer()
    assert wait_for(in_sync)
    assert found("旧格式") == [comment.id]


def test_the_indexer_logs_an_error_and_retries(
    app, add_comment, start_indexer, monkeypatch, caplog
):
    real = WhooshBackend.apply_pending
    failures = []

    def flaky(self, *args, **kwargs):
        if not failures:
            failures.append(1)
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(WhooshBackend, "apply_pending", flaky)
    index.open_index()  # an index exists: the first round goes to apply_pending
    comment = add_comment("磁盘满了之后重试。")
    with caplog.at_level(logging.ERROR, logger="portal.search.indexer"):
        start_indexer()
        assert wait_for(in_sync)
    assert failures == [1]
    assert "search indexer failed" in caplog.text and "disk full" in caplog.text
    assert found("重试") == [comment.id]


def test_a_second_indexer_waits_for_the_first(app, add_comment, start_indexer, monkeypatch):
    polls: list[str] = []
    real = indexer._poll

    def counted():
        polls.append(threading.current_thread().name)
        real()

    monkeypatch.setattr(indexer, "_poll", counted)
    first_stop, first = start_indexer("first")
    assert wait_for(lambda: "first" in polls)
    _, second = start_indexer("second")
    time.sleep(0.5)
    assert second.is_alive() and "second" not in polls

    # Another process cannot take the lock either.
    path = os.path.join(app.config["INDEX_DIR"], LOCK_FILE)
    probe = (
        "import fcntl, sys\n"
        "f = open(sys.argv[1])\n"
        "try:\n"
        "    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n"
        "    sys.exit(3)\n"
    )
    assert subprocess.run([sys.executable, "-c", probe, path], timeout=30).returncode == 3

    first_stop.set()
    first.join(timeout=5)
    assert wait_for(lambda: "second" in polls)  # it takes over
    comment = add_comment("接手之后的意见。")
    assert wait_for(in_sync)
    assert found("接手") == [comment.id]


def test_an_indexer_waiting_for_the_lock_stops_on_its_event(app, start_indexer):
    start_indexer("first")
    lock = os.path.join(app.config["INDEX_DIR"], LOCK_FILE)
    assert wait_for(lambda: os.path.exists(lock) and os.path.getsize(lock) > 0)  # pid written
    stop, waiting = start_indexer("second")
    time.sleep(0.2)
    stop.set()
    waiting.join(timeout=5)
    assert not waiting.is_alive()


def test_index_lag_counts_pending_jobs_and_the_oldest_age(app, add_comment, index_now):
    assert index_lag() == {"pending": 0, "oldest_seconds": 0.0}
    add_comment("一")
    add_comment("二")
    time.sleep(0.05)
    db.session.commit()  # a fresh snapshot
    lag = index_lag()
    assert lag["pending"] == 2 and 0.05 <= lag["oldest_seconds"] < 60
    index_now()
    db.session.commit()
    assert index_lag() == {"pending": 0, "oldest_seconds": 0.0}
